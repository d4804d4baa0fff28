package dev.outpost.edge.engine;

import static dev.outpost.edge.engine.EventFields.DOUBLE;
import static dev.outpost.edge.engine.EventFields.FALSE;
import static dev.outpost.edge.engine.EventFields.LONG;
import static dev.outpost.edge.engine.EventFields.MISSING;
import static dev.outpost.edge.engine.EventFields.STRING;
import static dev.outpost.edge.engine.EventFields.TRUE;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import java.util.Arrays;
import java.util.Comparator;

/**
 * A compiled condition: a node of a rule's predicate tree, testing the slots of {@link EventFields}.
 *
 * <p>Invariants: {@link #test} never throws and never allocates (a regex condition creates its matcher once per
 * evaluator); a leaf is false when its field is missing or holds a value of another kind than its operand (so {@code
 * ne} and {@code not_in} need the field present and of the operand's kind); {@code not} is plain negation. Numbers
 * compare by value whether written as integers or not: a long and a double are compared exactly.
 */
abstract sealed class Predicate {
    /** Relative cost of a test: cheaper conditions run first, so a rule that cannot fire stops early. */
    abstract int cost();

    abstract boolean test(EventFields f);

    /** A numeric operand: exact as a long when it is a whole number within 64 bits. */
    record Num(long whole, double value, boolean integral) {
        static Num of(Object n) {
            return n instanceof Long l ? new Num(l, l, true) : new Num(0, ((Number) n).doubleValue(), false);
        }
    }

    static boolean isNumber(EventFields f, int slot) {
        byte k = f.kinds[slot];
        return k == LONG || k == DOUBLE;
    }

    /** Compares a number slot with an operand: negative, zero or positive. */
    static int compare(EventFields f, int slot, Num c) {
        if (f.kinds[slot] == LONG) {
            long v = f.longs[slot];
            return c.integral ? Long.compare(v, c.whole) : compare(v, c.value);
        }
        double x = f.doubles[slot];
        return c.integral ? -compare(c.whole, x) : x < c.value ? -1 : x > c.value ? 1 : 0;
    }

    /** Exact comparison of a long with a finite double (a cast either way would round beyond 2^53). */
    static int compare(long v, double d) {
        if (d >= 0x1p63) {
            return -1;
        }
        if (d < -0x1p63) {
            return 1;
        }
        double floor = Math.floor(d);
        long whole = (long) floor; // exact: floor is a whole number within the long range
        if (v != whole) {
            return v < whole ? -1 : 1;
        }
        return floor == d ? 0 : -1;
    }

    enum Order {
        EQ,
        NE,
        GT,
        GTE,
        LT,
        LTE
    }

    /** exists: the field is present (with any value, null included) or, with {@code false}, absent. */
    static final class Exists extends Predicate {
        final int slot;
        final boolean expected;

        Exists(int slot, boolean expected) {
            this.slot = slot;
            this.expected = expected;
        }

        @Override
        int cost() {
            return 1;
        }

        @Override
        boolean test(EventFields f) {
            return (f.kinds[slot] != MISSING) == expected;
        }
    }

    /** eq, ne, gt, gte, lt, lte with a number. */
    static final class Compare extends Predicate {
        final int slot;
        final Order order;
        final Num operand;

        Compare(int slot, Order order, Num operand) {
            this.slot = slot;
            this.order = order;
            this.operand = operand;
        }

        @Override
        int cost() {
            return 1;
        }

        @Override
        boolean test(EventFields f) {
            if (!isNumber(f, slot)) {
                return false;
            }
            int c = compare(f, slot, operand);
            return switch (order) {
                case EQ -> c == 0;
                case NE -> c != 0;
                case GT -> c > 0;
                case GTE -> c >= 0;
                case LT -> c < 0;
                case LTE -> c <= 0;
            };
        }
    }

    /** between [low, high], both inclusive. */
    static final class Between extends Predicate {
        final int slot;
        final Num low;
        final Num high;

        Between(int slot, Num low, Num high) {
            this.slot = slot;
            this.low = low;
            this.high = high;
        }

        @Override
        int cost() {
            return 1;
        }

        @Override
        boolean test(EventFields f) {
            return isNumber(f, slot) && compare(f, slot, low) >= 0 && compare(f, slot, high) <= 0;
        }
    }

    /** eq or ne with a string, compared char by char. */
    static final class StringEquals extends Predicate {
        final int slot;
        final char[] operand;
        final boolean negated;

        StringEquals(int slot, String operand, boolean negated) {
            this.slot = slot;
            this.operand = operand.toCharArray();
            this.negated = negated;
        }

        @Override
        int cost() {
            return 2;
        }

        @Override
        boolean test(EventFields f) {
            return f.kinds[slot] == STRING && f.stringEquals(slot, operand) != negated;
        }
    }

    /** eq or ne with a boolean; in and not_in with booleans. */
    static final class BooleanIn extends Predicate {
        final int slot;
        final boolean acceptsTrue;
        final boolean acceptsFalse;
        final boolean negated;

        BooleanIn(int slot, boolean acceptsTrue, boolean acceptsFalse, boolean negated) {
            this.slot = slot;
            this.acceptsTrue = acceptsTrue;
            this.acceptsFalse = acceptsFalse;
            this.negated = negated;
        }

        @Override
        int cost() {
            return 1;
        }

        @Override
        boolean test(EventFields f) {
            byte k = f.kinds[slot];
            return (k == TRUE || k == FALSE) && (k == TRUE ? acceptsTrue : acceptsFalse) != negated;
        }
    }

    /** in and not_in with strings: an open-addressing table probed with the slot's chars (no String per event). */
    static final class StringIn extends Predicate {
        final int slot;
        final char[][] keys;
        final int[] hashes;
        final int mask;
        final boolean negated;

        StringIn(int slot, Iterable<String> values, int count, boolean negated) {
            this.slot = slot;
            this.negated = negated;
            int size = Integer.highestOneBit(Math.max(count, 1) * 4 - 1) << 1; // load factor at most 1/2
            keys = new char[size][];
            hashes = new int[size];
            mask = size - 1;
            for (String v : values) {
                int i = spread(v.hashCode()) & mask;
                while (keys[i] != null && !Arrays.equals(keys[i], v.toCharArray())) {
                    i = (i + 1) & mask;
                }
                keys[i] = v.toCharArray();
                hashes[i] = v.hashCode();
            }
        }

        private static int spread(int h) {
            return h ^ (h >>> 16);
        }

        @Override
        int cost() {
            return 3;
        }

        @Override
        boolean test(EventFields f) {
            if (f.kinds[slot] != STRING) {
                return false;
            }
            return contains(f) != negated;
        }

        private boolean contains(EventFields f) {
            if (f.lengths[slot] > EventFields.STRING_CHARS_MAX) {
                return false; // longer than any operand
            }
            int h = f.stringHash(slot);
            for (int i = spread(h) & mask; keys[i] != null; i = (i + 1) & mask) {
                if (hashes[i] == h && f.stringEquals(slot, keys[i])) {
                    return true;
                }
            }
            return false;
        }
    }

    /** in and not_in with numbers: whole operands sorted as longs, the others as doubles. */
    static final class NumberIn extends Predicate {
        final int slot;
        final long[] wholes;
        final double[] fractions;
        final boolean negated;

        NumberIn(int slot, long[] wholes, double[] fractions, boolean negated) {
            this.slot = slot;
            this.wholes = wholes.clone();
            this.fractions = fractions.clone();
            Arrays.sort(this.wholes);
            Arrays.sort(this.fractions);
            this.negated = negated;
        }

        @Override
        int cost() {
            return 2;
        }

        @Override
        boolean test(EventFields f) {
            return isNumber(f, slot) && contains(f) != negated;
        }

        private boolean contains(EventFields f) {
            if (f.kinds[slot] == LONG) {
                return Arrays.binarySearch(wholes, f.longs[slot]) >= 0; // a fraction never equals a whole number
            }
            double x = f.doubles[slot];
            if (x == Math.rint(x) && x >= -0x1p63 && x < 0x1p63) {
                return Arrays.binarySearch(wholes, (long) x) >= 0;
            }
            return Arrays.binarySearch(fractions, x) >= 0;
        }
    }

    /**
     * regex: RE2 semantics (linear time in the input, no backtracking), unanchored search (anchor with ^ and $). A string
     * longer than {@code inputCharsMax} does not match and is counted ({@link Evaluator#regexInputsTooLong()}).
     */
    static final class Regex extends Predicate {
        final int slot;
        final Pattern pattern;
        final int inputCharsMax;
        /** This condition's matcher in {@link EventFields#matchers}: unique within a rule set. */
        final int id;
        /** What every input that matches starts with ({@link RegexPrefix}); empty for most patterns. */
        private final char[] prefix;

        Regex(int slot, Pattern pattern, int inputCharsMax, int id) {
            this.slot = slot;
            this.pattern = pattern;
            this.inputCharsMax = inputCharsMax;
            this.id = id;
            this.prefix = RegexPrefix.of(pattern.pattern()).toCharArray();
        }

        @Override
        int cost() {
            return 20;
        }

        @Override
        boolean test(EventFields f) {
            if (f.kinds[slot] != STRING) {
                return false;
            }
            if (f.lengths[slot] > inputCharsMax) {
                f.regexInputsTooLong++;
                return false;
            }
            int n = prefix.length;
            if (n > 0 && (f.lengths[slot] < n || !Arrays.equals(f.chars[slot], 0, n, prefix, 0, n))) {
                return false; // cannot match: the regex engine need not look
            }
            CharSequence text = f.text(slot); // the slot's one Text, now over this event's chars
            Matcher m = f.matchers[id];
            if (m == null) {
                m = f.matchers[id] = pattern.matcher(text);
            } else {
                m.reset(); // the matcher already reads that Text; reset(text) would wrap it anew
            }
            return m.find();
        }
    }

    /**
     * anomaly: the field's z-score against its detector's moving mean and variance for the rule's group exceeds
     * {@code zMin}. The detector observes every event of the rule's stream ({@link #observe}, called by the rule before
     * any condition is tested, so early stops never skip it); {@link #test} reads the score that left.
     */
    static final class Anomaly extends Predicate {
        final int slot;
        final int groupSlot;
        final String detector;
        final double zMin;
        final double alpha;
        final long warmup;
        /** This detector's score in {@link EventFields#zScores}: unique within a rule set. */
        final int id;

        Anomaly(int slot, int groupSlot, String detector, double zMin, double alpha, long warmup, int id) {
            this.slot = slot;
            this.groupSlot = groupSlot;
            this.detector = detector;
            this.zMin = zMin;
            this.alpha = alpha;
            this.warmup = warmup;
            this.id = id;
        }

        @Override
        int cost() {
            return 1; // scored already by observe
        }

        /** Scores the event's value (NaN when the field is not a number) and folds it into the detector. */
        void observe(EventFields f) {
            double x = switch (f.kinds[slot]) {
                case LONG -> f.longs[slot];
                case DOUBLE -> f.doubles[slot];
                default -> Double.NaN;
            };
            if (Double.isNaN(x)) {
                f.zScores[id] = Double.NaN;
                return;
            }
            String group = groupSlot < 0 ? null : f.groupKey(groupSlot);
            if (group == null) {
                group = "";
            } else if (group.length() > Alerting.GROUP_CHARS_MAX) {
                group = group.substring(0, Alerting.GROUP_CHARS_MAX);
            }
            f.zScores[id] = f.detectors.observe(detector, group, x, alpha, warmup);
        }

        @Override
        boolean test(EventFields f) {
            return f.zScores[id] > zMin; // false for NaN: no score while warming up or without a number
        }
    }

    /** all, any and not. Children run cheapest first: the result of and/or does not depend on the order. */
    static final class Group extends Predicate {
        static final int ALL = 0;
        static final int ANY = 1;
        static final int NOT = 2;

        /** ALL, ANY or NOT. */
        final int kind;

        final Predicate[] children;
        final int cost;

        Group(String op, Predicate[] children) {
            this.kind = switch (op) {
                case "all" -> ALL;
                case "any" -> ANY;
                default -> NOT;
            };
            this.children = children.clone();
            Arrays.sort(this.children, Comparator.comparingInt(Predicate::cost));
            this.cost = Arrays.stream(children).mapToInt(Predicate::cost).sum();
        }

        @Override
        int cost() {
            return cost;
        }

        @Override
        boolean test(EventFields f) {
            switch (kind) {
                case ALL -> {
                    for (Predicate c : children) {
                        if (!c.test(f)) {
                            return false;
                        }
                    }
                    return true;
                }
                case ANY -> {
                    for (Predicate c : children) {
                        if (c.test(f)) {
                            return true;
                        }
                    }
                    return false;
                }
                default -> {
                    return !children[0].test(f);
                }
            }
        }
    }
}

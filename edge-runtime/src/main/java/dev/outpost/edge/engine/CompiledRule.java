package dev.outpost.edge.engine;

import dev.outpost.edge.ingest.EventParser;
import dev.outpost.edge.streams.StreamSchema;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * A rule checked and compiled once: its top-level conditions as predicate trees over a stream's {@link FieldTree}
 * slots, with their weights, and the order to test them in.
 *
 * <p>Design note. Conditions are tested cheapest first (then heaviest first), and testing stops as soon as the rule
 * cannot fire: with a threshold, when the weights still possible no longer exceed it; without, at the first condition
 * that fails. Most events fire nothing, so most evaluations end after a comparison or two. Whether a rule fires is then
 * decided on the weights of the conditions that held summed in declaration order, so the result never depends on the
 * testing order (the early stop keeps a margin of {@link #MARGIN} of the total weight for the rounding of sums).
 * Invariants: a compiled rule is immutable and shared by every evaluator; {@link #fires} never throws and allocates
 * nothing.
 */
final class CompiledRule {
    /** The early stop's margin for rounding, as a fraction of the total weight (sums of 64 doubles err far less). */
    static final double MARGIN = 1e-9;

    private static final String[] OPS = {
        "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists", "between", "regex", "anomaly", "all", "any",
        "not"
    };

    final RuleSpec spec;
    private final Predicate[] conditions;
    private final double[] weights;
    private final String[] labels;
    private final int[] order;
    private final double total;
    private final int groupSlot;
    private final Predicate.Anomaly[] detectors;
    /** The threshold unboxed (NaN without one), and where the early stop gives up: read on every event. */
    private final double threshold;

    private final double stop;

    private CompiledRule(RuleSpec spec, Predicate[] conditions, int groupSlot) {
        this.spec = spec;
        this.conditions = conditions;
        this.groupSlot = groupSlot;
        this.detectors = Arrays.stream(conditions)
                .filter(Predicate.Anomaly.class::isInstance)
                .map(Predicate.Anomaly.class::cast)
                .toArray(Predicate.Anomaly[]::new);
        int n = conditions.length;
        weights = new double[n];
        labels = new String[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            weights[i] = spec.conditions().get(i).weight();
            labels[i] = String.valueOf(i + 1);
            sum += weights[i];
        }
        total = sum;
        threshold = spec.threshold() == null ? Double.NaN : spec.threshold();
        stop = threshold - MARGIN * Math.max(1, total);
        order = IntStream.range(0, n)
                .boxed()
                .sorted(Comparator.<Integer>comparingInt(i -> conditions[i].cost())
                        .thenComparingDouble(i -> -weights[i]))
                .mapToInt(Integer::intValue)
                .toArray();
    }

    /** Checks a rule without a schema (what {@link RuleSpec#parse} refuses). */
    static void check(RuleSpec spec) {
        compile(spec, null, new FieldTree(), () -> 0, () -> 0);
    }

    /**
     * Checks and compiles a rule; RuleRefusal naming the condition and field at fault.
     *
     * @param schema the schema of the rule's stream, or null
     * @param fields the stream's field tree, which gets the slots of the rule's fields
     * @param regexIds gives each regex condition its matcher's index, unique in the rule set
     * @param detectorIds gives each anomaly condition its score's index, unique in the rule set
     */
    static CompiledRule compile(
            RuleSpec spec, StreamSchema schema, FieldTree fields, IntSupplier regexIds, IntSupplier detectorIds) {
        String name = spec.name();
        RuleSpec.checkName(name);
        if (spec.stream() == null || !EventParser.validName(spec.stream())) {
            throw new RuleRefusal(
                    name,
                    null,
                    "stream",
                    "stream must be 1-" + EventParser.STREAM_CHARS_MAX + " characters of A-Z a-z 0-9 . _ -");
        }
        if (!RuleSpec.SEVERITIES.contains(spec.severity())) {
            throw new RuleRefusal(
                    name, null, "severity", "severity must be one of " + String.join(", ", RuleSpec.SEVERITIES));
        }
        if (spec.cooldownMillis() < 0 || spec.cooldownMillis() > RuleSpec.COOLDOWN_MILLIS_MAX) {
            throw new RuleRefusal(
                    name,
                    null,
                    "cooldown",
                    "cooldown must be from 0 to 7d (" + RuleSpec.COOLDOWN_MILLIS_MAX + " milliseconds)");
        }
        List<ConditionSpec> specs = spec.conditions();
        if (specs.isEmpty() || specs.size() > RuleSpec.CONDITIONS_MAX) {
            throw new RuleRefusal(
                    name, null, "conditions", "a rule has 1 to " + RuleSpec.CONDITIONS_MAX + " top-level conditions");
        }
        Conditions c = new Conditions(spec, schema, fields, regexIds, detectorIds);
        Predicate[] top = new Predicate[specs.size()];
        for (int i = 0; i < top.length; i++) {
            top[i] = c.compile(specs.get(i), String.valueOf(i + 1), 1);
        }
        CompiledRule rule = new CompiledRule(spec, top, c.groupSlot());
        rule.checkThreshold();
        return rule;
    }

    private void checkThreshold() {
        Double t = spec.threshold();
        if (t == null) {
            return;
        }
        if (!Double.isFinite(t) || t < 0) {
            throw new RuleRefusal(spec.name(), null, "threshold", "threshold must be a finite number of at least 0");
        }
        if (t >= total) {
            throw new RuleRefusal(
                    spec.name(),
                    null,
                    "threshold",
                    "the rule can never fire: the weights sum to " + total
                            + ", and the score must be greater than the threshold " + t);
        }
    }

    /** Whether the rule fires on the event in {@code f}; when it does, {@code f.held} says which conditions held. */
    boolean fires(EventFields f) {
        for (Predicate.Anomaly d : detectors) {
            d.observe(f); // every event, before any early stop
        }
        long held = 0;
        if (Double.isNaN(threshold)) {
            for (int i : order) {
                if (!conditions[i].test(f)) {
                    return false;
                }
                held |= 1L << i;
            }
            f.held = held;
            return true;
        }
        double possible = total;
        for (int i : order) {
            if (conditions[i].test(f)) {
                held |= 1L << i;
            } else if ((possible -= weights[i]) < stop) {
                return false;
            }
        }
        f.held = held;
        return score(held) > threshold;
    }

    /** The sum of the weights of the conditions in {@code held}, in declaration order. */
    private double score(long held) {
        double score = 0;
        for (int i = 0; i < weights.length; i++) {
            if ((held & 1L << i) != 0) {
                score += weights[i];
            }
        }
        return score;
    }

    /** What fired, from {@code f} after {@link #fires} returned true. Allocates. */
    Firing firing(EventFields f) {
        long held = f.held;
        List<FiredCondition> list = new ArrayList<>(Long.bitCount(held));
        for (int i = 0; i < weights.length; i++) {
            if ((held & 1L << i) != 0) {
                Double z = conditions[i] instanceof Predicate.Anomaly a ? f.zScores[a.id] : null;
                list.add(new FiredCondition(labels[i], spec.conditions().get(i).field(), weights[i], z));
            }
        }
        String group = groupSlot < 0 ? null : f.groupKey(groupSlot);
        return new Firing(spec, score(held), List.copyOf(list), group);
    }

    /** The ids of this rule's anomaly detectors. */
    Stream<String> detectorIds() {
        return Arrays.stream(detectors).map(d -> d.detector);
    }

    /** True for a known operator. */
    static boolean isOp(String op) {
        for (String o : OPS) {
            if (o.equals(op)) {
                return true;
            }
        }
        return false;
    }

    /** The operators, for messages. */
    static String ops() {
        return String.join(", ", OPS);
    }
}

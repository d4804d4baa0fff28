package dev.outpost.edge.engine;

import com.google.re2j.Matcher;
import java.util.Arrays;

/**
 * The values of one event's fields that a stream's rules read, one slot per distinct field path, filled by {@link
 * EventReader} and read by the {@link Predicate}s. Owned by one {@link Evaluator} and reused for every event, so
 * evaluating allocates nothing: numbers are kept as long or double, strings as chars copied into a per-slot buffer.
 *
 * <p>Invariants: before an event is read every slot is {@link #MISSING}; a slot of kind {@link #STRING} has its length
 * in {@code lengths}, and its chars in {@code chars} only when the length is at most {@link #STRING_CHARS_MAX} (a longer
 * string equals no operand and is tested by no regex, since operands and regex inputs are shorter). A slot with
 * {@code keepText} (a group_by field) also has the JSON text of a number in {@code chars}.
 */
final class EventFields {
    static final byte MISSING = 0;
    static final byte NULL = 1;
    static final byte FALSE = 2;
    static final byte TRUE = 3;
    static final byte LONG = 4;
    static final byte DOUBLE = 5;
    static final byte STRING = 6;
    static final byte OBJECT = 7;
    static final byte ARRAY = 8;

    /** Longest string kept: the longest a regex may test ({@link RuleSpec#REGEX_INPUT_CHARS_MAX}). */
    static final int STRING_CHARS_MAX = RuleSpec.REGEX_INPUT_CHARS_MAX;

    /** Chars a slot's buffer starts with; it grows to what the longest string so far needed. */
    private static final int SLOT_CHARS_INITIAL = 64;

    final byte[] kinds;
    final long[] longs;
    final double[] doubles;
    final char[][] chars;
    final int[] lengths;
    /** A CharSequence over each slot's chars, for the regex engine. */
    final Text[] texts;
    /** Per regex condition of the rule set (by its id), created at first use. */
    final Matcher[] matchers;

    long regexInputsTooLong;
    /** The top-level conditions that held in the rule last evaluated, bit i for condition i (CONDITIONS_MAX is 64). */
    long held;

    /** The anomaly conditions' scores for the event being evaluated, by {@link Predicate.Anomaly#id}. */
    double[] zScores = new double[0];

    /** Where the anomaly conditions keep their state. */
    Detectors detectors;

    EventFields(int slots, int regexes) {
        kinds = new byte[slots];
        longs = new long[slots];
        doubles = new double[slots];
        chars = new char[slots][];
        lengths = new int[slots];
        texts = new Text[slots];
        for (int i = 0; i < slots; i++) {
            chars[i] = new char[SLOT_CHARS_INITIAL];
            texts[i] = new Text();
        }
        matchers = new Matcher[regexes];
    }

    void clear(int slots) {
        Arrays.fill(kinds, 0, slots, MISSING);
    }

    /** Keeps a number's JSON text (ASCII bytes) in the slot's chars (only its length when longer than the max). */
    void ascii(int slot, byte kind, byte[] buf, int off, int len) {
        kinds[slot] = kind;
        lengths[slot] = len;
        if (len <= STRING_CHARS_MAX) {
            char[] c = chars[slot];
            if (c.length < len) {
                c = chars[slot] = new char[Math.max(len, c.length * 2)];
            }
            for (int i = 0; i < len; i++) {
                c[i] = (char) buf[off + i];
            }
        }
    }

    /** True when the slot holds a string equal to {@code s}. */
    boolean stringEquals(int slot, char[] s) {
        int n = lengths[slot];
        return kinds[slot] == STRING && n == s.length && Arrays.equals(chars[slot], 0, n, s, 0, n);
    }

    /** String.hashCode of the slot's string (only for strings of at most {@link #STRING_CHARS_MAX} chars). */
    int stringHash(int slot) {
        char[] c = chars[slot];
        int h = 0;
        for (int i = 0, n = lengths[slot]; i < n; i++) {
            h = 31 * h + c[i];
        }
        return h;
    }

    /** The slot's string as a CharSequence over the kept chars (valid until the next event). */
    CharSequence text(int slot) {
        Text t = texts[slot];
        t.chars = chars[slot];
        t.length = lengths[slot];
        return t;
    }

    /** The value as a group key: see {@link Firing#groupKey()}. Allocates; called only when a rule fires. */
    String groupKey(int slot) {
        return switch (kinds[slot]) {
            case STRING, LONG, DOUBLE ->
                lengths[slot] <= STRING_CHARS_MAX ? new String(chars[slot], 0, lengths[slot]) : null;
            case TRUE -> "true";
            case FALSE -> "false";
            case NULL -> "null";
            default -> null;
        };
    }

    /** A reusable CharSequence over a slot's chars: the regex engine reads through it without a String per event. */
    static final class Text implements CharSequence {
        char[] chars;
        int length;

        @Override
        public int length() {
            return length;
        }

        @Override
        public char charAt(int index) {
            if (index >= length) {
                throw new IndexOutOfBoundsException(index); // the buffer may hold more than this string
            }
            return chars[index];
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new String(chars, start, end - start);
        }

        @Override
        public String toString() {
            return new String(chars, 0, length);
        }
    }
}

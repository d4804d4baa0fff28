package dev.outpost.edge.engine;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * How large a pattern compiles, told from its text before re2j compiles it.
 *
 * <p>Design note. re2j expands a counted repetition into that many copies of its operand, and nested counts multiply:
 * {@code ((a{100}){100}){100}} is 10^6 copies, {@code (((a{100}){100}){100}){100}} 10^8 — a 30-character pattern that
 * took re2j seconds and ran the agent's heap out (a PUT /v1/rules or a tail's {@code where} with it answered
 * OutOfMemoryError). RE2 itself refuses such patterns (its parser's repetition walker: nested counts may multiply to at
 * most 1,000) but re2j does not, so this does: {@link #NESTED_COUNT_MAX} for the product of nested counts as RE2, and
 * {@link #COPIES_MAX} for the copies of all atoms together (about 80 bytes of compiled program each, measured), so one
 * pattern stays under a megabyte. The scan only needs the pattern's structure: an escape, a class or a \Q..\E run counts
 * as one atom (a run may undercount by its length, bounded by the pattern's 1,024 characters); re2j still parses the
 * pattern and refuses what is invalid.
 */
final class RegexSize {
    /** Most the counts of nested repetitions may multiply to (RE2's own bound). */
    static final long NESTED_COUNT_MAX = 1_000;

    /** Most atom copies a pattern may compile to. */
    static final long COPIES_MAX = 10_000;

    private RegexSize() {}

    /** Why {@code pattern} is too large to compile, or null if it is not. */
    static String tooLarge(String pattern) {
        Deque<long[]> groups = new ArrayDeque<>(); // per open group: {largest nested count in it, copies in it}
        long[] top = {1, 0};
        long last = 0; // nested count of the last atom or group; 0: nothing to repeat
        long lastCopies = 0;
        int i = 0;
        while (i < pattern.length()) {
            char c = pattern.charAt(i);
            if (c == '(') {
                groups.push(top);
                top = new long[] {1, 0};
                last = 0;
                i++;
                continue;
            }
            if (c == ')') {
                last = top[0];
                lastCopies = top[1];
                top = groups.isEmpty() ? new long[] {1, 0} : groups.pop();
                top[0] = Math.max(top[0], last);
                top[1] += lastCopies;
                i++;
                continue;
            }
            int repeatEnd = c == '{' && last > 0 ? repeatEnd(pattern, i) : -1;
            if (repeatEnd > 0) {
                long count = repeatCount(pattern, i + 1, repeatEnd);
                last = Math.min(last * count, Long.MAX_VALUE / 2000);
                top[0] = Math.max(top[0], last);
                top[1] += lastCopies * (count - 1);
                lastCopies = Math.min(lastCopies * count, Long.MAX_VALUE / 2000);
                i = repeatEnd + 1;
            } else if (c == '*' || c == '+' || c == '?' || c == '|') {
                i++;
            } else {
                i = atomEnd(pattern, i);
                last = 1;
                lastCopies = 1;
                top[1]++;
            }
            if (top[0] > NESTED_COUNT_MAX) {
                return "nested repetition counts multiply to more than " + NESTED_COUNT_MAX
                        + " (as RE2 refuses them): the compiled pattern would be too large";
            }
            if (top[1] > COPIES_MAX) {
                return "the pattern repeats to more than " + COPIES_MAX
                        + " atoms: the compiled pattern would be too large";
            }
        }
        return null;
    }

    /** The index of the '}' closing a repetition {n}, {n,} or {n,m} at {@code i}, or -1 if it is a literal '{'. */
    private static int repeatEnd(String p, int i) {
        int j = i + 1;
        int digits = 0;
        while (j < p.length() && (Character.isDigit(p.charAt(j)) || p.charAt(j) == ',')) {
            digits += Character.isDigit(p.charAt(j)) ? 1 : 0;
            j++;
        }
        return j < p.length() && p.charAt(j) == '}' && digits > 0 && Character.isDigit(p.charAt(i + 1)) ? j : -1;
    }

    /** The larger count of {n}, {n,} or {n,m} (n for {n,}: the copies it compiles to), capped. */
    private static long repeatCount(String p, int from, int to) {
        long n = 0;
        long max = 0;
        for (int j = from; j < to; j++) {
            char c = p.charAt(j);
            if (c == ',') {
                max = Math.max(max, n);
                n = 0;
            } else {
                n = Math.min(n * 10 + (c - '0'), 1_000_000);
            }
        }
        return Math.max(1, Math.max(max, n));
    }

    /** The index just after the atom at {@code i}: a character, an escape or a character class. */
    private static int atomEnd(String p, int i) {
        char c = p.charAt(i);
        if (c == '\\') {
            return escapeEnd(p, i);
        }
        if (c != '[') {
            return i + 1;
        }
        int j = i + 1;
        if (j < p.length() && p.charAt(j) == '^') {
            j++;
        }
        if (j < p.length() && p.charAt(j) == ']') {
            j++; // a ']' first in a class is a literal
        }
        while (j < p.length() && p.charAt(j) != ']') {
            if (p.charAt(j) == '\\') {
                j = escapeEnd(p, j);
            } else if (p.startsWith("[:", j) && p.indexOf(":]", j + 2) > 0) {
                j = p.indexOf(":]", j + 2) + 2;
            } else {
                j++;
            }
        }
        return Math.min(j + 1, p.length());
    }

    /** The index just after the escape at {@code i}: \Q...\E, \x{..}, \p{..}, or a backslash and one character. */
    private static int escapeEnd(String p, int i) {
        if (i + 1 >= p.length()) {
            return p.length();
        }
        char e = p.charAt(i + 1);
        if (e == 'Q') {
            int end = p.indexOf("\\E", i + 2);
            return end < 0 ? p.length() : end + 2;
        }
        if ((e == 'x' || e == 'p' || e == 'P') && i + 2 < p.length() && p.charAt(i + 2) == '{') {
            int end = p.indexOf('}', i + 3);
            return end < 0 ? p.length() : end + 1;
        }
        return i + 2;
    }
}

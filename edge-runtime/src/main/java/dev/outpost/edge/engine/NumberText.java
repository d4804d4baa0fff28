package dev.outpost.edge.engine;

import java.nio.charset.StandardCharsets;

/**
 * One JSON number read from UTF-8 bytes, with the value jackson-core would give it.
 *
 * <p>Design note. Invariants, each what the jackson-based reader gave before (EventReaderModelTest checks them against
 * jackson): the text follows RFC 8259's grammar exactly ({@code -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?},
 * so {@code 01}, {@code 1.}, {@code .5} and {@code -} are refused); a number without fraction or exponent that fits in
 * a long is a {@link EventFields#LONG} ({@code -0} is 0); any other number is a {@link EventFields#DOUBLE} equal to
 * {@link Double#parseDouble} of its text (the nearest double; a big integer's too, as {@code BigInteger.doubleValue}
 * gives the same). The double is computed without a String when Clinger's fast path applies (at most 15 significant
 * digits and a power of ten within 10^22: both exact in a double, so one IEEE multiplication or division rounds
 * correctly); only other numbers create their text. Reused event after event by one reader: not thread-safe.
 */
final class NumberText {
    /** Most significant digits for the fast path: below 2^53, so the digits are exact in a double. */
    private static final int EXACT_DIGITS_MAX = 15;

    /** Exponent digits beyond which the fast path declines (the power would be far outside 10^±22 anyway). */
    private static final int EXPONENT_DIGITS_MAX = 4;

    /** Powers of ten exact in a double: 10^0 to 10^22. */
    private static final double[] POWERS_OF_TEN = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22
    };

    /** {@link EventFields#LONG} or {@link EventFields#DOUBLE}. */
    byte kind;

    long longValue;
    double doubleValue;

    /** Where the number's text starts, and ends (exclusive). */
    int start;

    int end;

    /**
     * Reads the number starting at {@code pos} (its first byte is {@code -} or a digit, as the caller saw), up to the
     * first byte that cannot continue it. Returns false when the text is not a JSON number (what follows is the
     * caller's to check).
     */
    boolean read(byte[] b, int pos, int limit) {
        start = pos;
        boolean negative = b[pos] == '-';
        int i = negative ? pos + 1 : pos;
        if (i == limit || !digit(b[i])) {
            return false;
        }
        // Accumulated negatively, as Long.parseLong does, so that Long.MIN_VALUE fits.
        long v = 0;
        boolean overflow = false;
        if (b[i] == '0') {
            i++;
        } else {
            for (; i < limit && digit(b[i]); i++) {
                int d = b[i] - '0';
                if (v < Long.MIN_VALUE / 10 || v * 10 < Long.MIN_VALUE + d) {
                    overflow = true; // kept going: the text is still checked and the double needs it
                }
                v = v * 10 - d;
            }
        }
        if (i == limit || b[i] != '.' && b[i] != 'e' && b[i] != 'E') {
            end = i;
            if (!overflow && (negative || v != Long.MIN_VALUE)) {
                kind = EventFields.LONG;
                longValue = negative ? v : -v;
            } else {
                kind = EventFields.DOUBLE; // beyond 64 bits: compared as the nearest double
                doubleValue = parseText(b);
            }
            return true;
        }
        return fraction(b, i, limit, negative);
    }

    /** The fraction and exponent after the integer part, {@code i} at the '.' or 'e'. */
    private boolean fraction(byte[] b, int i, int limit, boolean negative) {
        int scale = 0;
        if (b[i] == '.') {
            int first = ++i;
            for (; i < limit && digit(b[i]); i++) {
                scale++;
            }
            if (i == first) {
                return false;
            }
        }
        int exponent = 0;
        int exponentDigits = 0;
        boolean negativeExponent = false;
        if (i < limit && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            if (i < limit && (b[i] == '-' || b[i] == '+')) {
                negativeExponent = b[i++] == '-';
            }
            for (; i < limit && digit(b[i]); i++) {
                exponentDigits++;
                if (exponentDigits <= EXPONENT_DIGITS_MAX) {
                    exponent = exponent * 10 + (b[i] - '0');
                }
            }
            if (exponentDigits == 0) {
                return false;
            }
        }
        end = i;
        kind = EventFields.DOUBLE;
        double d = exponentDigits > EXPONENT_DIGITS_MAX
                ? Double.NaN
                : fastPath(b, negative, scale, negativeExponent ? -exponent : exponent);
        doubleValue = Double.isNaN(d) ? parseText(b) : d;
        return true;
    }

    /** The nearest double by Clinger's fast path, or NaN when it does not apply. */
    private double fastPath(byte[] b, boolean negative, int scale, int exponent) {
        long digits = 0;
        int significant = 0;
        for (int i = negative ? start + 1 : start; i < end; i++) {
            byte c = b[i];
            if (c == '.') {
                continue;
            }
            if (c == 'e' || c == 'E') {
                break;
            }
            if ((significant > 0 || c != '0') && ++significant > EXACT_DIGITS_MAX) {
                return Double.NaN;
            }
            digits = digits * 10 + (c - '0');
        }
        int power = exponent - scale;
        if (power < -22 || power > 22) {
            return Double.NaN;
        }
        double v = power >= 0 ? digits * POWERS_OF_TEN[power] : digits / POWERS_OF_TEN[-power];
        return negative ? -v : v;
    }

    /** Double.parseDouble of the text: what jackson-core gives, for numbers off the fast path (allocates). */
    private double parseText(byte[] b) {
        return Double.parseDouble(new String(b, start, end - start, StandardCharsets.ISO_8859_1));
    }

    static boolean digit(byte c) {
        return c >= '0' && c <= '9';
    }
}

package dev.outpost.edge.ingest;

/**
 * Reads past one JSON object in UTF-8 bytes without a parser object, for an event's {@code data} ({@link EventParser}):
 * the answer is either "valid JSON, ending here" or "not sure" — never "invalid".
 *
 * <p>Design note. Skipping {@code data} with jackson's parser was ~10 % of the CPU of a single-event ingest (its
 * tokeniser decodes every name and number it passes). This scanner accepts only a strict subset of what jackson
 * accepts with the factory {@link EventParser} uses (RFC 8259 without extensions: no comments, single quotes, NaN,
 * leading zeros, trailing commas or raw control characters), shallower than {@link #DEPTH_MAX}, with numbers of at
 * most {@link #NUMBER_CHARS_MAX} characters; on anything else it answers {@link #UNSURE} and the caller lets jackson
 * read the event, so every problem a client sees is still jackson's (the same words as before). The bytes are UTF-8
 * checked before ({@code JsonText.check}), so bytes beyond ASCII are taken inside strings as they are. JsonSkipTest
 * holds it to jackson on valid and mutated inputs.
 */
final class JsonSkip {
    /** Not sure: let jackson read it (it may be valid or not). */
    static final int UNSURE = -1;
    /** Deepest nesting read here; deeper values are jackson's (whose limit is EventParser.NESTING_DEPTH_MAX). */
    static final int DEPTH_MAX = 32;
    /** Longest number read here; jackson's own limit is far above. */
    static final int NUMBER_CHARS_MAX = 100;

    private JsonSkip() {}

    /** The index after the object starting at {@code b[at] == '{'}, within {@code end}; or {@link #UNSURE}. */
    static int object(byte[] b, int at, int end) {
        return value(b, at, end, 1);
    }

    /**
     * Whether {@code b[at, end)} is, up to JSON whitespace, one closing brace: the rest of an event after its last
     * field.
     */
    static boolean closesObject(byte[] b, int at, int end) {
        int i = ws(b, at, end);
        return i < end && b[i] == '}' && ws(b, i + 1, end) == end;
    }

    private static int value(byte[] b, int i, int end, int depth) {
        if (i >= end) {
            return UNSURE;
        }
        return switch (b[i]) {
            case '{' -> depth > DEPTH_MAX ? UNSURE : members(b, i + 1, end, depth);
            case '[' -> depth > DEPTH_MAX ? UNSURE : elements(b, i + 1, end, depth);
            case '"' -> string(b, i + 1, end);
            case 't' -> literal(b, i, end, TRUE);
            case 'f' -> literal(b, i, end, FALSE);
            case 'n' -> literal(b, i, end, NULL);
            default -> number(b, i, end);
        };
    }

    private static int members(byte[] b, int i, int end, int depth) {
        i = ws(b, i, end);
        if (i < end && b[i] == '}') {
            return i + 1;
        }
        while (true) {
            if (i >= end || b[i] != '"') {
                return UNSURE;
            }
            i = string(b, i + 1, end);
            if (i < 0) {
                return UNSURE;
            }
            i = ws(b, i, end);
            if (i >= end || b[i] != ':') {
                return UNSURE;
            }
            i = value(b, ws(b, i + 1, end), end, depth + 1);
            if (i < 0) {
                return UNSURE;
            }
            i = ws(b, i, end);
            if (i >= end) {
                return UNSURE;
            }
            if (b[i] == '}') {
                return i + 1;
            }
            if (b[i] != ',') {
                return UNSURE;
            }
            i = ws(b, i + 1, end);
        }
    }

    private static int elements(byte[] b, int i, int end, int depth) {
        i = ws(b, i, end);
        if (i < end && b[i] == ']') {
            return i + 1;
        }
        while (true) {
            i = value(b, i, end, depth + 1);
            if (i < 0) {
                return UNSURE;
            }
            i = ws(b, i, end);
            if (i >= end) {
                return UNSURE;
            }
            if (b[i] == ']') {
                return i + 1;
            }
            if (b[i] != ',') {
                return UNSURE;
            }
            i = ws(b, i + 1, end);
        }
    }

    /** From after the opening quote; the index after the closing one. */
    private static int string(byte[] b, int i, int end) {
        while (i < end) {
            byte c = b[i];
            if (c == '"') {
                return i + 1;
            }
            if (c == '\\') {
                if (i + 1 >= end) {
                    return UNSURE;
                }
                byte e = b[i + 1];
                if (e == 'u') {
                    if (i + 5 >= end || !hex(b[i + 2]) || !hex(b[i + 3]) || !hex(b[i + 4]) || !hex(b[i + 5])) {
                        return UNSURE;
                    }
                    i += 6;
                } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r'
                        || e == 't') {
                    i += 2;
                } else {
                    return UNSURE;
                }
            } else if (c >= 0 && c < 0x20) {
                return UNSURE;
            } else {
                i++;
            }
        }
        return UNSURE;
    }

    /** {@code -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?}, followed by a delimiter. */
    private static int number(byte[] b, int i, int end) {
        int from = i;
        if (i < end && b[i] == '-') {
            i++;
        }
        if (i >= end || !digit(b[i])) {
            return UNSURE;
        }
        if (b[i] == '0') {
            i++;
        } else {
            i = digits(b, i, end);
        }
        if (i < end && b[i] == '.') {
            int f = i + 1;
            i = digits(b, f, end);
            if (i == f) {
                return UNSURE;
            }
        }
        if (i < end && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            if (i < end && (b[i] == '+' || b[i] == '-')) {
                i++;
            }
            int x = i;
            i = digits(b, x, end);
            if (i == x) {
                return UNSURE;
            }
        }
        return i - from <= NUMBER_CHARS_MAX && delimited(b, i, end) ? i : UNSURE;
    }

    private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
    private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};
    private static final byte[] NULL = {'n', 'u', 'l', 'l'};

    private static int literal(byte[] b, int i, int end, byte[] lit) {
        if (end - i < lit.length) {
            return UNSURE;
        }
        for (int k = 0; k < lit.length; k++) {
            if (b[i + k] != lit[k]) {
                return UNSURE;
            }
        }
        int after = i + lit.length;
        return delimited(b, after, end) ? after : UNSURE;
    }

    /** What may follow a number or literal inside a container: whitespace, a comma or a closing bracket. */
    private static boolean delimited(byte[] b, int i, int end) {
        if (i >= end) {
            return false;
        }
        byte c = b[i];
        return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    private static int digits(byte[] b, int i, int end) {
        while (i < end && digit(b[i])) {
            i++;
        }
        return i;
    }

    private static boolean digit(byte c) {
        return c >= '0' && c <= '9';
    }

    private static boolean hex(byte c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    private static int ws(byte[] b, int i, int end) {
        while (i < end && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
            i++;
        }
        return i;
    }
}

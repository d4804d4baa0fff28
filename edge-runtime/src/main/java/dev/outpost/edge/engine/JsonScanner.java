package dev.outpost.edge.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The tokens of one JSON text in UTF-8 bytes, read in place: whitespace, punctuation, strings skipped or decoded,
 * literals, numbers skipped (read by {@link NumberText}), and whole values skipped without decoding anything.
 *
 * <p>Design note. This is the part of {@link EventReader} that sees bytes; it exists because jackson-core's tokenizer
 * was the measured floor of rule evaluation (docs/DECISIONS.md, "Rules"). It validates as jackson-core does with its
 * default features, so an event it reads is one jackson reads the same, and one jackson refuses it refuses
 * (EventReaderModelTest checks both against jackson on random and damaged events). Invariants: it never reads outside
 * {@code [pos, end)}: every byte read is bounds-checked, and a text that ends early throws {@link Unreadable}; strings
 * are checked byte by byte whether skipped or decoded (no control characters, only JSON's escapes, UTF-8 lead and
 * continuation bytes as jackson checks them), eight bytes at a time while none needs a look; skipping a value checks
 * its whole grammar, iteratively, with nesting bounded by {@link #DEPTH_MAX}. Reused by one reader: not thread-safe,
 * and allocation-free but for growing the buffers strings are decoded into to the longest string kept.
 */
final class JsonScanner {
    /** Deepest nesting of objects and arrays, the event object being 1: jackson-core's default bound. */
    static final int DEPTH_MAX = 1_000;

    /** The text is not one well-formed JSON value; stackless and shared, since damaged events are counted, not traced. */
    static final class Unreadable extends Exception {
        private Unreadable() {
            super("not well-formed JSON", null, false, false);
        }
    }

    static final Unreadable UNREADABLE = new Unreadable();

    /** What a byte means inside a string. */
    private static final byte PLAIN = 0;

    private static final byte QUOTE = 1;
    private static final byte ESCAPE = 2;
    private static final byte UTF8_2 = 3;
    private static final byte UTF8_3 = 4;
    private static final byte UTF8_4 = 5;
    private static final byte INVALID = 6;

    private static final byte[] STRING_BYTES = new byte[256];

    /** Eight bytes at a time, for strings, whose bytes are mostly plain. */
    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    static {
        Arrays.fill(STRING_BYTES, 0, 0x20, INVALID); // control characters must be escaped
        STRING_BYTES['"'] = QUOTE;
        STRING_BYTES['\\'] = ESCAPE;
        Arrays.fill(STRING_BYTES, 0x80, 0xC0, INVALID); // a continuation byte cannot start a character
        Arrays.fill(STRING_BYTES, 0xC0, 0xE0, UTF8_2);
        Arrays.fill(STRING_BYTES, 0xE0, 0xF0, UTF8_3);
        Arrays.fill(STRING_BYTES, 0xF0, 0xF8, UTF8_4);
        Arrays.fill(STRING_BYTES, 0xF8, 0x100, INVALID);
    }

    byte[] b;
    int pos;
    int end;

    /** A buffer for names written with escapes, decoded before they are matched. */
    char[] text = new char[64];

    /** The length in chars of the last decoded string (up to {@link #textMax} of them are kept). */
    int textLength;

    private final int textMax;

    /** Whether each open container of {@link #skipContainer} is an object, by depth. */
    private final boolean[] objects = new boolean[DEPTH_MAX + 2];

    JsonScanner(int textMax) {
        this.textMax = textMax;
    }

    void reset(byte[] bytes, int off, int len) {
        b = bytes;
        pos = off;
        end = off + len;
    }

    void skipWhitespace() {
        int p = pos;
        while (p < end) {
            byte c = b[p];
            if (c > ' ' || c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                break; // the first test alone decides for compact JSON, as the agent stores it
            }
            p++;
        }
        pos = p;
    }

    /** The next byte, consumed. */
    byte next() throws Unreadable {
        if (pos >= end) {
            throw UNREADABLE;
        }
        return b[pos++];
    }

    /** Consumes the next byte when it is {@code c}. */
    boolean take(byte c) {
        if (pos < end && b[pos] == c) {
            pos++;
            return true;
        }
        return false;
    }

    void expect(byte c) throws Unreadable {
        if (next() != c) {
            throw UNREADABLE;
        }
    }

    /** Whitespace, ':' and whitespace: what separates a member's name from its value. */
    void colon() throws Unreadable {
        skipWhitespace();
        expect((byte) ':');
        skipWhitespace();
    }

    /** The rest of the literal whose first byte was just read ({@code true}, {@code false} or {@code null}). */
    void literal(byte first) throws Unreadable {
        String rest = first == 't' ? "rue" : first == 'f' ? "alse" : "ull";
        for (int i = 0; i < rest.length(); i++) {
            if (next() != rest.charAt(i)) {
                throw UNREADABLE;
            }
        }
    }

    /**
     * Skips the rest of a string whose opening quote was read, checking it. Returns true when it held an escape (its
     * bytes are then not its chars).
     */
    boolean skipString() throws Unreadable {
        boolean escaped = false;
        byte[] b = this.b;
        int p = pos;
        int e = end;
        for (; ; ) {
            while (p + 8 <= e) {
                long special = special((long) WORDS.get(b, p));
                if (special != 0) {
                    p += Long.numberOfTrailingZeros(special) >>> 3;
                    break;
                }
                p += 8;
            }
            if (p >= e) {
                throw UNREADABLE;
            }
            byte kind = STRING_BYTES[b[p++] & 0xFF];
            if (kind == PLAIN) {
                continue;
            }
            pos = p;
            if (kind == QUOTE) {
                return escaped;
            }
            if (kind == ESCAPE) {
                escaped = true;
                escape();
            } else {
                character(kind, b[p - 1]);
            }
            p = pos;
        }
    }

    /**
     * The high bit of each of the 8 bytes (little-endian) that a string cannot hold as it is: a quote, a backslash, a
     * control character or a byte of a multi-byte character. Only the lowest set bit is exact (a borrow can flag
     * bytes above a true hit), and only it is used.
     */
    private static long special(long x) {
        long quote = x ^ 0x2222222222222222L;
        long backslash = x ^ 0x5C5C5C5C5C5C5C5CL;
        return ((quote - 0x0101010101010101L) & ~quote
                        | (backslash - 0x0101010101010101L) & ~backslash
                        | (x - 0x2020202020202020L)
                        | x)
                & 0x8080808080808080L;
    }

    /**
     * Decodes the rest of a string whose opening quote was read into {@code into} (UTF-16, as Java strings are: a
     * character beyond the BMP is two chars, an escaped surrogate is kept as it is, like jackson does), and returns
     * the array holding it: {@code into}, or a larger copy when it did not fit (up to {@link #textMax} chars; beyond,
     * chars are counted in {@link #textLength} but not kept). The caller's buffer, so a slot's string is decoded in
     * place rather than copied.
     */
    char[] decodeString(char[] into) throws Unreadable {
        char[] t = into;
        int n = 0;
        byte[] b = this.b;
        for (; ; ) {
            int p = pos;
            while (p + 8 <= end && n + 8 <= t.length) {
                long special = special((long) WORDS.get(b, p));
                int plain = special == 0 ? 8 : Long.numberOfTrailingZeros(special) >>> 3;
                for (int i = 0; i < plain; i++) {
                    t[n + i] = (char) b[p + i];
                }
                p += plain;
                n += plain;
                if (plain < 8) {
                    break;
                }
            }
            pos = p;
            if (pos >= end) {
                throw UNREADABLE;
            }
            int c = b[pos++] & 0xFF;
            byte kind = STRING_BYTES[c];
            if (kind == QUOTE) {
                textLength = n;
                return t;
            }
            if (n + 2 > t.length && t.length < textMax) {
                t = Arrays.copyOf(t, Math.min(textMax, Math.max(n + 2, t.length * 2)));
            }
            if (kind == PLAIN) {
                n = put(t, n, (char) c);
            } else if (kind == ESCAPE) {
                n = put(t, n, escape());
            } else {
                int code = character(kind, (byte) c);
                if (code > 0xFFFF) {
                    n = put(t, n, (char) (0xD800 | ((code - 0x10000) >> 10)));
                    n = put(t, n, (char) (0xDC00 | (code & 0x3FF)));
                } else {
                    n = put(t, n, (char) code);
                }
            }
        }
    }

    /** Keeps char {@code n} if there is room for it (else only counts it). */
    private static int put(char[] t, int n, char c) {
        if (n < t.length) {
            t[n] = c;
        }
        return n + 1;
    }

    /** The char of the escape whose backslash was read. */
    private char escape() throws Unreadable {
        byte c = next();
        return switch (c) {
            case '"', '\\', '/' -> (char) c;
            case 'b' -> '\b';
            case 'f' -> '\f';
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'u' -> (char) ((hex() << 12) | (hex() << 8) | (hex() << 4) | hex());
            default -> throw UNREADABLE;
        };
    }

    private int hex() throws Unreadable {
        byte c = next();
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        int lower = c | 0x20;
        if (lower >= 'a' && lower <= 'f') {
            return lower - 'a' + 10;
        }
        throw UNREADABLE;
    }

    /**
     * The code point of the multi-byte character whose lead byte was read. Like jackson-core, only the lead byte's
     * class and the continuation bytes are checked (ingest refused any other malformed UTF-8 before storing).
     */
    private int character(byte kind, byte lead) throws Unreadable {
        if (kind == INVALID) {
            throw UNREADABLE;
        }
        if (kind == UTF8_2) {
            return (lead & 0x1F) << 6 | continuation();
        }
        if (kind == UTF8_3) {
            return (lead & 0x0F) << 12 | continuation() << 6 | continuation();
        }
        return (lead & 0x07) << 18 | continuation() << 12 | continuation() << 6 | continuation();
    }

    private int continuation() throws Unreadable {
        byte c = next();
        if ((c & 0xC0) != 0x80) {
            throw UNREADABLE;
        }
        return c & 0x3F;
    }

    /** Skips one value, its first byte not yet read; {@code depth} is that of the container holding it. */
    void skipValue(int depth) throws Unreadable {
        byte c = next();
        switch (c) {
            case '"' -> skipString();
            case '{', '[' -> skipContainer(c, depth + 1);
            case 't', 'f', 'n' -> literal(c);
            default -> skipNumber(c);
        }
    }

    /** Skips a number whose first byte was read, checking its grammar (see {@link NumberText}). */
    void skipNumber(byte first) throws Unreadable {
        if (first == '-') {
            first = next();
        }
        if (first == '0') {
            // one zero, then a fraction, an exponent or the end
        } else if (first >= '1' && first <= '9') {
            digits();
        } else {
            throw UNREADABLE;
        }
        if (take((byte) '.') && digits() == 0) {
            throw UNREADABLE;
        }
        if (take((byte) 'e') || take((byte) 'E')) {
            if (!take((byte) '-')) {
                take((byte) '+');
            }
            if (digits() == 0) {
                throw UNREADABLE;
            }
        }
    }

    private int digits() {
        byte[] b = this.b;
        int from = pos;
        int p = from;
        int e = end;
        while (p + 8 <= e && allDigits((long) WORDS.get(b, p))) {
            p += 8; // a timestamp in milliseconds is 13 digits
        }
        while (p < e && NumberText.digit(b[p])) {
            p++;
        }
        pos = p;
        return p - from;
    }

    /** Whether all 8 bytes are ASCII digits: each is 0x30 to 0x39, i.e. 0x3_, and adding 6 keeps it 0x3_. */
    private static boolean allDigits(long x) {
        return (x & 0xF0F0F0F0F0F0F0F0L) == 0x3030303030303030L
                && ((x + 0x0606060606060606L) & 0xF0F0F0F0F0F0F0F0L) == 0x3030303030303030L;
    }

    /**
     * Skips the rest of an object or array whose opening byte was read, checking its grammar; {@code depth} is its own
     * nesting depth. Iterative, so the bound on depth is {@link #DEPTH_MAX} and not the thread's stack.
     */
    void skipContainer(byte open, int depth) throws Unreadable {
        int base = depth;
        boolean object = open == '{';
        boolean first = true;
        checkDepth(depth);
        objects[depth] = object;
        for (; ; ) {
            skipWhitespace();
            boolean closed = first && take(object ? (byte) '}' : (byte) ']');
            if (!closed) {
                if (object) {
                    expect((byte) '"');
                    skipString();
                    colon();
                }
                byte c = next();
                if (c == '{' || c == '[') {
                    object = c == '{';
                    checkDepth(++depth);
                    objects[depth] = object;
                    first = true;
                    continue;
                }
                switch (c) {
                    case '"' -> skipString();
                    case 't', 'f', 'n' -> literal(c);
                    default -> skipNumber(c);
                }
            }
            // After a value or a closed container: a comma, or the end of one or more containers.
            for (; ; ) {
                if (closed) {
                    if (--depth < base) {
                        return;
                    }
                    object = objects[depth];
                }
                skipWhitespace();
                byte c = next();
                if (c == ',') {
                    first = false;
                    break;
                }
                if (c != (object ? '}' : ']')) {
                    throw UNREADABLE;
                }
                closed = true;
            }
        }
    }

    static void checkDepth(int depth) throws Unreadable {
        if (depth > DEPTH_MAX) {
            throw UNREADABLE;
        }
    }
}

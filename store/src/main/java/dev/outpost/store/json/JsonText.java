package dev.outpost.store.json;

/**
 * Checks that bytes are JSON text as the agent accepts and emits it: UTF-8 (RFC 8259 §8.1) and
 * I-JSON strings (RFC 7493 §2.1), so nothing another encoding's parser would have read ever reaches
 * the log or a reader.
 *
 * <p>Design note. One pass over the bytes, no allocation unless there is a fault; the ASCII
 * fast path is two comparisons per byte. It sees bytes, not tokens, so it checks what holds
 * anywhere in a JSON text whatever the token: (1) well-formed UTF-8 — no overlong forms, no
 * encoded surrogates (U+D800–U+DFFF), nothing above U+10FFFF, no stray or missing continuation
 * bytes; (2) no raw control character other than tab, line feed and carriage return (JSON allows
 * them only as whitespace between tokens; inside a string they must be escaped); (3) every
 * {@code \}{@code uD800}–{@code \}{@code uDBFF} escape followed by a {@code \}{@code uDC00}–{@code
 * \}{@code uDFFF} one and no low surrogate escape alone. Backslashes occur only inside strings in
 * valid JSON, so pairing escapes by scanning is exact there; anything else is left to the JSON
 * parser that runs next, which these checks complement and do not replace. A byte-order mark is a
 * fault: callers that allow one at the very start of a body skip it first ({@link #bomLength}).
 */
public final class JsonText {
    /** The UTF-8 encoding of U+FEFF. */
    private static final int BOM_LENGTH = 3;

    private JsonText() {}

    /**
     * What is wrong with a JSON text, and where.
     *
     * @param offset index into the checked array of the first byte at fault
     * @param reason what is wrong, for a problem's detail
     */
    public record Fault(int offset, String reason) {}

    /** 3 if {@code b[off, off+len)} starts with a UTF-8 byte-order mark, else 0. */
    public static int bomLength(byte[] b, int off, int len) {
        return len >= BOM_LENGTH && b[off] == (byte) 0xEF && b[off + 1] == (byte) 0xBB && b[off + 2] == (byte) 0xBF
                ? BOM_LENGTH
                : 0;
    }

    /**
     * The encoding {@code b[off, off+len)} is in if it is recognisably not UTF-8 — "UTF-16LE",
     * "UTF-16BE", "UTF-32LE" or "UTF-32BE", by byte-order mark or by the zero-byte pattern of an
     * ASCII first character (RFC 4627 §3) — else null.
     */
    public static String foreignEncoding(byte[] b, int off, int len) {
        int b0 = len > 0 ? b[off] & 0xFF : -1;
        int b1 = len > 1 ? b[off + 1] & 0xFF : -1;
        int b2 = len > 2 ? b[off + 2] & 0xFF : -1;
        int b3 = len > 3 ? b[off + 3] & 0xFF : -1;
        if (b0 == 0 && b1 == 0 && b2 == 0xFE && b3 == 0xFF || b0 == 0 && b1 == 0 && b2 == 0 && b3 > 0) {
            return "UTF-32BE";
        }
        if (b0 == 0xFF && b1 == 0xFE && b2 == 0 && b3 == 0 || b0 > 0 && b1 == 0 && b2 == 0 && b3 == 0) {
            return "UTF-32LE";
        }
        if (b0 == 0xFE && b1 == 0xFF || b0 == 0 && b1 > 0) {
            return "UTF-16BE";
        }
        if (b0 == 0xFF && b1 == 0xFE || b0 > 0 && b1 == 0) {
            return "UTF-16LE";
        }
        return null;
    }

    /** The first fault of {@code b[off, off+len)}, or null if it is clean UTF-8 JSON text. */
    public static Fault check(byte[] b, int off, int len) {
        String foreign = foreignEncoding(b, off, len);
        if (foreign != null) {
            return new Fault(off, "the text is " + foreign + "; JSON must be UTF-8 (RFC 8259 §8.1)");
        }
        if (bomLength(b, off, len) > 0) {
            return new Fault(off, "a byte-order mark (U+FEFF) is allowed only at the start of the body");
        }
        int end = off + len;
        int i = off;
        while (i < end) {
            byte x = b[i];
            if (x >= 0x20 && x != '\\') {
                i++; // printable ASCII: the common case
                continue;
            }
            int next;
            if (x == '\\') {
                next = escape(b, i, end);
            } else if (x >= 0) {
                next = x == '\t' || x == '\n' || x == '\r' ? i + 1 : -1;
                if (next < 0) {
                    return new Fault(i, controlCharacter(x));
                }
            } else {
                next = multiByte(b, i, end);
            }
            if (next < 0) {
                return new Fault(i, x == '\\' ? loneSurrogate(b, i, end) : badUtf8(b, i, end));
            }
            i = next;
        }
        return null;
    }

    /** True if the whole range is clean UTF-8 JSON text with no line break: what one NDJSON line may hold. */
    public static boolean isCleanLine(byte[] b, int off, int len) {
        if (check(b, off, len) != null) {
            return false;
        }
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n' || b[i] == '\r') {
                return false;
            }
        }
        return true;
    }

    /** The index after the escape at {@code i}, or -1 for a lone surrogate escape. */
    private static int escape(byte[] b, int i, int end) {
        int u = hex4(b, i, end);
        if (u < 0) {
            return Math.min(i + 2, end); // \" \\ \n ... (or malformed: the parser reports it)
        }
        if (u >= 0xDC00 && u <= 0xDFFF) {
            return -1;
        }
        if (u >= 0xD800 && u <= 0xDBFF) {
            int low = hex4(b, i + 6, end);
            return low >= 0xDC00 && low <= 0xDFFF ? i + 12 : -1;
        }
        return i + 6;
    }

    /** The value of a {@code \}{@code uXXXX} escape at {@code i}, or -1 if there is none. */
    private static int hex4(byte[] b, int i, int end) {
        if (i + 6 > end || b[i] != '\\' || b[i + 1] != 'u') {
            return -1;
        }
        int v = 0;
        for (int k = i + 2; k < i + 6; k++) {
            int d = Character.digit(b[k], 16);
            if (d < 0) {
                return -1;
            }
            v = v << 4 | d;
        }
        return v;
    }

    /** The index after the well-formed multi-byte sequence at {@code i}, or -1. */
    private static int multiByte(byte[] b, int i, int end) {
        int c = b[i] & 0xFF;
        int n;
        int lo = 0x80;
        int hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80; // E0 80..9F would be overlong
            hi = c == 0xED ? 0x9F : 0xBF; // ED A0..BF would be a surrogate
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            lo = c == 0xF0 ? 0x90 : 0x80; // F0 80..8F would be overlong
            hi = c == 0xF4 ? 0x8F : 0xBF; // F4 90.. would be above U+10FFFF
        } else {
            return -1;
        }
        if (i + n >= end) {
            return -1;
        }
        int second = b[i + 1] & 0xFF;
        if (second < lo || second > hi) {
            return -1;
        }
        for (int k = i + 2; k <= i + n; k++) {
            if ((b[k] & 0xC0) != 0x80) {
                return -1;
            }
        }
        return i + n + 1;
    }

    private static String controlCharacter(byte x) {
        return String.format(
                "raw control character U+%04X%s; inside a string write it as an escape (\\u%04x)",
                (int) x, x == 0 ? " (NUL)" : "", (int) x);
    }

    private static String loneSurrogate(byte[] b, int i, int end) {
        int u = hex4(b, i, end);
        return String.format(
                "lone surrogate escape \\u%04X: a surrogate must be escaped as a high-low pair (RFC 7493 §2.1)", u);
    }

    /** Why the sequence at {@code i} is not UTF-8. */
    private static String badUtf8(byte[] b, int i, int end) {
        int c = b[i] & 0xFF;
        String why;
        if (c >= 0x80 && c <= 0xBF) {
            why = "a continuation byte without a lead byte";
        } else if (c == 0xC0 || c == 0xC1) {
            why = "an overlong encoding";
        } else if (c >= 0xF5) {
            why = "a byte that never occurs in UTF-8";
        } else {
            int n = c <= 0xDF ? 1 : c <= 0xEF ? 2 : 3;
            int second = i + 1 < end ? b[i + 1] & 0xFF : -1;
            if (i + n >= end || (second & 0xC0) != 0x80) {
                why = "a truncated sequence";
            } else if (c == 0xE0 && second < 0xA0 || c == 0xF0 && second < 0x90) {
                why = "an overlong encoding";
            } else if (c == 0xED && second >= 0xA0) {
                why = "an encoded surrogate (U+D800-U+DFFF)";
            } else if (c == 0xF4 && second >= 0x90) {
                why = "a code point above U+10FFFF";
            } else {
                why = "a truncated sequence";
            }
        }
        return String.format("invalid UTF-8: byte 0x%02X starts %s", c, why);
    }
}

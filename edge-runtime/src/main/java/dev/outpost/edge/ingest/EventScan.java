package dev.outpost.edge.ingest;

import java.nio.charset.StandardCharsets;

/**
 * Reads the plain shape of an event — one line, string fields in printable ASCII without escapes, a {@code data}
 * object — without a parser object ({@link EventParser}): the answer is either the event, exactly as jackson's reading
 * of it would give it, or "not sure" (null), and then jackson reads it.
 *
 * <p>Design note. After {@link JsonSkip} took over {@code data}, creating, driving and releasing jackson's parser for
 * the few top-level fields was still ~8 % of a single-event ingest's samples (docs/BENCHMARKS.md, issue #14). This
 * scanner accepts only what needs no decoding and no judgement: field names among the event model's, each once;
 * {@code stream}, {@code key}, {@code id} and {@code priority} as strings of printable ASCII (0x20–0x7E, no backslash)
 * that pass the same checks the parser makes; {@code data} an object {@link JsonSkip} is sure of; JSON whitespace
 * other than line breaks between tokens. Anything else — {@code ts}, {@code null} values, escapes, non-ASCII text,
 * a value the checks refuse, line breaks — is "not sure", so every refusal a client sees is still the parser's, with
 * its words. The bytes were UTF-8 checked before ({@code JsonText.check}). EventScanTest holds it to the parser on
 * valid and mutated events.
 */
final class EventScan {
    private EventScan() {}

    /** The event {@code b[start, end)} (trimmed, one JSON object) if it has the plain shape; else null. */
    static ParsedEvent plain(byte[] b, int start, int end) {
        int i = ws(b, start, end);
        if (i >= end || b[i] != '{') {
            return null;
        }
        String stream = null;
        String id = null;
        int seen = 0;
        i = ws(b, i + 1, end);
        while (true) {
            int nameEnd = plainString(b, i, end);
            if (nameEnd < 0) {
                return null;
            }
            int field = field(b, i + 1, nameEnd - 1);
            if (field < 0 || (seen & (1 << field)) != 0) {
                return null; // unknown or repeated: the parser's problem to word
            }
            seen |= 1 << field;
            i = ws(b, nameEnd, end);
            if (i >= end || b[i] != ':') {
                return null;
            }
            i = ws(b, i + 1, end);
            int after;
            if (field == DATA) {
                after = i < end && b[i] == '{' ? JsonSkip.object(b, i, end) : -1;
                if (after >= 0 && hasLineBreak(b, i, after)) {
                    return null; // the parser re-writes such an event on one line
                }
            } else {
                after = plainString(b, i, end);
                if (after >= 0) {
                    String v = new String(b, i + 1, after - i - 2, StandardCharsets.ISO_8859_1);
                    switch (field) {
                        case STREAM -> stream = v;
                        case ID -> id = v;
                        default -> {}
                    }
                    if (!accepted(field, v)) {
                        return null;
                    }
                }
            }
            if (after < 0) {
                return null;
            }
            i = ws(b, after, end);
            if (i < end && b[i] == ',') {
                i = ws(b, i + 1, end);
                continue;
            }
            if (i >= end || b[i] != '}' || ws(b, i + 1, end) != end) {
                return null;
            }
            break;
        }
        if ((seen & (1 << STREAM)) == 0 || (seen & (1 << DATA)) == 0) {
            return null;
        }
        return new ParsedEvent(stream, id, b, start, end - start);
    }

    private static final int STREAM = 0;
    private static final int KEY = 1;
    private static final int PRIORITY = 3;
    private static final int ID = 4;
    private static final int DATA = 5;

    /** Whether the parser's checks take this value of a string field as it is. */
    private static boolean accepted(int field, String v) {
        return switch (field) {
            case STREAM -> !v.startsWith("_") && EventParser.validName(v);
            case KEY -> !v.isEmpty() && v.length() <= EventParser.KEY_CHARS_MAX;
            case ID -> !v.isEmpty() && v.length() <= EventParser.ID_CHARS_MAX;
            case PRIORITY -> EventParser.PRIORITIES.contains(v);
            default -> false; // ts: the parser's to read
        };
    }

    /** The index in EventParser's FIELDS of the name {@code b[from, to)}, or -1. */
    private static int field(byte[] b, int from, int to) {
        return switch (to - from) {
            case 2 -> b[from] == 'i' && b[from + 1] == 'd' ? ID : -1;
            case 3 -> b[from] == 'k' && b[from + 1] == 'e' && b[from + 2] == 'y' ? KEY : -1;
            case 4 -> b[from] == 'd' && b[from + 1] == 'a' && b[from + 2] == 't' && b[from + 3] == 'a' ? DATA : -1;
            case 6 -> equals(b, from, STREAM_NAME) ? STREAM : -1;
            case 8 -> equals(b, from, PRIORITY_NAME) ? PRIORITY : -1;
            default -> -1;
        };
    }

    private static final byte[] STREAM_NAME = "stream".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PRIORITY_NAME = "priority".getBytes(StandardCharsets.US_ASCII);

    private static boolean equals(byte[] b, int from, byte[] name) {
        for (int k = 0; k < name.length; k++) {
            if (b[from + k] != name[k]) {
                return false;
            }
        }
        return true;
    }

    /** A string of printable ASCII without escapes starting at {@code b[i] == '"'}: the index after it, or -1. */
    private static int plainString(byte[] b, int i, int end) {
        if (i >= end || b[i] != '"') {
            return -1;
        }
        for (int k = i + 1; k < end; k++) {
            byte c = b[k];
            if (c == '"') {
                return k + 1;
            }
            if (c < 0x20 || c > 0x7E || c == '\\') {
                return -1; // escapes, control characters and non-ASCII text are the parser's
            }
        }
        return -1;
    }

    private static boolean hasLineBreak(byte[] b, int from, int to) {
        for (int k = from; k < to; k++) {
            if (b[k] == '\n' || b[k] == '\r') {
                return true;
            }
        }
        return false;
    }

    /** Spaces and tabs only: a line break makes the parser re-write the event, so it is not the plain shape. */
    private static int ws(byte[] b, int i, int end) {
        while (i < end && (b[i] == ' ' || b[i] == '\t')) {
            i++;
        }
        return i;
    }
}

package dev.outpost.edge.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.outpost.store.json.JsonText;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Validates events against the brief's event model, {@code {stream, key?, ts?, priority?, id?,
 * data}}, with a streaming parser (no tree per event). All-or-nothing: the first bad line rejects
 * the whole request with a problem naming the line and the field.
 *
 * <p>Decisions: unknown top-level fields are rejected (typos would otherwise be stored silently);
 * {@code ts} is epoch milliseconds or an ISO-8601 date-time with offset; blank NDJSON lines are
 * skipped; the event is stored as received when it is one line, else re-written compactly.
 *
 * <p>Encoding: the body must be UTF-8 ({@link JsonText}: no UTF-16/32, no malformed sequences, no
 * raw control characters, no lone surrogate escapes); a UTF-8 byte-order mark at the start of the
 * body is skipped and never stored. So every stored event is one line of UTF-8 JSON, starting
 * with '{'. {@code ts} must lie in {@link #TS_MILLIS_MIN}..{@link #TS_MILLIS_MAX}; {@code key} and
 * {@code id} hold no control characters.
 */
public final class EventParser {
    /** Longest stream name, in characters. */
    public static final int STREAM_CHARS_MAX = 128;
    /** Longest event id, in characters. */
    public static final int ID_CHARS_MAX = 128;
    /** Longest key, in characters. */
    public static final int KEY_CHARS_MAX = 256;
    /** Deepest nesting of {@code data}. */
    public static final int NESTING_DEPTH_MAX = 64;
    /** Earliest {@code ts}: 1970-01-01T00:00:00Z, in epoch milliseconds. */
    public static final long TS_MILLIS_MIN = 0;
    /** Latest {@code ts}: 9999-12-31T23:59:59.999Z, in epoch milliseconds (the last instant ISO-8601 writes with 4 digits). */
    public static final long TS_MILLIS_MAX = 253_402_300_799_999L;
    /** Priority classes, highest first. */
    public static final List<String> PRIORITIES = List.of("critical", "high", "normal", "bulk");

    private static final List<String> FIELDS = List.of("stream", "key", "ts", "priority", "id", "data");
    private static final String ALLOWED = String.join(", ", FIELDS);

    static {
        for (int i = 0; i < FIELDS.size(); i++) {
            if (fieldIndex(FIELDS.get(i)) != i) {
                throw new AssertionError("fieldIndex disagrees with FIELDS at " + FIELDS.get(i));
            }
        }
    }

    private final JsonFactory json;
    private final int batchEventsMax;
    private final long eventBytesMax;

    public EventParser(int batchEventsMax, long eventBytesMax) {
        this.batchEventsMax = batchEventsMax;
        this.eventBytesMax = eventBytesMax;
        this.json = JsonFactory.builder()
                .recyclerPool(LoopBufferRecyclers.POOL)
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(NESTING_DEPTH_MAX)
                        .build())
                .build();
    }

    /** Parses a body holding one JSON event. */
    public List<ParsedEvent> parseSingle(byte[] body) {
        return parseSingle(body, body.length);
    }

    /**
     * Parses a body holding one JSON event, the first {@code length} bytes of {@code body}; the event returned is a
     * slice of {@code body} when it is one line (valid while {@code body} is).
     */
    public List<ParsedEvent> parseSingle(byte[] body, int length) {
        int start = skipWs(body, bodyStart(body, length), length);
        int end = trimEnd(body, start, length);
        if (start == end) {
            throw new InvalidInput(
                    IngestOutcome.Fault.EMPTY_BODY, "the body holds no event; send one JSON object", 0, null);
        }
        if (end - start > eventBytesMax) {
            throw new InvalidInput(
                    IngestOutcome.Fault.EVENT_TOO_LARGE,
                    "the event is " + (end - start) + " bytes; ingest.event_bytes_max is " + eventBytesMax,
                    0,
                    null);
        }
        return List.of(parseOne(body, start, end, 0));
    }

    /** Parses an NDJSON body: one event per line. */
    public List<ParsedEvent> parseBatch(byte[] body) {
        return parseBatch(body, body.length);
    }

    /**
     * Parses an NDJSON body, the first {@code length} bytes of {@code body}: one event per line, each a slice of
     * {@code body} (valid while {@code body} is).
     */
    public List<ParsedEvent> parseBatch(byte[] body, int length) {
        List<ParsedEvent> out = new ArrayList<>();
        int lineNo = 0;
        int pos = bodyStart(body, length);
        while (pos < length) {
            int nl = indexOf(body, (byte) '\n', pos, length);
            int lineEnd = nl < 0 ? length : nl;
            lineNo++;
            int s = skipWs(body, pos, lineEnd);
            int e = trimEnd(body, s, lineEnd);
            if (s < e) {
                if (out.size() >= batchEventsMax) {
                    throw new InvalidInput(
                            IngestOutcome.Fault.BATCH_TOO_LARGE,
                            "more than ingest.batch_events_max = " + batchEventsMax
                                    + " events in one request; split the batch",
                            lineNo,
                            null);
                }
                if (e - s > eventBytesMax) {
                    throw new InvalidInput(
                            IngestOutcome.Fault.EVENT_TOO_LARGE,
                            "line " + lineNo + ": the event is " + (e - s) + " bytes; ingest.event_bytes_max is "
                                    + eventBytesMax,
                            lineNo,
                            null);
                }
                out.add(parseOne(body, s, e, lineNo));
            }
            pos = lineEnd + 1;
        }
        if (out.isEmpty()) {
            throw new InvalidInput(
                    IngestOutcome.Fault.EMPTY_BATCH,
                    "the NDJSON body holds no event; send one JSON object per line",
                    0,
                    null);
        }
        return out;
    }

    /** Where the JSON of a body starts: after a UTF-8 byte-order mark, if any; 400 if the body is not UTF-8. */
    private static int bodyStart(byte[] body, int length) {
        String foreign = JsonText.foreignEncoding(body, 0, length);
        if (foreign != null) {
            throw new InvalidInput(
                    IngestOutcome.Fault.BAD_ENCODING,
                    "the body is " + foreign + "; JSON must be UTF-8 (RFC 8259 §8.1): re-encode it as UTF-8",
                    0,
                    null);
        }
        return JsonText.bomLength(body, 0, length);
    }

    private ParsedEvent parseOne(byte[] b, int start, int end, int lineNo) {
        JsonText.Fault fault = JsonText.check(b, start, end - start);
        if (fault != null) {
            throw bad(
                    lineNo,
                    fieldAt(b, start, end, fault.offset() - start),
                    fault.reason() + " (at byte " + (fault.offset() - start + 1) + " of the event)");
        }
        ParsedEvent plain = EventScan.plain(b, start, end);
        return plain != null ? plain : parseWithJackson(b, start, end, lineNo);
    }

    /** The event read by jackson's parser (every event {@link EventScan} is not sure of); UTF-8 checked before. */
    ParsedEvent parseWithJackson(byte[] b, int start, int end, int lineNo) {
        String stream = null;
        String id = null;
        boolean hasData = false;
        try (JsonParser p = json.createParser(b, start, end - start)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw bad(lineNo, null, "an event must be a JSON object");
            }
            int seen = 0; // one bit per field of FIELDS: this runs per event, so no collection
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                int index = fieldIndex(f);
                if (index < 0) {
                    throw bad(lineNo, f, "unknown field '" + f + "'; allowed: " + ALLOWED);
                }
                int bit = 1 << index;
                if ((seen & bit) != 0) {
                    throw bad(lineNo, f, "field '" + f + "' appears twice");
                }
                seen |= bit;
                JsonToken v = p.nextToken();
                if (bit == DATA_BIT && v == JsonToken.START_OBJECT && dataAhead(p, b, start, end)) {
                    return event(b, start, end, lineNo, stream, id, true); // data is valid and the last field
                }
                switch (f) {
                    case "stream" -> stream = checkStream(string(p, v, lineNo, f, STREAM_CHARS_MAX, false), lineNo);
                    case "key" -> noControls(string(p, v, lineNo, f, KEY_CHARS_MAX, true), lineNo, f);
                    case "id" -> id = noControls(string(p, v, lineNo, f, ID_CHARS_MAX, true), lineNo, f);
                    case "priority" -> checkPriority(string(p, v, lineNo, f, 16, true), lineNo);
                    case "ts" -> checkTs(p, v, lineNo);
                    case "data" -> hasData = skipData(p, v, lineNo);
                    default -> throw new AssertionError(f);
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw bad(lineNo, null, "malformed JSON object");
            }
            if (p.nextToken() != null) {
                throw bad(
                        lineNo,
                        null,
                        "unexpected content after the event object"
                                + (lineNo > 0 ? "" : "; send a batch as application/x-ndjson"));
            }
        } catch (JsonProcessingException e) {
            throw bad(lineNo, null, "malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw bad(lineNo, null, "unreadable JSON: " + e.getMessage());
        }
        return event(b, start, end, lineNo, stream, id, hasData);
    }

    /** The parsed event, once its required fields are known to be there. */
    private ParsedEvent event(byte[] b, int start, int end, int lineNo, String stream, String id, boolean hasData) {
        if (stream == null) {
            throw bad(lineNo, "stream", "missing required field 'stream'");
        }
        if (!hasData) {
            throw bad(lineNo, "data", "missing required field 'data'");
        }
        // one line already (the usual case): stored from the body itself, no copy
        return hasLineBreak(b, start, end)
                ? new ParsedEvent(stream, id, compact(b, start, end))
                : new ParsedEvent(stream, id, b, start, end - start);
    }

    /**
     * Checks that data is an object and reads past it. A fault inside it (nested too deep, a number too long, broken
     * syntax) is the data field's: the problem names it, as for a fault the byte checks find there.
     */
    private static boolean skipData(JsonParser p, JsonToken v, int lineNo) throws IOException {
        if (v != JsonToken.START_OBJECT) {
            throw bad(lineNo, "data", "data must be a JSON object");
        }
        try {
            p.skipChildren();
        } catch (JsonProcessingException e) {
            throw bad(lineNo, "data", "malformed JSON: " + e.getOriginalMessage());
        }
        return true;
    }

    /** {@code data}'s bit among the fields seen. */
    private static final int DATA_BIT = 1 << 5;

    /**
     * Whether {@code data}, whose '{' jackson just read, is valid JSON and the last field of the event (only the
     * closing brace after it): then the event is complete without jackson reading further ({@link JsonSkip}).
     * Otherwise — another field follows, or the scanner is not sure — nothing was consumed and jackson reads it as
     * before.
     */
    private static boolean dataAhead(JsonParser p, byte[] b, int start, int end) {
        int at = start + (int) p.currentTokenLocation().getByteOffset();
        if (at < start || at >= end || b[at] != '{') {
            return false;
        }
        int after = JsonSkip.object(b, at, end);
        return after >= 0 && JsonSkip.closesObject(b, after, end);
    }

    /** The index of {@code name} in {@link #FIELDS}, or -1: a switch on the name's hash, not a scan of the list. */
    private static int fieldIndex(String name) {
        return switch (name) {
            case "stream" -> 0;
            case "key" -> 1;
            case "ts" -> 2;
            case "priority" -> 3;
            case "id" -> 4;
            case "data" -> 5;
            default -> -1;
        };
    }

    private static boolean hasLineBreak(byte[] b, int start, int end) {
        for (int i = start; i < end; i++) {
            if (b[i] == '\n' || b[i] == '\r') {
                return true;
            }
        }
        return false;
    }

    private static String checkStream(String stream, int lineNo) {
        if (stream.startsWith("_")) {
            throw bad(lineNo, "stream", "streams starting with '_' are reserved for the agent (e.g. _state)");
        }
        if (!validName(stream)) {
            throw bad(lineNo, "stream", "stream must be 1-" + STREAM_CHARS_MAX + " characters of A-Z a-z 0-9 . _ -");
        }
        return stream;
    }

    private static void checkPriority(String priority, int lineNo) {
        if (priority != null && !PRIORITIES.contains(priority)) {
            throw bad(lineNo, "priority", "priority must be one of " + String.join(", ", PRIORITIES));
        }
    }

    private static final String TS_RANGE =
            "from " + TS_MILLIS_MIN + " to " + TS_MILLIS_MAX + " (1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z)";

    /** {@code ts}: null, epoch milliseconds or an ISO-8601 date-time with offset, within the range. */
    private static void checkTs(JsonParser p, JsonToken v, int lineNo) throws IOException {
        if (v == JsonToken.VALUE_NULL) {
            return;
        }
        if (v == JsonToken.VALUE_NUMBER_INT) {
            // A BIG_INTEGER is beyond 64 bits; getLongValue would fail or wrap, so it is not asked.
            JsonParser.NumberType type = p.getNumberType();
            if (type == JsonParser.NumberType.BIG_INTEGER
                    || p.getLongValue() < TS_MILLIS_MIN
                    || p.getLongValue() > TS_MILLIS_MAX) {
                throw bad(lineNo, "ts", "ts is " + shown(p.getText()) + "; epoch milliseconds must be " + TS_RANGE);
            }
            return;
        }
        if (v != JsonToken.VALUE_STRING) {
            throw bad(lineNo, "ts", "ts must be epoch milliseconds or an ISO-8601 date-time string");
        }
        Instant t;
        try {
            t = OffsetDateTime.parse(p.getText()).toInstant();
        } catch (DateTimeParseException e) {
            throw bad(
                    lineNo,
                    "ts",
                    "ts must be epoch milliseconds or an ISO-8601 date-time with offset, e.g. 2026-11-23T04:48:17Z");
        }
        if (t.isBefore(Instant.ofEpochMilli(TS_MILLIS_MIN)) || t.isAfter(Instant.ofEpochMilli(TS_MILLIS_MAX))) {
            throw bad(lineNo, "ts", "ts is " + shown(p.getText()) + "; it must be " + TS_RANGE);
        }
    }

    /** A value as a problem shows it: at most 40 characters. */
    private static String shown(String v) {
        return v.length() <= 40 ? v : v.substring(0, 37) + "...";
    }

    /** {@code s} (may be null) if it holds no control character (C0 or DEL), else 400 naming {@code field}. */
    private static String noControls(String s, int lineNo, String field) {
        if (s != null) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c < 0x20 || c == 0x7F) {
                    throw bad(
                            lineNo,
                            field,
                            field + " must not contain control characters (found U+" + String.format("%04X", (int) c)
                                    + " at character " + (i + 1) + ")");
                }
            }
        }
        return s;
    }

    /**
     * The top-level field whose name or value holds byte {@code rel} of the event (relative to
     * {@code start}), or null: only for naming the field in a problem, so any failure is null.
     */
    private String fieldAt(byte[] b, int start, int end, int rel) {
        String field = null;
        try (JsonParser p = json.createParser(b, start, end - start)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                if (p.currentTokenLocation().getByteOffset() > rel) {
                    return field;
                }
                field = p.currentName();
                p.nextToken();
                p.skipChildren();
            }
            return t == JsonToken.END_OBJECT && p.currentTokenLocation().getByteOffset() > rel ? field : null;
        } catch (IOException | RuntimeException e) {
            return field;
        }
    }

    private byte[] compact(byte[] b, int start, int end) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(end - start);
        try (JsonParser p = json.createParser(b, start, end - start);
                JsonGenerator g = json.createGenerator(out)) {
            p.nextToken();
            g.copyCurrentStructure(p);
        } catch (IOException e) {
            throw new AssertionError("already validated", e);
        }
        return out.toByteArray();
    }

    private static String string(JsonParser p, JsonToken v, int lineNo, String f, int maxChars, boolean nullable)
            throws IOException {
        if (v == JsonToken.VALUE_NULL && nullable) {
            return null;
        }
        if (v != JsonToken.VALUE_STRING) {
            throw bad(lineNo, f, f + " must be a string");
        }
        String s = p.getText();
        if (s.isEmpty() || s.length() > maxChars) {
            throw bad(lineNo, f, f + " must be 1-" + maxChars + " characters");
        }
        return s;
    }

    /** True if {@code s} is a valid stream name: 1-128 of A-Z a-z 0-9 . _ - */
    public static boolean validName(String s) {
        if (s.isEmpty() || s.length() > STREAM_CHARS_MAX) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z'
                    || c >= 'A' && c <= 'Z'
                    || c >= '0' && c <= '9'
                    || c == '.'
                    || c == '_'
                    || c == '-')) {
                return false;
            }
        }
        return true;
    }

    private static InvalidInput bad(int lineNo, String field, String why) {
        String detail = (lineNo > 0 ? "line " + lineNo + ": " : "") + why;
        return new InvalidInput(IngestOutcome.Fault.MALFORMED_EVENT, detail, lineNo, field);
    }

    private static int indexOf(byte[] b, byte v, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    private static int skipWs(byte[] b, int from, int to) {
        while (from < to && (b[from] == ' ' || b[from] == '\t' || b[from] == '\r' || b[from] == '\n')) {
            from++;
        }
        return from;
    }

    private static int trimEnd(byte[] b, int from, int to) {
        while (to > from && (b[to - 1] == ' ' || b[to - 1] == '\t' || b[to - 1] == '\r' || b[to - 1] == '\n')) {
            to--;
        }
        return to;
    }
}

package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.store.json.JsonText;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * What a reader gets of a stored event payload: one line of UTF-8 JSON, whatever was stored.
 *
 * <p>Design note. Ingest stores only clean UTF-8 JSON objects ({@link EventParser}), but a log
 * may hold records written before it checked encodings (a body with a byte-order mark, UTF-16 or
 * UTF-32, malformed UTF-8) and a hub holds what its nodes pushed. Invariant: {@link #inspect}
 * answers {@link Verdict#CLEAN} only for a payload that is a non-empty JSON object on one line,
 * starting with '{', in clean UTF-8 ({@link JsonText}) and well-formed (a full token walk); else
 * it re-writes the payload — decoded as Jackson detects its encoding if it has a BOM or is
 * UTF-16/32, else as UTF-8 with malformed sequences replaced by U+FFFD, with lone surrogates in
 * strings also replaced by U+FFFD — and answers {@link Verdict#REPAIRED} only if the result is clean by the same test;
 * otherwise {@link Verdict#UNREADABLE}: the reader skips the record and counts it. Nothing is
 * changed on disk. One instance per page (not thread-safe).
 */
final class PayloadRepair {
    /** What became of a payload. */
    enum Verdict {
        /** Emitted as stored. */
        CLEAN,
        /** Emitted as {@link #repaired()}. */
        REPAIRED,
        /** Not emitted. */
        UNREADABLE
    }

    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8) // 😀 as 4 bytes, not two escapes
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(EventParser.NESTING_DEPTH_MAX + 1)
                    .build())
            .build();

    private byte[] repaired;

    /** Classifies {@code b[off, off+len)}; after {@link Verdict#REPAIRED}, {@link #repaired()} holds the line. */
    Verdict inspect(byte[] b, int off, int len) {
        repaired = null;
        if (clean(b, off, len)) {
            return Verdict.CLEAN;
        }
        // Another encoding (or a BOM): Jackson detects it. Else UTF-8 with Java's strict decoder, which
        // replaces overlong forms and encoded surrogates by U+FFFD where Jackson would decode some of them.
        boolean foreign = JsonText.foreignEncoding(b, off, len) != null || JsonText.bomLength(b, off, len) > 0;
        byte[] out = foreign
                ? rewrite(b, off, len, null)
                : rewrite(null, 0, 0, new String(b, off, len, StandardCharsets.UTF_8));
        if (out == null || !clean(out, 0, out.length)) {
            return Verdict.UNREADABLE;
        }
        repaired = out;
        return Verdict.REPAIRED;
    }

    /** The repaired payload of the last {@link #inspect} that answered {@link Verdict#REPAIRED}. */
    byte[] repaired() {
        return repaired;
    }

    /** Whether the range is a non-empty JSON object on one clean UTF-8 line, starting with '{'. */
    static boolean clean(byte[] b, int off, int len) {
        if (len < 2 || b[off] != '{' || !JsonText.isCleanLine(b, off, len)) {
            return false;
        }
        try (JsonParser p = JSON.createParser(b, off, len)) {
            p.nextToken();
            if (p.nextToken() != JsonToken.FIELD_NAME) {
                return false; // {} or worse: no event fields to show after the reader's own
            }
            p.nextToken();
            p.skipChildren();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                p.nextToken();
                p.skipChildren();
            }
            return p.currentToken() == JsonToken.END_OBJECT && p.nextToken() == null;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The object re-written as compact UTF-8 from bytes (encoding detected) or text, numbers as
     * written (1.50 stays 1.50); null if unreadable.
     */
    private static byte[] rewrite(byte[] b, int off, int len, String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, len));
        try (JsonParser p = text == null ? JSON.createParser(b, off, len) : JSON.createParser(text);
                JsonGenerator g = JSON.createGenerator(out)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            int depth = 0;
            JsonToken t = p.currentToken();
            do {
                switch (t) {
                    case FIELD_NAME -> g.writeFieldName(sound(p.currentName()));
                    case VALUE_STRING -> g.writeString(sound(p.getText()));
                    case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> g.writeNumber(p.getText());
                    default -> g.copyCurrentEvent(p);
                }
                depth += t.isStructStart() ? 1 : t.isStructEnd() ? -1 : 0;
            } while (depth > 0 && (t = p.nextToken()) != null);
            if (depth != 0 || p.nextToken() != null) {
                return null;
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return out.toByteArray();
    }

    /** {@code s} with each unpaired surrogate replaced by U+FFFD. */
    static String sound(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean paired = Character.isHighSurrogate(c)
                    ? i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))
                    : !Character.isLowSurrogate(c) || i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
            if (!paired && b == null) {
                b = new StringBuilder(s.length()).append(s, 0, i);
            }
            if (b != null) {
                b.append(paired ? c : '\uFFFD');
            }
        }
        return b == null ? s : b.toString();
    }
}

package dev.outpost.edge.engine.rollup;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.store.json.JsonTree;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * One final window of one group of a rollup, as it travels from a node to its hub: an event of the reserved stream
 * {@value #STREAM} in the high lane, synced like any other event.
 *
 * <p>Design note. The event is self-describing, so a hub needs no rollup definitions of its own: {@code data} holds
 * the rollup's name, its stream, its declaration ({@code spec}), the row as {@code GET /v1/rollups/{name}} answers it
 * ({@code window_start}, {@code window_end}, {@code group}, {@code values}), the stored {@code group_key} and the
 * mergeable {@link WindowSummary} ({@code summary}, base64 of {@link WindowSummary#encode}: count, per field count,
 * sum, min, max and the DDSketch). Invariant: what a hub stores is derived from {@code spec}, {@code window_start},
 * {@code group_key} and {@code summary} only ({@link #parse} recomputes the values from the summary); the readable
 * members are for people and other consumers of the stream. A window is final (its end plus the allowed lateness
 * passed on the rollup's watermark), so it never changes: the hub can upsert it by (node, rollup, group, window
 * start) and a resend is a no-op.
 *
 * @param spec the rollup's declaration on the node
 * @param windowStart the window's start, epoch milliseconds
 * @param groupKey the group's values as stored ({@link GroupKey#json})
 * @param summary the window's {@link WindowSummary}, encoded
 */
public record FinalWindow(RollupSpec spec, long windowStart, String groupKey, byte[] summary) {
    /** The reserved stream final windows are written to; clients may not write to it. */
    public static final String STREAM = "outpost.rollup_windows";

    /** The priority class (lane) of {@link #STREAM}. */
    public static final String PRIORITY = "high";

    private static final JsonFactory JSON = new JsonFactory();

    /** The rollup's name. */
    public String rollup() {
        return spec.name();
    }

    /** The event as stored: one line of JSON, its time the window's end. */
    byte[] event(Row row) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256 + summary.length * 4 / 3);
        try (JsonGenerator g = JSON.createGenerator(bytes, JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeStringField("stream", STREAM);
            g.writeStringField("key", spec.name());
            g.writeNumberField("ts", row.windowEndMillis());
            g.writeStringField("priority", PRIORITY);
            g.writeObjectFieldStart("data");
            g.writeStringField("rollup", spec.name());
            g.writeStringField("stream", spec.stream());
            row.writeFields(g);
            g.writeStringField("group_key", groupKey);
            g.writeFieldName("spec");
            JsonTree.write(g, spec.toTree());
            g.writeStringField("summary", Base64.getEncoder().encodeToString(summary));
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
        return bytes.toByteArray();
    }

    /** Each aggregate's value, recomputed from the summary with the spec (what a row stores as {@code vals}). */
    byte[] vals() {
        return Rollup.vals(WindowSummary.decode(summary).valueArray(spec));
    }

    /**
     * Reads a stored event of {@link #STREAM} ({@code json[off, off+len)}).
     *
     * @throws IllegalArgumentException naming what is wrong, if it is not a final window this build can store
     */
    public static FinalWindow parse(byte[] json, int off, int len) {
        Object tree;
        try {
            tree = JsonTree.parseStored(json, off, len);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
        if (!(tree instanceof Map<?, ?> event) || !(event.get("data") instanceof Map<?, ?> data)) {
            throw new IllegalArgumentException("a final window is an event with a data object");
        }
        if (!(data.get("rollup") instanceof String name)
                || !(data.get("window_start") instanceof Number start)
                || !(data.get("group_key") instanceof String groupKey)
                || !(data.get("summary") instanceof String summary64)) {
            throw new IllegalArgumentException("data must hold rollup, window_start, group_key and summary");
        }
        RollupSpec spec;
        try {
            spec = RollupSpec.parse(name, data.get("spec"));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("data.spec: " + e.getMessage(), e);
        }
        List<String> values = GroupKey.parseValues(groupKey);
        if (values.size() != spec.groupBy().size()) {
            throw new IllegalArgumentException("group_key has " + values.size() + " values for " + spec.groupBy());
        }
        byte[] summary = Base64.getDecoder().decode(summary64);
        FinalWindow w = new FinalWindow(spec, start.longValue(), groupKey, summary);
        try {
            w.vals();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the summary does not fit the spec: " + e.getMessage(), e);
        }
        return w;
    }
}

package dev.outpost.edge.engine.rollup;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.store.json.JsonTree;
import java.io.IOException;

/**
 * A rollup's progress, as of its last flush, for {@code GET /v1/rollups/{name}}.
 *
 * @param spec the declaration
 * @param coveredSeq the log position its rows are complete up to: every event up to it is applied, none after
 * @param logLastSeq the log's last sequence number, as the caller passed it
 * @param backfilling true while it is catching up with the log as it was when the rollup was defined
 * @param backfillUntilSeq the log's last sequence number when it was defined (0: nothing to backfill)
 * @param watermarkMillis the highest event time applied (see {@link Rollup})
 * @param windows distinct windows with rows
 * @param groups distinct groups with rows
 * @param rows rows (window x group)
 * @param events events applied
 * @param lateEvents events that came after their window closed, counted and not applied
 * @param skippedValues aggregate field values that were missing or not numbers (one per field and event)
 * @param definedAtMillis when this definition started (a changed definition starts again)
 * @param flushedAtMillis when its rows were last written
 */
public record Status(
        RollupSpec spec,
        long coveredSeq,
        long logLastSeq,
        boolean backfilling,
        long backfillUntilSeq,
        long watermarkMillis,
        long windows,
        long groups,
        long rows,
        long events,
        long lateEvents,
        long skippedValues,
        long definedAtMillis,
        long flushedAtMillis) {

    /** The share of the backfill done, 0..1 (1 when not backfilling). */
    public double backfillProgress() {
        return backfilling && backfillUntilSeq > 0 ? Math.min(1.0, (double) coveredSeq / backfillUntilSeq) : 1.0;
    }

    /** Events of the log not yet covered. */
    public long lagEvents() {
        return Math.max(0, logLastSeq - coveredSeq);
    }

    /** Writes the status as one JSON object, the declaration under {@code spec}. */
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", spec.name());
        g.writeFieldName("spec");
        JsonTree.write(g, spec.toTree());
        g.writeNumberField("covered_seq", coveredSeq);
        g.writeNumberField("log_last_seq", logLastSeq);
        g.writeNumberField("lag_events", lagEvents());
        g.writeBooleanField("backfilling", backfilling);
        g.writeNumberField("backfill_until_seq", backfillUntilSeq);
        g.writeNumberField("backfill_progress", backfillProgress());
        g.writeNumberField("watermark_millis", watermarkMillis);
        g.writeNumberField("windows", windows);
        g.writeNumberField("groups", groups);
        g.writeNumberField("rows", rows);
        g.writeNumberField("events", events);
        g.writeNumberField("late_events", lateEvents);
        g.writeNumberField("skipped_values", skippedValues);
        g.writeNumberField("defined_at_millis", definedAtMillis);
        g.writeNumberField("flushed_at_millis", flushedAtMillis);
        g.writeEndObject();
    }
}

package dev.outpost.edge.ingest;

import java.util.List;

/**
 * One step of the ingest pipeline between parsing and appending: the pipeline's extension point.
 *
 * <p>{@link IngestPipeline} runs {@code parse -> validate -> admit -> [engine stages] -> append -> ack}. Validation
 * (stream schemas) and admission (shedding) are stages in fixed places; the engine stages of later work (rules and
 * anomaly scoring, rollups, the live tail) are handed to the pipeline as an ordered list and run after admission, in
 * list order. Contract:
 *
 * <ul>
 *   <li>{@link #check} runs on the request's thread, once per request, before anything is stored. It must be fast
 *       and bounded (it delays the acknowledgement) and must not block on I/O. Returning a rejection stops the request
 *       whole: later stages do not run and nothing is stored.
 *   <li>{@link #acknowledged} runs once the request's events are durable and the client is being answered (only for a
 *       request that stored something), on the thread that completed durability: it must not block either. An
 *       exception there is logged and does not change the answer (the events are stored). It must not read the
 *       events' bytes ({@link ParsedEvent#json}): they are slices of the request's body, which the fast path reuses
 *       once the append returned (read what was stored from the log).
 * </ul>
 */
public interface IngestStage {
    /**
     * One request's parsed events.
     *
     * @param events in input order
     * @param ndjson true for an NDJSON batch (lines are then 1-based), false for a single event
     * @param idempotencyKey the request's Idempotency-Key, or null
     */
    record Batch(List<ParsedEvent> events, boolean ndjson, String idempotencyKey) {
        /** The line number to report for the event at {@code index}: 1-based in a batch, 0 for a single event. */
        public int line(int index) {
            return ndjson ? index + 1 : 0;
        }
    }

    /** Looks at a request before it is stored: null lets it through, a rejection refuses all of it. */
    IngestOutcome.Rejection check(Batch batch);

    /** The request's events are durable and acknowledged ({@code accepted} says which sequence numbers they got). */
    default void acknowledged(Batch batch, IngestOutcome.Accepted accepted) {}
}

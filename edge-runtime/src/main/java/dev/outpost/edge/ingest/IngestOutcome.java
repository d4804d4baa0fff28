package dev.outpost.edge.ingest;

/**
 * What one ingest request came to, as {@link IngestPipeline} answers it. No HTTP here: the HTTP layer maps each
 * outcome (and each {@link Fault} and {@link Reason}) to a status code and a problem+json body.
 */
public sealed interface IngestOutcome {
    /**
     * Stored: at least one event of the request is new.
     *
     * @param seqs the sequence number of each input event, in input order (a duplicate gets the original's)
     * @param stored how many events this request stored (the others were duplicates)
     */
    record Accepted(long[] seqs, int stored) implements IngestOutcome {
        public int duplicates() {
            return seqs.length - stored;
        }
    }

    /**
     * Nothing stored, nothing lost: every event was stored before (by event id within the dedup window), or the whole
     * request was (its Idempotency-Key was seen: {@code replayed}).
     *
     * @param seqs the original sequence number of each input event, in input order
     */
    record Duplicate(long[] seqs, boolean replayed) implements IngestOutcome {}

    /** The request was not stored, none of it. */
    sealed interface Rejection extends IngestOutcome permits Invalid, Refused {}

    /**
     * The request is wrong and retrying it unchanged will not help.
     *
     * @param fault what is wrong
     * @param line the 1-based line of an NDJSON batch at fault, or 0
     * @param field the field at fault, or null
     * @param reason a sentence for the client, naming the line, field and limit concerned
     */
    record Invalid(Fault fault, int line, String field, String reason) implements Rejection {}

    /**
     * The request may be right but the agent cannot take it now; the same request may succeed later.
     *
     * @param reason why
     * @param detail a sentence for the client
     * @param retryAfterSeconds when a retry makes sense
     */
    record Refused(Reason reason, String detail, int retryAfterSeconds) implements Rejection {}

    /** What is wrong with an invalid request. */
    enum Fault {
        /** The body is larger than http.body_bytes_max. */
        BODY_TOO_LARGE,
        /** A single-event body holds nothing. */
        EMPTY_BODY,
        /** An NDJSON body holds no event. */
        EMPTY_BATCH,
        /** One event is larger than ingest.event_bytes_max. */
        EVENT_TOO_LARGE,
        /** More events than ingest.batch_events_max. */
        BATCH_TOO_LARGE,
        /** The body is not UTF-8 (another Unicode encoding, or not text). */
        BAD_ENCODING,
        /** An event is not valid JSON or breaks the event model. */
        MALFORMED_EVENT,
        /** An event's data breaks its stream's schema. */
        SCHEMA_VIOLATION,
        /** An event names a stream the agent writes itself (the engine's alert stream). */
        RESERVED_STREAM,
        /** The Idempotency-Key is empty or too long. */
        BAD_IDEMPOTENCY_KEY,
        /** The Idempotency-Key was used before for a request of another size. */
        IDEMPOTENCY_KEY_REUSED
    }

    /** Why a request was refused for now. */
    enum Reason {
        /** Shedding: memory or ingest rate is the dimension under most pressure. */
        OVERLOADED,
        /** Shedding: disk is the dimension under most pressure (its budget is nearly or wholly used). */
        DISK_BUDGET,
        /** The data directory's filesystem is full: the store refused the write. */
        FILESYSTEM_FULL,
        /** The store failed. */
        STORE_UNAVAILABLE,
        /** The events were appended but could not be made durable: not acknowledged. */
        NOT_DURABLE
    }
}

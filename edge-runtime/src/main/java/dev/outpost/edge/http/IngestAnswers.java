package dev.outpost.edge.http;

import dev.outpost.edge.ingest.IngestOutcome;
import dev.outpost.store.LogFields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How POST /v1/events answers each {@link IngestOutcome}: 200 with the sequence numbers, or a problem+json body with
 * the status of its fault or reason (docs/API.md). The only place that knows ingest's status codes; both the router
 * ({@link EventsController}) and the fast path ({@link FastPath}) write what it answers.
 */
final class IngestAnswers {
    private static final Logger LOG = LoggerFactory.getLogger(IngestAnswers.class);

    private IngestAnswers() {}

    /** The fast paths' answer to an ingest that ended with {@code outcome}, or failed with {@code err} (500, logged). */
    static Answer of(IngestOutcome outcome, Throwable err) {
        if (err == null && outcome != null) {
            return of(outcome);
        }
        LOG.atError()
                .addKeyValue(LogFields.ADVICE, "the client got 500 and may retry; report this with the stack trace")
                .setCause(err)
                .log("ingest failed");
        return Problems.answer(500, "Internal Server Error", "ingest failed; see the agent's log", 0, null);
    }

    static Answer of(IngestOutcome outcome) {
        return switch (outcome) {
            case IngestOutcome.Accepted a -> stored(a.seqs(), a.stored(), false);
            case IngestOutcome.Duplicate d -> stored(d.seqs(), 0, d.replayed());
            case IngestOutcome.Invalid i -> invalid(i);
            case IngestOutcome.Refused r -> refused(r);
        };
    }

    /** {@code {"count":N,"stored":S,"duplicates":D,["replayed":true,]"seqs":[...]}}. */
    private static Answer stored(long[] seqs, int stored, boolean replayed) {
        // UTF-8 bytes straight from the generator: every acknowledged write answers this, so no String between.
        byte[] body = Json.writeUtf8(g -> {
            g.writeStartObject();
            g.writeNumberField("count", seqs.length);
            g.writeNumberField("stored", stored);
            g.writeNumberField("duplicates", seqs.length - stored);
            if (replayed) {
                g.writeBooleanField("replayed", true);
            }
            g.writeFieldName("seqs");
            g.writeArray(seqs, 0, seqs.length);
            g.writeEndObject();
        });
        return Answer.json(200, body);
    }

    private static Answer invalid(IngestOutcome.Invalid i) {
        int status = switch (i.fault()) {
            case BODY_TOO_LARGE, EVENT_TOO_LARGE, BATCH_TOO_LARGE -> 413;
            case SCHEMA_VIOLATION, IDEMPOTENCY_KEY_REUSED, RESERVED_STREAM -> 422;
            case EMPTY_BODY, EMPTY_BATCH, BAD_ENCODING, MALFORMED_EVENT, BAD_IDEMPOTENCY_KEY -> 400;
        };
        String title = switch (i.fault()) {
            case BODY_TOO_LARGE -> "Body too large";
            case EVENT_TOO_LARGE -> "Event too large";
            case BATCH_TOO_LARGE -> "Batch too large";
            case EMPTY_BODY -> "Empty body";
            case EMPTY_BATCH -> "Empty batch";
            case BAD_ENCODING -> "Invalid encoding";
            case MALFORMED_EVENT -> "Invalid event";
            case SCHEMA_VIOLATION -> "Schema violation";
            case RESERVED_STREAM -> "Reserved stream";
            case BAD_IDEMPOTENCY_KEY -> "Invalid Idempotency-Key";
            case IDEMPOTENCY_KEY_REUSED -> "Idempotency-Key reused";
        };
        return Problems.answer(status, title, i.reason(), i.line(), i.field());
    }

    private static Answer refused(IngestOutcome.Refused r) {
        Answer response = switch (r.reason()) {
            case OVERLOADED -> Problems.answer(429, "Too many requests", r.detail(), 0, null);
            case DISK_BUDGET -> Problems.answer(507, "Insufficient storage", r.detail(), 0, null);
            case FILESYSTEM_FULL -> {
                Problems.logDiskFull(r.detail());
                yield Problems.answer(507, "Insufficient storage", r.detail(), 0, null);
            }
            case STORE_UNAVAILABLE -> Problems.answer(503, "Store unavailable", r.detail(), 0, null);
            case NOT_DURABLE -> Problems.answer(503, "Not durable", r.detail(), 0, null);
        };
        // one value, ours (it replaces the problem's default in place, as the router's header set did)
        return new Answer(
                response.status(),
                response.contentType(),
                java.util.List.of("Retry-After", Integer.toString(r.retryAfterSeconds())),
                response.body());
    }
}

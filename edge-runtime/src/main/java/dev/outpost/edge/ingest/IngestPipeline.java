package dev.outpost.edge.ingest;

import dev.outpost.edge.metrics.Histogram;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.store.DiskFullException;
import dev.outpost.store.LogFields;
import dev.outpost.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest use case, {@code parse -> validate -> admit -> [engine stages] -> append -> ack}, answering each request
 * with an {@link IngestOutcome}. Knows nothing of HTTP: the HTTP layer hands it a body and maps the outcome.
 *
 * <p>Design note. Invariants:
 *
 * <ul>
 *   <li><b>All or nothing.</b> A request is stored whole (one log group, see {@link Ingestor}) or not at all: every
 *       check (size, parsing, stream schemas, shedding, the engine stages) runs before the append.
 *   <li><b>Acknowledged once durable.</b> The outcome completes when the stored events are durable per
 *       log.durability; if they cannot be made so, the request is {@link IngestOutcome.Reason#NOT_DURABLE refused}
 *       and a retry with the same Idempotency-Key stores them once.
 *   <li><b>Every request counted once</b>: acknowledged ({@code outpost_ingest_requests_total}, events and duplicates)
 *       or rejected ({@code outpost_ingest_rejected_total}); the latency histogram covers requests that reached the
 *       append, until durable.
 *   <li><b>Extension point.</b> {@link IngestStage}s run in a fixed order: validation, admission, then the engine
 *       stages in the order given. A stage that refuses stops the request; later stages do not see it.
 *   <li><b>Never throws for a request's sake.</b> Wrong input, pressure and store failures are outcomes; only a bug
 *       escapes.
 * </ul>
 */
public final class IngestPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(IngestPipeline.class);

    /** Seconds a client is told to wait before retrying a request refused by a store failure. */
    static final int RETRY_AFTER_SECONDS = 1;

    /**
     * One ingest request as received.
     *
     * @param body one JSON event, or NDJSON, in its first {@code length} bytes: the fast path lends its connection's
     *     scratch buffer, which it reuses once {@link #ingest} returns (nothing holds the body after the append)
     * @param length the body's length in bytes
     * @param ndjson true for an NDJSON batch
     * @param idempotencyKey the request's Idempotency-Key, or null
     * @param acks where the outcome completes when the log acknowledges later (durability fsync): the fast path
     *     names its connection's event loop, so one task per fsync answers all of that loop's requests; null: the
     *     log's own thread
     * @param round the connection's event loop's {@link AppendRound}: a single event is appended with the others
     *     that loop admits in the same pass (then {@code body} must be the request's own: it is read when the round
     *     runs), a batch after what the round holds; null: appended now
     */
    public record Request(
            byte[] body, int length, boolean ndjson, String idempotencyKey, Executor acks, AppendRound round) {
        public Request(byte[] body, boolean ndjson, String idempotencyKey) {
            this(body, body.length, ndjson, idempotencyKey, null, null);
        }

        public Request(byte[] body, int length, boolean ndjson, String idempotencyKey, Executor acks) {
            this(body, length, ndjson, idempotencyKey, acks, null);
        }
    }

    private final EventParser parser;
    private final long bodyBytesMax;
    private final List<IngestStage> stages;
    private final Ingestor ingestor;
    private final LongSupplier clockNanos;
    private final LongAdder requests;
    private final LongAdder rejected;
    private final LongAdder events;
    private final LongAdder duplicates;
    private final Histogram latency;

    /**
     * @param bodyBytesMax the largest body taken (http.body_bytes_max)
     * @param validate checks events against their streams (schemas)
     * @param admit refuses requests under pressure (shedding)
     * @param engine the engine's stages, run in this order after admission
     * @param ingestor appends, making retries no-ops
     */
    public IngestPipeline(
            EventParser parser,
            long bodyBytesMax,
            IngestStage validate,
            IngestStage admit,
            List<IngestStage> engine,
            Ingestor ingestor,
            Metrics metrics) {
        this.parser = parser;
        this.bodyBytesMax = bodyBytesMax;
        List<IngestStage> all = new ArrayList<>(engine.size() + 2);
        all.add(validate);
        all.add(admit);
        all.addAll(engine);
        this.stages = List.copyOf(all);
        this.ingestor = ingestor;
        this.clockNanos = System::nanoTime;
        this.requests = metrics.counter("outpost_ingest_requests_total", "Ingest requests acknowledged.");
        this.rejected = metrics.counter(
                "outpost_ingest_rejected_total", "Ingest requests rejected (4xx/5xx); nothing of them stored.");
        this.events = metrics.counter("outpost_ingest_events_total", "Events stored.");
        this.duplicates = metrics.counter(
                "outpost_ingest_duplicates_total", "Events not stored again: retries within the dedup window.");
        this.latency = metrics.histogram(
                "outpost_ingest_request_duration_seconds",
                "POST /v1/events latency until acknowledged (including fsync when configured).");
    }

    /**
     * Runs one request through the pipeline; completes once it is acknowledged or refused. A single event with a
     * {@link Request#round} is appended with the others of that round, when the round runs.
     */
    public CompletableFuture<IngestOutcome> ingest(Request request) {
        long start = clockNanos.getAsLong();
        IngestStage.Batch batch = null;
        IngestOutcome.Rejection rejection;
        try {
            rejection = tooLarge(request.length());
            if (rejection == null) {
                batch = parse(request);
                rejection = check(batch);
            }
        } catch (InvalidInput e) {
            rejection = e.outcome();
        }
        if (rejection != null) {
            rejected.increment();
            return CompletableFuture.completedFuture(rejection);
        }
        if (request.round() != null) {
            if (!request.ndjson()) {
                return request.round().add(batch, start);
            }
            request.round().runNow(); // what the loop held goes first: answers and seqs keep arrival order
        }
        Object stored;
        try {
            stored = ingestor.ingest(batch.events(), request.idempotencyKey(), request.acks());
        } catch (RuntimeException e) {
            stored = e;
        }
        return outcome(batch, stored, start);
    }

    /**
     * Stores the requests a round held, in as few log groups as the ingestor can, and completes their outcomes as
     * {@link #ingest} would have (the loop's thread; see {@link AppendRound}).
     */
    void storeAll(List<AppendRound.Held> held, java.util.concurrent.Executor acks) {
        List<Ingestor.Pending> pending = new ArrayList<>(held.size());
        for (AppendRound.Held h : held) {
            pending.add(new Ingestor.Pending(h.batch().events(), h.batch().idempotencyKey()));
        }
        Object[] stored;
        try {
            stored = ingestor.ingestAll(pending, acks);
        } catch (RuntimeException e) { // a bug: refuse every request rather than leave one unanswered
            stored = new Object[held.size()];
            java.util.Arrays.fill(stored, e);
        }
        for (int i = 0; i < held.size(); i++) {
            AppendRound.Held h = held.get(i);
            CompletableFuture<IngestOutcome> o;
            try {
                o = outcome(h.batch(), stored[i], h.startNanos());
            } catch (RuntimeException e) {
                o = CompletableFuture.failedFuture(e);
            }
            if (o.isDone() && !o.isCompletedExceptionally()) { // durability os: answered now, no stage to chain
                h.outcome().complete(o.join());
                continue;
            }
            o.whenComplete((done, err) -> {
                if (err != null) {
                    h.outcome().completeExceptionally(err);
                } else {
                    h.outcome().complete(done);
                }
            });
        }
    }

    /** The outcome of an admitted request the ingestor stored ({@link IngestResult}) or refused (an exception). */
    private CompletableFuture<IngestOutcome> outcome(IngestStage.Batch batch, Object stored, long start) {
        if (stored instanceof RuntimeException e) {
            rejected.increment();
            return CompletableFuture.completedFuture(refusal(e, batch));
        }
        IngestResult result = (IngestResult) stored;
        CompletableFuture<Void> durable = result.durable();
        if (durable.isDone() && !durable.isCompletedExceptionally()) { // durability os: no stage to chain
            return CompletableFuture.completedFuture(acknowledge(batch, result, null, start));
        }
        return durable.handle((ok, err) -> acknowledge(batch, result, err, start));
    }

    /** What the client is told when the ingestor refused a request with {@code e}. */
    private IngestOutcome.Rejection refusal(RuntimeException e, IngestStage.Batch batch) {
        return switch (e) {
            case InvalidInput invalid -> invalid.outcome();
            case DiskFullException full ->
                new IngestOutcome.Refused(IngestOutcome.Reason.FILESYSTEM_FULL, full.getMessage(), RETRY_AFTER_SECONDS);
            case StoreException failed -> {
                LogFields.with(LOG.atError(), LogFields.STREAM, streams(batch))
                        .addKeyValue(LogFields.ADVICE, STORE_ADVICE)
                        .setCause(failed)
                        .log("ingest failed");
                yield new IngestOutcome.Refused(
                        IngestOutcome.Reason.STORE_UNAVAILABLE, failed.getMessage(), RETRY_AFTER_SECONDS);
            }
            default -> throw e; // a bug: not an outcome
        };
    }

    private IngestOutcome.Invalid tooLarge(int length) {
        if (length <= bodyBytesMax) {
            return null;
        }
        return new IngestOutcome.Invalid(
                IngestOutcome.Fault.BODY_TOO_LARGE,
                0,
                null,
                "the body is " + length + " bytes; at most http.body_bytes_max = " + bodyBytesMax + " are accepted");
    }

    private IngestStage.Batch parse(Request request) {
        List<ParsedEvent> parsed = request.ndjson()
                ? parser.parseBatch(request.body(), request.length())
                : parser.parseSingle(request.body(), request.length());
        return new IngestStage.Batch(parsed, request.ndjson(), request.idempotencyKey());
    }

    private IngestOutcome.Rejection check(IngestStage.Batch batch) {
        for (IngestStage stage : stages) {
            IngestOutcome.Rejection r = stage.check(batch);
            if (r != null) {
                return r;
            }
        }
        return null;
    }

    /** The append completed (durable, or failed to be): count it and say what the client gets. */
    private IngestOutcome acknowledge(IngestStage.Batch batch, IngestResult r, Throwable err, long start) {
        latency.recordNanos(clockNanos.getAsLong() - start);
        if (err != null) {
            rejected.increment();
            LOG.atError()
                    .addKeyValue(LogFields.STREAM, streams(batch))
                    .addKeyValue(LogFields.ADVICE, STORE_ADVICE)
                    .setCause(err)
                    .log("events {}..{} not acknowledged: not durable", r.seqs()[0], r.seqs()[r.seqs().length - 1]);
            return new IngestOutcome.Refused(
                    IngestOutcome.Reason.NOT_DURABLE,
                    "the events could not be made durable: " + err.getMessage()
                            + "; they were not acknowledged, retry with the same Idempotency-Key",
                    RETRY_AFTER_SECONDS);
        }
        requests.increment();
        events.add(r.stored());
        duplicates.add(r.duplicates());
        if (r.stored() == 0) {
            return new IngestOutcome.Duplicate(r.seqs(), r.replayed());
        }
        IngestOutcome.Accepted accepted = new IngestOutcome.Accepted(r.seqs(), r.stored());
        for (IngestStage stage : stages) {
            try {
                stage.acknowledged(batch, accepted);
            } catch (RuntimeException e) {
                LOG.atWarn()
                        .addKeyValue(LogFields.STREAM, streams(batch))
                        .addKeyValue(
                                LogFields.ADVICE,
                                "the events are stored; the engine or a live tail may have missed"
                                        + " them until restart; report this with the stack trace")
                        .setCause(e)
                        .log("ingest stage {} failed after events {}.. were stored", stage, r.seqs()[0]);
            }
        }
        return accepted;
    }

    /** What to do when the store refuses a write (the client got 503). */
    private static final String STORE_ADVICE =
            "check the data directory's disk (space, I/O errors); the client got 503 and may retry (same Idempotency-Key)";

    /** The streams of a request, for its log line: each once, at most 8. */
    private static String streams(IngestStage.Batch batch) {
        return batch.events().stream()
                .map(ParsedEvent::stream)
                .distinct()
                .limit(8)
                .collect(Collectors.joining(","));
    }

    /** Events stored so far (the governor's ingest-rate probe reads it). */
    public long storedEvents() {
        return events.sum();
    }

    /** Latency of requests until acknowledged (the governor's smaller-batches action reads it). */
    public Histogram latency() {
        return latency;
    }

    /** The dedup and append step (its windows shrink under memory pressure). */
    public Ingestor ingestor() {
        return ingestor;
    }
}

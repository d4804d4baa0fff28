package dev.outpost.edge.ingest;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The single-event ingests one event loop admits in one pass over its ready connections, appended to the log
 * together when the pass ends.
 *
 * <p>Design note. Two event loops appending one event per request took turns at the log's lock, and every piece of
 * state an append touches (the lock, the queue's header and index, the counters) moved between the cores each time:
 * single-event ingest was held to about three quarters of nginx's rate while its threads were not busy (issue #14,
 * docs/BENCHMARKS.md). A loop hands its round to itself as a task ({@link Executor} of the loop), which Netty runs
 * after the reads of that pass; so requests that arrived together on different connections share one lock hold and
 * one log group, and each is answered with exactly what it would have got alone (see {@link
 * Ingestor#ingestAll}). Checks (size, parsing, schemas, shedding, the engine's) ran before a request was held, so a
 * request refused by them is answered at once.
 *
 * <p>Invariants: used by its loop's thread only (no locks); a round holds at most {@link #REQUESTS_MAX} requests and
 * about {@link #BYTES_MAX} bytes of bodies (reaching either runs it at once); a held request's body is its own array
 * (read when the round runs); every held request's outcome completes, refused if the round failed.
 */
public final class AppendRound {
    /** Most requests one round holds: one log group's worth of single events. */
    static final int REQUESTS_MAX = 1_024;

    /** About the most body bytes one round holds before it runs. */
    static final int BYTES_MAX = 256 * 1024;

    /** A request held for the round; its outcome completes when the round has run. */
    record Held(IngestStage.Batch batch, long startNanos, CompletableFuture<IngestOutcome> outcome) {}

    private final IngestPipeline pipeline;
    private final Executor loop;
    private final Executor acks;
    private List<Held> held = new ArrayList<>();
    private long bytes;

    /**
     * @param loop runs a task on the event loop's thread after the reads of the current pass
     * @param acks where the fsync acknowledgements of the round's requests complete (the same loop's)
     */
    public AppendRound(IngestPipeline pipeline, Executor loop, Executor acks) {
        this.pipeline = pipeline;
        this.loop = loop;
        this.acks = acks;
    }

    /** Where the fsync acknowledgements of the round's requests complete. */
    public Executor acks() {
        return acks;
    }

    /** Holds an admitted single-event request for the round; its outcome completes when the round has run. */
    CompletableFuture<IngestOutcome> add(IngestStage.Batch batch, long startNanos) {
        int length = 0;
        for (ParsedEvent e : batch.events()) {
            length += e.length();
        }
        if (!held.isEmpty() && bytes + length > BYTES_MAX) {
            runNow(); // full: this one starts the next round
        }
        if (held.isEmpty()) {
            loop.execute(this::runNow);
        }
        Held h = new Held(batch, startNanos, new CompletableFuture<>());
        held.add(h);
        bytes += length;
        if (held.size() >= REQUESTS_MAX) {
            runNow();
        }
        return h.outcome();
    }

    /**
     * Appends what is held now (nothing if a full round ran it already) and completes the outcomes: when the pass
     * ends, and before a batch from this loop (appended at once) or another request is answered, so what a connection
     * sent earlier is stored before a later request of it is answered.
     */
    public void runNow() {
        if (held.isEmpty()) {
            return;
        }
        List<Held> todo = held;
        held = new ArrayList<>();
        bytes = 0;
        pipeline.storeAll(todo, acks);
    }
}

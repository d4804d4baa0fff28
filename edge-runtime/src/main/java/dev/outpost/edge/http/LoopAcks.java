package dev.outpost.edge.http;

import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where group commit delivers the fast path's fsync acknowledgements for one event loop (issue #14 point 3): the
 * executor a fast-path ingest names for its outcome ({@code IngestPipeline.Request#acks}).
 *
 * <p>Design note. Group commit hands this executor one task per fsync round, holding every waiter of this loop's
 * connections in that round; it runs on the loop, so completing the futures runs the pipeline's acknowledgement and
 * the handler's answer right there — no task per request. While a round runs ({@link #inRound}), a handler that wrote
 * answers does not flush at once but asks to be flushed ({@link #flushAtEnd}); at the round's end each such connection
 * is flushed once. Invariants: everything here runs on the one loop (no locks); a handler is in the list at most once
 * per round (its own flag); a connection that went since asking is flushed
 * harmlessly (Netty drops a flush on a closed channel).
 */
final class LoopAcks implements Executor {
    private final EventExecutor loop;
    private final List<Connection> toFlush = new ArrayList<>();
    private final LongAdder rounds;
    private boolean inRound;

    /** @param rounds counts the rounds run (outpost_http_fast_ack_rounds_total) */
    LoopAcks(EventExecutor loop, LongAdder rounds) {
        this.loop = loop;
        this.rounds = rounds;
    }

    @Override
    public void execute(Runnable round) {
        loop.execute(() -> run(round, true));
    }

    /**
     * Runs {@code task} on the loop as a round that is not group commit's (an {@code AppendRound}): answers it
     * completes are flushed at its end, and it is not counted in outpost_http_fast_ack_rounds_total.
     */
    void executeUncounted(Runnable task) {
        loop.execute(() -> run(task, false));
    }

    private void run(Runnable round, boolean counted) {
        if (counted) {
            rounds.increment();
        }
        inRound = true;
        try {
            round.run();
        } finally {
            inRound = false;
            for (Connection h : toFlush) {
                h.roundEnded();
            }
            toFlush.clear();
        }
    }

    /** A fast-path connection that wrote answers in a round ({@link AnswerFlush}). */
    interface Connection {
        /** The round that wrote answers ended: they go out in one flush. */
        void roundEnded();
    }

    /** Whether a round's completions are running now (on the loop). */
    boolean inRound() {
        return inRound;
    }

    /** {@code handler} wrote answers in this round: flush it once at the round's end. */
    void flushAtEnd(Connection handler) {
        toFlush.add(handler);
    }
}

package dev.outpost.edge.live;

import java.util.concurrent.atomic.LongAdder;

/**
 * The time the event loops spent writing to subscribers' connections, in this process, for the send budget: the loops
 * are shared by every feed (the agent's and a hub's fleet tails), so one measure serves them all. Added to by the
 * transport's write batches ({@code http.LoopWrites}); read by each feed's {@link SendBudget}. Monotonic, nanoseconds.
 */
public final class WriteTime {
    private static final WriteTime PROCESS = new WriteTime();

    private final LongAdder nanos = new LongAdder();

    /** The process's one measure. */
    public static WriteTime process() {
        return PROCESS;
    }

    /** A loop spent {@code elapsed} nanoseconds writing to subscribers. */
    public void add(long elapsed) {
        nanos.add(elapsed);
    }

    /** All the time spent so far, nanoseconds. */
    public long nanos() {
        return nanos.sum();
    }
}

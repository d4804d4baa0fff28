package dev.outpost.store;

import java.util.function.LongSupplier;

/**
 * Hybrid logical clock: the upper 48 bits are wall-clock milliseconds, the lower 16 bits a logical
 * counter.
 *
 * <p>Invariants: {@link #now()} is strictly increasing across calls, even when the wall clock jumps
 * backwards; {@link #observe(long)} moves the clock past any timestamp seen (from the log tail on
 * recovery, later from peers), so ordering survives restarts and clock jumps. Thread-safe.
 */
public final class HybridClock {
    /** Bits of the logical counter below the millisecond part. */
    public static final int LOGICAL_BITS = 16;

    /** Mask of the logical counter. */
    public static final long LOGICAL_MASK = (1L << LOGICAL_BITS) - 1;

    private final LongSupplier wallMillis;
    private long last;

    public HybridClock(LongSupplier wallMillis) {
        this.wallMillis = wallMillis;
    }

    public static HybridClock system() {
        return new HybridClock(System::currentTimeMillis);
    }

    /**
     * Wall-clock milliseconds that never go back behind a timestamp returned or observed (the log
     * tail's, on recovery). The event log's cycles roll by this: a wall clock set back must not send
     * appends to an older cycle file, where reads in cycle order would not find them; and a test that
     * passes in its own wall clock controls cycle boundaries as well as time stamps.
     */
    public synchronized long monotonicMillis() {
        return Math.max(wallMillis.getAsLong(), last >>> LOGICAL_BITS);
    }

    /** Returns a timestamp greater than every one returned or observed before. */
    public synchronized long now() {
        long physical = wallMillis.getAsLong() << LOGICAL_BITS;
        last = physical > last ? physical : last + 1;
        return last;
    }

    /** Moves the clock to at least {@code timestamp}. */
    public synchronized void observe(long timestamp) {
        if (timestamp > last) {
            last = timestamp;
        }
    }

    /** The wall-clock milliseconds part of a timestamp. */
    public static long millis(long timestamp) {
        return timestamp >>> LOGICAL_BITS;
    }

    /** The smallest timestamp at the given wall-clock millisecond. */
    public static long atMillis(long millis) {
        return millis << LOGICAL_BITS;
    }
}

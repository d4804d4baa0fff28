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

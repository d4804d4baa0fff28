package dev.outpost.edge.live;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How many bytes the live feed may hand to its subscribers' connections now: unlimited while ingest is quiet, at most
 * {@code live.busy_send_bytes_per_second_max} while it is busy, so ingest keeps the CPU when both want it.
 *
 * <p>Design note. Sending an event to 2,000 subscribers costs the agent about what ingesting it cost, many times over
 * (a write, the kernel's copy, TCP on loopback), on the same two cores and the same event loops; run flat out beside
 * batched ingest, the subscribers took half the ingest throughput (docs/BENCHMARKS.md). Ingest is busy when more than
 * {@link #BUSY_EVENTS_PER_SECOND} events or {@link #BUSY_WRITES_PER_SECOND} writes a second were acknowledged over the
 * last {@link #WINDOW_NANOS} (the writes too, since a box shared with other work ingests fewer events; a paced
 * stream of thousands a second is not busy: it gets every event at once). What the subscribers cannot be sent waits
 * in the log, and a subscriber that falls more than live.lag_events_max behind is skipped forward with a gap message
 * or cut, as live.overflow says (counted).
 *
 * <p>Bytes alone are the wrong measure across devices: the same bytes cost a slower box (or one whose system calls
 * are dearer) a larger share of its CPU — 32 MiB/s to 2,000 subscribers took half a slow box's ingest. So a second
 * limit holds while busy: the event loops' measured time writing to subscribers ({@link WriteTime}) may be at most
 * {@code live.busy_send_cpu_percent_max} of all cores. The time shows up after the writes it measures (the loops write
 * what the feed handed them), so it is charged when seen, and the feed holds until the debt is paid off.
 * Invariants: while busy, the bytes sent in any second are at most the limit plus one helping (one subscriber's
 * buffer), and the write time over any stretch is at most the share plus what was already handed to the loops; 0
 * means no limit, for either; feed thread only; time comes from the caller.
 */
final class SendBudget {
    /** Ingest above this many events a second (acknowledged) is busy. */
    static final long BUSY_EVENTS_PER_SECOND = 50_000;
    /** Or above this many acknowledged writes (requests, pushes) a second: each costs the agent its own work. */
    static final long BUSY_WRITES_PER_SECOND = 500;
    /** Writing to subscribers above this share of all cores, with some ingest arriving, is busy too. */
    static final int SATURATED_PERCENT = 50;
    /** How long ingest stays busy after subscribers' writes saturated the loops. */
    static final long SATURATED_HOLD_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Over how long the ingest rate is taken. */
    static final long WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final long bytesPerSecond;
    /** Write time allowed per second while busy, nanoseconds (0: no limit). */
    private final long writeNanosPerSecond;

    private final LongSupplier writeNanos;
    private long writeNanosSeen;
    private long writeNanosAtWindowStart;
    private long saturatedUntil = Long.MIN_VALUE / 2;
    private final int cores;
    private long timeTokens;
    private long windowStart = Long.MIN_VALUE;
    private long headAtWindowStart;
    private long writesAtWindowStart;
    private boolean busy;
    private long tokens;
    private long refilledAt;

    /** {@code bytesPerSecond}: what may be sent while ingest is busy (0: no limit); no limit on write time. */
    SendBudget(long bytesPerSecond) {
        this(bytesPerSecond, 0, 1, () -> 0);
    }

    /**
     * {@code bytesPerSecond}: what may be sent while ingest is busy; {@code cpuPercent} of {@code cores}: the write
     * time it may take ({@code writeNanos}: the loops' write time so far). 0: no limit, for either.
     */
    SendBudget(long bytesPerSecond, int cpuPercent, int cores, LongSupplier writeNanos) {
        assert bytesPerSecond >= 0 && cpuPercent >= 0 && cpuPercent <= 100 && cores > 0;
        this.bytesPerSecond = bytesPerSecond;
        this.writeNanosPerSecond = TimeUnit.SECONDS.toNanos(1) * cpuPercent * cores / 100;
        this.cores = cores;
        this.writeNanos = writeNanos;
    }

    /** Takes note of the acknowledged head and count of acknowledged writes at {@code now}; once per turn. */
    void observe(long now, long head, long writes) {
        long written = writeNanos.getAsLong();
        if (windowStart == Long.MIN_VALUE) {
            windowStart = now;
            headAtWindowStart = head;
            writesAtWindowStart = writes;
            refilledAt = now;
            writeNanosSeen = written;
            writeNanosAtWindowStart = written;
            return;
        }
        long elapsed = now - windowStart;
        if (elapsed >= WINDOW_NANOS) {
            boolean wasBusy = busy;
            long second = TimeUnit.SECONDS.toNanos(1);
            // Or subscribers took most of the loops while some ingest arrived: it would have been faster without
            // them (unheld, they can keep ingest below the rates above, and so never be held back).
            boolean saturated = writeNanosPerSecond > 0
                    && writes > writesAtWindowStart
                    && (written - writeNanosAtWindowStart) * 100 > elapsed * cores * SATURATED_PERCENT;
            if (saturated) {
                saturatedUntil = now + SATURATED_HOLD_NANOS; // held, the writes no longer saturate: stay busy a while
            }
            busy = (head - headAtWindowStart) * second > BUSY_EVENTS_PER_SECOND * elapsed
                    || (writes - writesAtWindowStart) * second > BUSY_WRITES_PER_SECOND * elapsed
                    || now - saturatedUntil < 0;
            if (busy && !wasBusy) {
                tokens = bytesPerSecond / 10; // a tenth of a second's worth to start with
                timeTokens = writeNanosPerSecond / 10;
            }
            windowStart = now;
            headAtWindowStart = head;
            writesAtWindowStart = writes;
            writeNanosAtWindowStart = written;
        }
        long dt = Math.min(now - refilledAt, TimeUnit.SECONDS.toNanos(1));
        refilledAt = now;
        tokens = Math.min(bytesPerSecond / 10, tokens + bytesPerSecond * dt / TimeUnit.SECONDS.toNanos(1));
        long spentWriting = written - writeNanosSeen;
        writeNanosSeen = written;
        long earned = writeNanosPerSecond * dt / TimeUnit.SECONDS.toNanos(1);
        timeTokens = Math.min(writeNanosPerSecond / 10, timeTokens + earned - (busy ? spentWriting : 0));
    }

    /** Whether ingest is busy now and some limit applies. */
    boolean busy() {
        return busy && (bytesPerSecond > 0 || writeNanosPerSecond > 0);
    }

    /** Whether the feed may send now. */
    boolean allows() {
        return !busy || (bytesPerSecond == 0 || tokens > 0) && (writeNanosPerSecond == 0 || timeTokens > 0);
    }

    /** The feed handed {@code bytes} to connections. */
    void spent(long bytes) {
        if (busy && bytesPerSecond > 0) {
            tokens -= bytes;
        }
    }

    /** How long until the feed may send again (0 if it may now): at most {@code capNanos}. */
    long nanosUntilAllowed(long capNanos) {
        if (allows()) {
            return 0;
        }
        long second = TimeUnit.SECONDS.toNanos(1);
        long forBytes = bytesPerSecond == 0 || tokens > 0 ? 0 : -tokens * second / bytesPerSecond;
        long forTime = writeNanosPerSecond == 0 || timeTokens > 0 ? 0 : -timeTokens * second / writeNanosPerSecond;
        return Math.min(capNanos, Math.max(1, Math.max(forBytes, forTime)));
    }
}

package dev.outpost.edge.live;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
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
 *
 * <p>Probes. Ingest that the subscribers slow below the busy rates is never busy, so the subscribers are never held
 * back, and it stays slow: a trap (docs/BENCHMARKS.md, "A slower box"). From inside the agent a client held back this
 * way looks the same as one that sends slowly on purpose (a paced stream beside a fan-out that needs the cores), so
 * the budget asks: when ingest and sends have gone on together unheld (in three quarters of the windows of the last
 * {@link #PROBE_AFTER_NANOS}) with no CPU left idle ({@link #BOX_FULL_PERCENT}; where the machine's use is unknown, the loops' writes over half the cores,
 * {@link WriteTime}), it holds the feed for {@link #PROBE_NANOS} and watches ingest. Ingest that rises above the busy rates then was held back by the
 * subscribers: busy, as if measured (for {@link #SATURATED_HOLD_NANOS}, then by rate as ever). Ingest that does not
 * rise was not: the next probe waits twice as long (up to {@link #PROBE_AFTER_MAX_NANOS}), so a paced stream's
 * subscribers lose a few pauses, never the rate — and where its fan-out leaves CPU idle, none. Invariants: a probe holds the feed for at most PROBE_NANOS
 * plus one turn; probes are at least PROBE_AFTER_NANOS apart; none while busy, without ingest, without sends, with
 * CPU idle, or with no byte limit to apply.
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
    /** Ingest and sends together, unheld, this long: a probe (the first; each that finds nothing doubles it). */
    static final long PROBE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** Windows in the first wait before a probe (three quarters of them with ingest and sends together). */
    static final int PROBE_WINDOWS = (int) (PROBE_AFTER_NANOS / WINDOW_NANOS);
    /** The machine's CPU use at or over which nothing is left idle (probes need it). */
    static final int BOX_FULL_PERCENT = 90;
    /** The longest wait between probes. */
    static final long PROBE_AFTER_MAX_NANOS = TimeUnit.SECONDS.toNanos(60);
    /**
     * How long a probe holds the feed: long enough for what was already handed to the loops and the sockets to drain
     * and a held-back client to show its rate (25 ms did not, on a two-core box with 2,000 subscribers).
     */
    static final long PROBE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

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
    private long sentTotal;
    private long sentAtWindowStart;
    private long now;
    private long probeAfter = PROBE_AFTER_NANOS;
    private long probeDue;
    private long togetherWindows;
    private long writesBeforeWindow;
    private boolean probing;
    private long probeStart;
    private long probeHead;
    private long probeWrites;
    private LongAdder probes = new LongAdder();
    private LongAdder probesFound = new LongAdder();
    private DoubleSupplier cpuLoad = () -> -1;

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

    /** Counts probes, and those that found ingest held back, in {@code probes} and {@code found} (metrics). */
    SendBudget counting(LongAdder probes, LongAdder found) {
        this.probes = probes;
        this.probesFound = found;
        return this;
    }

    /**
     * The machine's CPU use since the last call, 0 to 1 (negative: unknown, and the loops' write time decides), read
     * once a window: probes only where nothing is left idle.
     */
    SendBudget withCpuLoad(DoubleSupplier load) {
        this.cpuLoad = load;
        return this;
    }

    /** Takes note of the acknowledged head and count of acknowledged writes at {@code now}; once per turn. */
    void observe(long now, long head, long writes) {
        this.now = now;
        long written = writeNanos.getAsLong();
        if (windowStart == Long.MIN_VALUE) {
            windowStart = now;
            headAtWindowStart = head;
            writesAtWindowStart = writes;
            refilledAt = now;
            writeNanosSeen = written;
            writeNanosAtWindowStart = written;
            probeDue = now; // the first probe waits for PROBE_WINDOWS windows of ingest and sends together
            return;
        }
        if (probing && now - (probeStart + PROBE_NANOS) >= 0) {
            endProbe(now, head, writes);
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
                startBusy();
            }
            // nothing left idle (or, unknown, the loops' writes over half of all cores): where a paced stream's
            // fan-out leaves room, no probe pauses it
            double load = cpuLoad.getAsDouble();
            boolean full = load >= 0
                    ? load * 100 >= BOX_FULL_PERCENT
                    : (written - writeNanosAtWindowStart) * 100 > elapsed * cores * SATURATED_PERCENT;
            maybeProbe(now, head, writes, full);
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

    private void startBusy() {
        tokens = bytesPerSecond / 10; // a tenth of a second's worth to start with
        timeTokens = writeNanosPerSecond / 10;
    }

    /** At a window's end: a probe if ingest and sends went on together, unheld, since the last one was due. */
    private void maybeProbe(long now, long head, long writes, boolean full) {
        boolean together = !busy
                && !probing
                && bytesPerSecond > 0
                && full
                && writes > writesBeforeWindow // over two windows: held-back requests come in bursts
                && sentTotal > sentAtWindowStart;
        sentAtWindowStart = sentTotal;
        writesBeforeWindow = writesAtWindowStart;
        // Most windows of the last PROBE_AFTER_NANOS, not all: one without a send, or a reading under the mark, must
        // not start the wait again.
        togetherWindows = togetherWindows << 1 | (together ? 1 : 0);
        boolean mostly = Long.bitCount(togetherWindows & (1L << PROBE_WINDOWS) - 1) * 4 >= PROBE_WINDOWS * 3;
        if (together && mostly && now - probeDue >= 0) {
            probing = true;
            probes.increment();
            probeStart = now;
            probeHead = head;
            probeWrites = writes;
        }
    }

    private void endProbe(long now, long head, long writes) {
        probing = false;
        long elapsed = Math.max(1, now - probeStart);
        long second = TimeUnit.SECONDS.toNanos(1);
        boolean heldBack = (head - probeHead) * second > BUSY_EVENTS_PER_SECOND * elapsed
                || (writes - probeWrites) * second > BUSY_WRITES_PER_SECOND * elapsed;
        if (heldBack) {
            probesFound.increment();
            probeAfter = PROBE_AFTER_NANOS;
            saturatedUntil = now + SATURATED_HOLD_NANOS;
            if (!busy) {
                busy = true;
                startBusy();
            }
        } else {
            probeAfter = Math.min(PROBE_AFTER_MAX_NANOS, probeAfter * 2);
        }
        probeDue = now + probeAfter;
    }

    /** Probes made so far (by every budget counting into the same counters). */
    long probes() {
        return probes.sum();
    }

    /** Probes that found ingest held back by the subscribers. */
    long probesFound() {
        return probesFound.sum();
    }

    /** Whether ingest is busy now and some limit applies. */
    boolean busy() {
        return busy && (bytesPerSecond > 0 || writeNanosPerSecond > 0);
    }

    /** Whether the feed may send now. */
    boolean allows() {
        return !probing
                && (!busy || (bytesPerSecond == 0 || tokens > 0) && (writeNanosPerSecond == 0 || timeTokens > 0));
    }

    /** The feed handed {@code bytes} to connections. */
    void spent(long bytes) {
        sentTotal += bytes;
        if (busy && bytesPerSecond > 0) {
            tokens -= bytes;
        }
    }

    /** How long until the feed may send again (0 if it may now): at most {@code capNanos}. */
    long nanosUntilAllowed(long capNanos) {
        if (allows()) {
            return 0;
        }
        if (probing) {
            return Math.min(capNanos, Math.max(1, probeStart + PROBE_NANOS - now));
        }
        long second = TimeUnit.SECONDS.toNanos(1);
        long forBytes = bytesPerSecond == 0 || tokens > 0 ? 0 : -tokens * second / bytesPerSecond;
        long forTime = writeNanosPerSecond == 0 || timeTokens > 0 ? 0 : -timeTokens * second / writeNanosPerSecond;
        return Math.min(capNanos, Math.max(1, Math.max(forBytes, forTime)));
    }
}

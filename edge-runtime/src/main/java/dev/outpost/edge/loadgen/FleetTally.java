package dev.outpost.edge.loadgen;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a fleet run counted, added to by every simulated node at once, and its one {@code key=value} summary line.
 *
 * <p>Times: {@code start} is when the nodes were let go (their jittered first requests follow); "moving" starts at
 * the first acknowledged push; the end is when the last node's backlog was acknowledged (or the run gave up).
 * Latency is per acknowledged push, from the request leaving (after its hub slot was free) to the answer read.
 */
final class FleetTally {
    final LongAdder pushes = new LongAdder();
    final LongAdder events = new LongAdder();
    final LongAdder stored = new LongAdder();
    final LongAdder duplicates = new LongAdder();
    final LongAdder throttled = new LongAdder();
    final LongAdder unavailable = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder cursorRequests = new LongAdder();
    final LongAdder hubSwitches = new LongAdder();
    final LongAdder drained = new LongAdder();
    final LongAdder[] pushesPerHub;
    final AtomicLong firstAckNanos = new AtomicLong();
    final AtomicLong lastDrainNanos = new AtomicLong();
    private final LatencyHistogram latency = new LatencyHistogram();
    final long startNanos;
    final long deadlineNanos;
    volatile String firstError;

    FleetTally(int hubs, long startNanos, long deadlineNanos) {
        this.startNanos = startNanos;
        this.deadlineNanos = deadlineNanos;
        this.pushesPerHub = new LongAdder[hubs];
        for (int i = 0; i < hubs; i++) {
            pushesPerHub[i] = new LongAdder();
        }
    }

    boolean overtime() {
        return System.nanoTime() - deadlineNanos > 0;
    }

    /** An acknowledged push of {@code records} records ({@code stored} new at the hub) taking {@code nanos}. */
    void acknowledged(int hub, int records, int stored, int duplicates, long nanos) {
        long now = System.nanoTime();
        firstAckNanos.compareAndSet(0, now);
        pushes.increment();
        pushesPerHub[hub].increment();
        events.add(records);
        this.stored.add(stored);
        this.duplicates.add(duplicates);
        synchronized (latency) {
            latency.record(nanos);
        }
    }

    /** A node's whole backlog is acknowledged. */
    void nodeDrained() {
        drained.increment();
        lastDrainNanos.accumulateAndGet(System.nanoTime(), Math::max);
    }

    void error(String what) {
        errors.increment();
        if (firstError == null) {
            firstError = what;
        }
    }

    /** The summary of a run of {@code o} that ended at {@code endNanos}. */
    String summary(FleetOptions o, long endNanos) {
        long first = firstAckNanos.get();
        double total = (endNanos - startNanos) / 1e9;
        double moving = first == 0 ? 0 : (endNanos - first) / 1e9;
        long ev = events.sum();
        StringBuilder perHub = new StringBuilder();
        for (LongAdder a : pushesPerHub) {
            perHub.append(perHub.isEmpty() ? "" : "/").append(a.sum());
        }
        synchronized (latency) {
            return String.format(
                    Locale.ROOT,
                    "label=%s mode=fleet nodes=%d events_per_node=%d high_percent=%d event_bytes=%d batch=%d hubs=%d"
                            + " hub_concurrency=%d start_jitter_ms=%d nodes_drained=%d acknowledged_all=%s"
                            + " pushes=%d pushes_per_hub=%s events=%d stored=%d duplicates=%d throttled_429=%d"
                            + " unavailable_503=%d hub_switches=%d errors=%d cursor_requests=%d first_ack_ms=%.0f"
                            + " drain_seconds=%.3f events_per_s_moving=%.0f events_per_s_overall=%.0f"
                            + " pushes_per_s_moving=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f",
                    o.label(),
                    o.nodes(),
                    o.eventsPerNode(),
                    o.highPercent(),
                    o.eventBytes(),
                    o.batchRecordsMax(),
                    o.hubs().size(),
                    o.hubConcurrency(),
                    o.startJitterMillis(),
                    drained.sum(),
                    drained.sum() == o.nodes(),
                    pushes.sum(),
                    perHub,
                    ev,
                    stored.sum(),
                    duplicates.sum(),
                    throttled.sum(),
                    unavailable.sum(),
                    hubSwitches.sum(),
                    errors.sum(),
                    cursorRequests.sum(),
                    first == 0 ? -1 : (first - startNanos) / 1e6,
                    total,
                    moving > 0 ? ev / moving : 0,
                    total > 0 ? ev / total : 0,
                    moving > 0 ? pushes.sum() / moving : 0,
                    latency.quantileNanos(0.50) / 1e6,
                    latency.quantileNanos(0.90) / 1e6,
                    latency.quantileNanos(0.99) / 1e6,
                    latency.quantileNanos(0.999) / 1e6,
                    latency.maxNanos() / 1e6);
        }
    }
}

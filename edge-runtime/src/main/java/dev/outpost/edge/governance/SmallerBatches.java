package dev.outpost.edge.governance;

import dev.outpost.edge.metrics.Histogram;
import dev.outpost.governor.Action;
import dev.outpost.governor.BatchScale;
import dev.outpost.governor.Level;
import dev.outpost.governor.Snapshot;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Governor action {@value #NAME} (BRIEF §6, third action): measures the p95 latency of POST /v1/events over the
 * window since its last decision and, while it is above budget.latency_p95_millis, halves the {@link BatchScale}
 * one step per sample (GET /v1/events pages and scans, and later sync's push batches, read it); once p95 is under
 * {@value #RESTORE_BELOW_FRACTION} of the target, or the agent is quiet, it restores one step per sample.
 *
 * <p>A window needs {@value #REQUESTS_MIN} requests to decide (one slow request is no trend); a window that has not
 * gathered them in {@value #WINDOW_MILLIS_MAX} ms is quiet, which counts as under target, so batches do not stay small
 * on an idle agent.
 */
public final class SmallerBatches implements Action {
    /** The action's name in logs, metrics and GET /v1/governor. */
    public static final String NAME = "smaller-batches";

    /** Fewest requests in a window for its p95 to count. */
    public static final int REQUESTS_MIN = 20;

    /** How long a window may gather requests before it counts as quiet, in milliseconds. */
    static final long WINDOW_MILLIS_MAX = 60_000;

    /** p95 under this fraction of the target restores a step (the gap keeps it from flapping at the target). */
    static final double RESTORE_BELOW_FRACTION = 0.8;

    /** Smallest GET /v1/events page this action goes down to, in events. */
    public static final int PAGE_EVENTS_FLOOR = 100;

    /** Smallest scan bound of one GET /v1/events page this action goes down to, in records. */
    public static final int SCAN_RECORDS_FLOOR = 10_000;

    private final Histogram latency;
    private final BatchScale scale;
    private final java.util.function.IntSupplier targetMillis; // live: a hub may change it
    private final Supplier<String> sizes;
    private long[] windowStart; // on the governor's thread only
    private long windowStartMillis = Long.MIN_VALUE;

    /**
     * @param latency POST /v1/events latency (cumulative)
     * @param scale what this action lowers and restores
     * @param targetMillis budget.latency_p95_millis, read at every decision (it is a live key)
     * @param sizes describes the batch sizes now, for the report
     */
    SmallerBatches(
            Histogram latency, BatchScale scale, java.util.function.IntSupplier targetMillis, Supplier<String> sizes) {
        this.latency = latency;
        this.scale = scale;
        this.targetMillis = targetMillis;
        this.sizes = sizes;
        this.windowStart = latency.counts();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean everySample() {
        return true; // latency is not a budget dimension: no level change announces it
    }

    @Override
    public String onLevel(Level level, Snapshot snapshot) {
        long[] now = latency.counts();
        long requests = Histogram.count(windowStart, now);
        if (windowStartMillis == Long.MIN_VALUE) {
            windowStartMillis = snapshot.atMillis(); // the first window starts with the first sample
        }
        boolean quiet = requests < REQUESTS_MIN;
        if (quiet && snapshot.atMillis() - windowStartMillis < WINDOW_MILLIS_MAX) {
            return null; // keep gathering
        }
        long p95Nanos = quiet ? -1 : Histogram.quantileNanos(windowStart, now, 0.95);
        int targetMillis = this.targetMillis.getAsInt();
        windowStart = now;
        windowStartMillis = snapshot.atMillis();
        String p95 = quiet
                ? "fewer than " + REQUESTS_MIN + " requests in " + WINDOW_MILLIS_MAX / 1000 + " s"
                : String.format(Locale.ROOT, "p95 %.1f ms over %d requests", p95Nanos / 1e6, requests);
        if (p95Nanos > targetMillis * 1_000_000L) {
            return scale.halve()
                    ? p95 + " > target " + targetMillis + " ms: batches at 1/" + (1 << scale.halvings()) + " ("
                            + sizes.get() + ")"
                    : null;
        }
        if (p95Nanos < RESTORE_BELOW_FRACTION * targetMillis * 1_000_000L && scale.restoreStep()) {
            return p95 + ", under " + Math.round(RESTORE_BELOW_FRACTION * 100) + " % of target " + targetMillis
                    + " ms: batches back to 1/" + (1 << scale.halvings()) + " (" + sizes.get() + ")";
        }
        return null;
    }
}

package dev.outpost.edge.metrics;

import java.util.concurrent.atomic.LongAdder;

/**
 * A Prometheus histogram with fixed buckets (seconds). Lock-free; bounded memory. Cumulative, like Prometheus; a
 * window is the difference of two {@link #counts()} snapshots, and {@link #quantileNanos} estimates a quantile of it.
 */
public final class Histogram {
    /** Upper bounds of the buckets, in seconds. */
    static final double[] BOUNDS_SECONDS = {
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
    };

    final String name;
    final String help;
    private final LongAdder[] buckets = new LongAdder[BOUNDS_SECONDS.length + 1];
    private final LongAdder sumNanos = new LongAdder();

    Histogram(String name, String help) {
        this.name = name;
        this.help = help;
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
    }

    public void recordNanos(long nanos) {
        double s = nanos / 1e9;
        int i = 0;
        while (i < BOUNDS_SECONDS.length && s > BOUNDS_SECONDS[i]) {
            i++;
        }
        buckets[i].increment();
        sumNanos.add(nanos);
    }

    /** Observations per bucket now (not cumulative; the last is the +Inf bucket). Subtract an earlier snapshot. */
    public long[] counts() {
        long[] counts = new long[buckets.length];
        for (int i = 0; i < buckets.length; i++) {
            counts[i] = buckets[i].sum();
        }
        return counts;
    }

    /** Observations between two {@link #counts()} snapshots. */
    public static long count(long[] from, long[] to) {
        long n = 0;
        for (int i = 0; i < to.length; i++) {
            n += to[i] - from[i];
        }
        return n;
    }

    /**
     * The {@code q}-quantile of the observations between two {@link #counts()} snapshots, in nanoseconds: found in its
     * bucket and interpolated linearly between the bucket's bounds (as Prometheus' histogram_quantile does), so it is
     * exact to within one bucket. In the +Inf bucket it is the largest finite bound. -1 if there was no observation.
     */
    public static long quantileNanos(long[] from, long[] to, double q) {
        long total = count(from, to);
        if (total <= 0) {
            return -1;
        }
        double rank = q * total;
        long below = 0;
        for (int i = 0; i < BOUNDS_SECONDS.length; i++) {
            long in = to[i] - from[i];
            if (in > 0 && below + in >= rank) {
                double lower = i == 0 ? 0 : BOUNDS_SECONDS[i - 1];
                double seconds = lower + (BOUNDS_SECONDS[i] - lower) * (rank - below) / in;
                return Math.round(seconds * 1e9);
            }
            below += in;
        }
        return Math.round(BOUNDS_SECONDS[BOUNDS_SECONDS.length - 1] * 1e9);
    }

    void render(StringBuilder out) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" histogram\n");
        long cumulative = 0;
        for (int i = 0; i < BOUNDS_SECONDS.length; i++) {
            cumulative += buckets[i].sum();
            out.append(name)
                    .append("_bucket{le=\"")
                    .append(BOUNDS_SECONDS[i])
                    .append("\"} ")
                    .append(cumulative)
                    .append('\n');
        }
        cumulative += buckets[BOUNDS_SECONDS.length].sum();
        out.append(name).append("_bucket{le=\"+Inf\"} ").append(cumulative).append('\n');
        out.append(name).append("_sum ").append(sumNanos.sum() / 1e9).append('\n');
        out.append(name).append("_count ").append(cumulative).append('\n');
    }
}

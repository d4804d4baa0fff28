package dev.outpost.edge.loadgen;

/**
 * A fixed-size log-linear latency histogram from 1 microsecond to 10 seconds: each decade (1-10 us,
 * 10-100 us, ..., 1-10 s) is split into 180 linear buckets, so a bucket is at most 5% of its value
 * wide (0.5% at the top of a decade). Values below 1 us land in the first bucket, values at or above
 * 10 s in an overflow bucket. Not thread-safe: one per worker thread, merged at the end.
 */
final class LatencyHistogram {
    static final long MIN_NANOS = 1_000L;
    static final long MAX_NANOS = 10_000_000_000L;
    private static final int DECADES = 7;
    private static final int SUB_BUCKETS = 180;
    private static final int OVERFLOW = DECADES * SUB_BUCKETS;

    private final long[] counts = new long[OVERFLOW + 1];
    private long total;
    private long maxNanos;
    private long sumNanos;

    void record(long nanos) {
        if (nanos > maxNanos) {
            maxNanos = nanos;
        }
        sumNanos += nanos;
        counts[index(nanos)]++;
        total++;
    }

    static int index(long nanos) {
        if (nanos < MIN_NANOS) {
            return 0;
        }
        if (nanos >= MAX_NANOS) {
            return OVERFLOW;
        }
        long base = MIN_NANOS;
        int decade = 0;
        while (nanos >= base * 10) {
            base *= 10;
            decade++;
        }
        int sub = (int) ((nanos - base) * (SUB_BUCKETS / 9) / base);
        return decade * SUB_BUCKETS + sub;
    }

    /** The midpoint of a bucket, in nanoseconds. */
    static double bucketMidNanos(int index) {
        if (index >= OVERFLOW) {
            return MAX_NANOS;
        }
        int decade = index / SUB_BUCKETS;
        int sub = index % SUB_BUCKETS;
        double base = MIN_NANOS * Math.pow(10, decade);
        double width = base * 9 / SUB_BUCKETS;
        return base + (sub + 0.5) * width;
    }

    void merge(LatencyHistogram other) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
        sumNanos += other.sumNanos;
        maxNanos = Math.max(maxNanos, other.maxNanos);
    }

    long count() {
        return total;
    }

    long maxNanos() {
        return maxNanos;
    }

    double meanNanos() {
        return total == 0 ? 0 : (double) sumNanos / total;
    }

    /** The value at quantile {@code q} (0..1), in nanoseconds, or 0 when empty. */
    double quantileNanos(double q) {
        if (total == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(q * total));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.min(bucketMidNanos(i), Math.max(maxNanos, MIN_NANOS));
            }
        }
        return maxNanos;
    }
}

package dev.outpost.sync;

import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter (a uniformly random wait between 0 and min(cap, base x
 * 2^attempt)): a fleet that lost its hub at the same moment does not come back in step.
 */
public final class Backoff {
    private final long baseMillis;
    private final long capMillis;
    private final RandomGenerator random;

    public Backoff(long baseMillis, long capMillis, RandomGenerator random) {
        assert baseMillis > 0 && capMillis >= baseMillis;
        this.baseMillis = baseMillis;
        this.capMillis = capMillis;
        this.random = random;
    }

    /** The ceiling of the wait after {@code failures} consecutive failures (1 = the first). */
    public long ceilingMillis(int failures) {
        int shift = Math.min(Math.max(failures - 1, 0), 40);
        long c = baseMillis << shift;
        return c <= 0 || c > capMillis ? capMillis : c;
    }

    /** A wait for after {@code failures} consecutive failures: uniform in [0, ceiling]. */
    public long waitMillis(int failures) {
        return random.nextLong(ceilingMillis(failures) + 1);
    }
}

package dev.outpost.sync;

import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter (a uniformly random wait between 0 and min(cap, base x 2^attempt)), and a
 * hub's Retry-After spread the same way: a fleet that lost its hub at the same moment does not come back in step.
 *
 * <p>Design note. The jitter must differ between processes. {@link #Backoff(long, long)} draws from the calling
 * thread's {@link ThreadLocalRandom} at each call. A {@code ThreadLocalRandom.current()} kept in a field and used
 * from another thread draws from that thread's never-seeded state instead: the same sequence in every process, so
 * every edge with the same failure history waited exactly as long as every other (the sync threads did that until
 * 2026-12-07; MannersTest shows it). Tests pass their own generator.
 */
public final class Backoff {
    /** The spread of a Retry-After of 0 (the hub said "now"): still not all at once. */
    static final long RETRY_AFTER_SPREAD_MIN_MILLIS = 100;

    private final long baseMillis;
    private final long capMillis;
    private final RandomGenerator random;

    /** Jitter from the calling thread's own generator, seeded differently in every process. */
    public Backoff(long baseMillis, long capMillis) {
        this(baseMillis, capMillis, () -> ThreadLocalRandom.current().nextLong());
    }

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

    /**
     * The wait after a hub answered "Retry-After: {@code seconds}": never shorter than asked, plus up to as much again
     * at random (at least {@link #RETRY_AFTER_SPREAD_MIN_MILLIS}), so the nodes a hub turned away together spread out.
     */
    public long retryAfterMillis(long seconds) {
        long asked = Math.max(0, seconds) * 1000;
        return asked + random.nextLong(Math.max(asked, RETRY_AFTER_SPREAD_MIN_MILLIS) + 1);
    }
}

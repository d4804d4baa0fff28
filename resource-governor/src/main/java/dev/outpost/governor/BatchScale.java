package dev.outpost.governor;

/**
 * How far batches are scaled down while request latency is above its target: a number of halvings, lowered and
 * raised one step at a time by a governor action and read by whoever sizes a batch (query pages and scans now; sync's
 * push batches later). Thread-safe.
 */
public final class BatchScale {
    /** Most halvings: batches go down to 1/16 of their configured size (or their floor). */
    public static final int HALVINGS_MAX = 4;

    private volatile int halvings;

    /** Halvings now: 0 = full size. */
    public int halvings() {
        return halvings;
    }

    /**
     * The size to use now: {@code full} halved {@link #halvings()} times, but never below {@code floor} (and never
     * above {@code full}, so a configured size under the floor is left alone).
     */
    public int apply(int full, int floor) {
        return Math.max(Math.min(full, floor), full >> halvings);
    }

    /** One more halving, up to {@value #HALVINGS_MAX}; false if already there. */
    public synchronized boolean halve() {
        if (halvings >= HALVINGS_MAX) {
            return false;
        }
        halvings++;
        return true;
    }

    /** One halving less; false if already at full size. */
    public synchronized boolean restoreStep() {
        if (halvings == 0) {
            return false;
        }
        halvings--;
        return true;
    }
}

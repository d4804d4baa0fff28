package dev.outpost.sync;

import java.util.function.LongSupplier;

/**
 * Stops hammering a dead hub without giving up on one that is still starting.
 *
 * <p>Design note. The circuit opens only when failures persist: at least {@code failuresToOpen}
 * consecutive failures AND at least {@code windowMillis} since the first of them. A hub that is
 * restarting or booting next to its edge fails fast (connection refused) many times in its first
 * seconds; counting alone would open the circuit within a second and keep a hub that came up a
 * moment later waiting for the whole open time. Within the window the caller's backoff paces the
 * attempts. Once open, the circuit stays open for {@code openMillis}; then one attempt is let
 * through (half-open): its success closes the circuit, its failure opens it again. Time comes from
 * the given clock, so tests control it. Not thread-safe: one sync loop owns it.
 */
public final class CircuitBreaker {
    /** Where the breaker is. */
    public enum State {
        CLOSED,
        OPEN,
        HALF_OPEN
    }

    private final int failuresToOpen;
    private final long windowMillis;
    private final long openMillis;
    private final LongSupplier clockMillis;
    private int failures;
    private long failingSinceMillis;
    private boolean open; // opened during the current run of failures
    private long openUntilMillis;
    private int opened;

    /**
     * @param failuresToOpen consecutive failures needed to open (at least 1)
     * @param windowMillis how long failures must have lasted to open (0: the count alone decides)
     * @param openMillis how long the circuit stays open before one probe
     */
    public CircuitBreaker(int failuresToOpen, long windowMillis, long openMillis, LongSupplier clockMillis) {
        if (failuresToOpen < 1 || windowMillis < 0 || openMillis < 0) {
            throw new IllegalArgumentException("failuresToOpen " + failuresToOpen + ", windowMillis " + windowMillis
                    + ", openMillis " + openMillis + ": need >= 1, >= 0, >= 0");
        }
        this.failuresToOpen = failuresToOpen;
        this.windowMillis = windowMillis;
        this.openMillis = openMillis;
        this.clockMillis = clockMillis;
    }

    public State state() {
        if (!open) {
            return State.CLOSED;
        }
        return clockMillis.getAsLong() < openUntilMillis ? State.OPEN : State.HALF_OPEN;
    }

    /** Milliseconds until an attempt is allowed (0 if now). */
    public long waitMillis() {
        return state() == State.OPEN ? openUntilMillis - clockMillis.getAsLong() : 0;
    }

    /** Records a success; returns how many consecutive failures it ends. */
    public int success() {
        int f = failures;
        failures = 0;
        open = false;
        return f;
    }

    /** Records a failure; returns true if the circuit is open after it (this failure opened or reopened it). */
    public boolean failure() {
        long now = clockMillis.getAsLong();
        if (failures == 0) {
            failingSinceMillis = now;
        }
        failures++;
        if (failures >= failuresToOpen && now - failingSinceMillis >= windowMillis) {
            open = true;
            openUntilMillis = now + openMillis;
            opened++;
            return true;
        }
        return false;
    }

    /** Consecutive failures so far. */
    public int failures() {
        return failures;
    }

    /** How long the current run of failures has lasted, milliseconds (0 if none). */
    public long failingForMillis() {
        return failures == 0 ? 0 : clockMillis.getAsLong() - failingSinceMillis;
    }

    /** How many times the circuit opened (a failed half-open probe counts again). */
    public int timesOpened() {
        return opened;
    }
}

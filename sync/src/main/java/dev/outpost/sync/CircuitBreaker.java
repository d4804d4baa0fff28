package dev.outpost.sync;

import java.util.function.LongSupplier;

/**
 * Stops hammering a dead hub: after {@code failuresToOpen} consecutive failures the circuit opens
 * for {@code openMillis}; then one attempt is let through (half-open); its success closes the
 * circuit, its failure opens it again. Not thread-safe: one sync loop owns it.
 */
public final class CircuitBreaker {
    /** Where the breaker is. */
    public enum State {
        CLOSED,
        OPEN,
        HALF_OPEN
    }

    private final int failuresToOpen;
    private final long openMillis;
    private final LongSupplier clockMillis;
    private int failures;
    private long openUntilMillis;
    private int opened;

    public CircuitBreaker(int failuresToOpen, long openMillis, LongSupplier clockMillis) {
        assert failuresToOpen >= 1 && openMillis >= 0;
        this.failuresToOpen = failuresToOpen;
        this.openMillis = openMillis;
        this.clockMillis = clockMillis;
    }

    public State state() {
        if (failures < failuresToOpen) {
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
        return f;
    }

    /** Records a failure; returns true if this one opened the circuit. */
    public boolean failure() {
        failures++;
        if (failures >= failuresToOpen) {
            openUntilMillis = clockMillis.getAsLong() + openMillis;
            opened++;
            return true;
        }
        return false;
    }

    /** Consecutive failures so far. */
    public int failures() {
        return failures;
    }

    /** How many times the circuit opened. */
    public int timesOpened() {
        return opened;
    }
}

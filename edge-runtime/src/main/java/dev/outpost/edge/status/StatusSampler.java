package dev.outpost.edge.status;

/**
 * Turns readings of the agent's counters into samples of {@link StatusHistory}: the rates are the counters' change
 * since the previous reading divided by the time between the two.
 *
 * <p>Design note. Invariants: a rate is never negative (a counter that went down — a pusher replaced, say — counts
 * as no change) and never divides by a zero or negative time (the first reading, or one whose time is not after the
 * previous, gets {@link StatusHistory.Rates#NONE}). The reading's time is the caller's, so tests drive it with their
 * own clock. One thread calls {@link #take} (the status thread, or a test).
 */
public final class StatusSampler {
    /**
     * What the agent's counters said at one moment.
     *
     * @param atMillis when (wall clock, epoch milliseconds)
     * @param level the governor's level, lower case
     * @param pressure each dimension's pressure (see {@link StatusHistory.Sample#pressure()})
     * @param ingestEvents events stored since start
     * @param syncRecords records pushed since start
     * @param syncWireBytes bytes pushed since start
     * @param hubRecords records received from nodes since start
     * @param atRiskEvents events no upstream has acknowledged
     * @param atRiskBytes their payload bytes
     */
    public record Reading(
            long atMillis,
            String level,
            double[] pressure,
            long ingestEvents,
            long syncRecords,
            long syncWireBytes,
            long hubRecords,
            long atRiskEvents,
            long atRiskBytes) {}

    private final StatusHistory history;
    private Reading previous;

    public StatusSampler(StatusHistory history) {
        this.history = history;
    }

    /** Adds the sample {@code r} makes, with rates against the previous reading; false if the history dropped it. */
    public boolean take(Reading r) {
        StatusHistory.Rates rates = rates(previous, r);
        boolean kept = history.add(new StatusHistory.Sample(
                r.atMillis(), r.level(), r.pressure(), rates, r.atRiskEvents(), r.atRiskBytes()));
        if (kept) {
            previous = r;
        }
        return kept;
    }

    /** The rates from {@code before} to {@code after}, per second. */
    static StatusHistory.Rates rates(Reading before, Reading after) {
        if (before == null || after.atMillis() <= before.atMillis()) {
            return StatusHistory.Rates.NONE;
        }
        double seconds = (after.atMillis() - before.atMillis()) / 1000.0;
        return new StatusHistory.Rates(
                perSecond(before.ingestEvents(), after.ingestEvents(), seconds),
                perSecond(before.syncRecords(), after.syncRecords(), seconds),
                perSecond(before.syncWireBytes(), after.syncWireBytes(), seconds),
                perSecond(before.hubRecords(), after.hubRecords(), seconds));
    }

    private static double perSecond(long before, long after, double seconds) {
        return Math.max(0, after - before) / seconds;
    }
}

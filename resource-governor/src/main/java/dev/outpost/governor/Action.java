package dev.outpost.governor;

/**
 * A named, registered listener that sheds load. The governor calls it, on its own thread and in registration order,
 * with the current level on every level change, and on every sample while the level is ELEVATED or above (so it can
 * act again and again until pressure falls); on every sample whatever the level if it asks to with
 * {@link #everySample()}. Exceptions are caught, logged and counted; they never stop the governor.
 */
public interface Action {
    /** A stable, unique name (used in logs, counters and {@link ActionEvent}s). */
    String name();

    /**
     * Reacts to the level.
     *
     * @return what it did, in a few words (recorded as an {@link ActionEvent}, logged once and counted), or null if it
     *     did nothing
     */
    String onLevel(Level level, Snapshot snapshot);

    /**
     * True to be called on every sample, at LOW and MEDIUM too: for an action that restores inside the MEDIUM band
     * (hysteresis below 70 %, where a fall from 65 % to 55 % is no level change), or that watches something the budget
     * does not measure (request latency). Such an action must be cheap and report only what it changed.
     */
    default boolean everySample() {
        return false;
    }
}

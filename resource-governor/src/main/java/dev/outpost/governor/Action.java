package dev.outpost.governor;

/**
 * A named, registered listener that sheds load. The governor calls it, on its own thread and in registration order,
 * with the current level on every level change, and on every sample while the level is ELEVATED or above (so it can
 * act again and again until pressure falls). Exceptions are caught, logged and counted; they never stop the governor.
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
}

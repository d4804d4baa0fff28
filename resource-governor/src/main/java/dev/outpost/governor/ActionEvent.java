package dev.outpost.governor;

/**
 * An action that reported doing something.
 *
 * @param atMillis when (the governor's clock)
 * @param action the action's name
 * @param level the level it was called with
 * @param detail what it did, as it reported
 */
public record ActionEvent(long atMillis, String action, Level level, String detail) {}

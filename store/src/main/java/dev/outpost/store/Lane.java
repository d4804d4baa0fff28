package dev.outpost.store;

import java.util.Locale;

/**
 * A priority lane of the event log: each stream's priority class picks one. Lanes are stored apart
 * (one queue each) so retention can drop the lowest lane's oldest data without touching the others,
 * and sync can drain them in priority order. Declared highest priority first.
 */
public enum Lane {
    CRITICAL,
    HIGH,
    NORMAL,
    BULK;

    /** The lane's name as configuration, directories and the wire spell it. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The lane for a priority class name ({@code critical}, {@code high}, {@code normal}, {@code bulk}). */
    public static Lane of(String priority) {
        return valueOf(priority.toUpperCase(Locale.ROOT));
    }
}

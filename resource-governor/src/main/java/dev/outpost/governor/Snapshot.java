package dev.outpost.governor;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * One sample of every governed dimension.
 *
 * @param atMillis when it was taken (the governor's clock)
 * @param level the worst dimension's level (LOW when nothing was measured)
 * @param readings the measured dimensions, in {@link Dimension} order (unmodifiable)
 * @param intervalMillis the sampling interval that follows from the level
 */
public record Snapshot(long atMillis, Level level, Map<Dimension, Reading> readings, long intervalMillis) {
    public Snapshot {
        var copy = new EnumMap<Dimension, Reading>(Dimension.class);
        copy.putAll(readings);
        readings = Collections.unmodifiableMap(copy);
    }
}

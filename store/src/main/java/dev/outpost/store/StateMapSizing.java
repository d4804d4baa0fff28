package dev.outpost.store;

import net.openhft.chronicle.map.ChronicleMapBuilder;

/**
 * How the state store sizes each generation of its Chronicle Map: the builder every generation is made with, and the
 * steps of entries (initial, doubled, ..., capacity, then doubled on) with the bytes each step holds.
 *
 * <p>Invariant: a map sized for {@code entries} is filled to at most {@link #bytesFor} value bytes (with per-entry
 * overhead), {@link #BYTES_HEADROOM} of its sized volume, so it never nears Chronicle's {@link #MAX_BLOAT_FACTOR}.
 */
final class StateMapSizing {
    /** Chronicle's allowance over {@code entries}: head room kept below it by never filling past entries. */
    static final double MAX_BLOAT_FACTOR = 2.0;
    /** Share of the sized byte volume (entries x average entry) a map fills before it grows or refuses. */
    static final double BYTES_HEADROOM = 1.5;
    /** Bytes an entry costs beyond its value: key, Chronicle's entry header, value header. */
    static final int ENTRY_OVERHEAD_BYTES = 48 + 64;

    private final long capacity;
    private final int averageDocBytes;
    private final long initialEntries;

    StateMapSizing(long capacity, int averageDocBytes, long initialEntries) {
        this.capacity = capacity;
        this.averageDocBytes = averageDocBytes;
        this.initialEntries = initialEntries;
    }

    /** The builder of a map of {@code entries}. */
    ChronicleMapBuilder<String, byte[]> builder(long entries) {
        return ChronicleMapBuilder.of(String.class, byte[].class)
                .name("outpost-state")
                .entries(entries)
                .averageKeySize(48)
                .averageValueSize(averageDocBytes + 64)
                .maxBloatFactor(MAX_BLOAT_FACTOR)
                // Closed by close(), in order, after the agent stopped writing: Chronicle's own JVM exit
                // hook would close it concurrently with the agent's shutdown.
                .skipCloseOnExitHook(true);
    }

    /** Entries of the smallest step that holds {@code count} documents and {@code bytes}. */
    long entriesFor(long count, long bytes) {
        long e = Math.min(initialEntries, capacity);
        while (count > e || bytes > bytesFor(e)) {
            e = e < capacity ? Math.min(2 * e, capacity) : 2 * e;
        }
        return e;
    }

    /** Most value bytes (with per-entry overhead) a map sized for {@code entries} takes. */
    long bytesFor(long entries) {
        return (long) (entries * (double) (averageDocBytes + ENTRY_OVERHEAD_BYTES) * BYTES_HEADROOM);
    }
}

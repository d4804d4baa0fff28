package dev.outpost.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntFunction;

/**
 * How many bytes a log's cycle files grew by, as apparent file sizes (what disk accounting counts: Chronicle sizes a
 * new cycle file at a block and an overlap, and grows it a block at a time).
 *
 * <p>Invariant: the file is measured when a cycle starts and after every eighth of a block written, so the total
 * reported lags the real size by at most a block; between measurements nothing is reported. Not thread-safe: the
 * log calls it under its append lock.
 */
final class FileGrowth {
    private final IntFunction<Path> cycleFile;
    private final long blockBytes;
    /** The cycle whose file was last measured, its size then, and bytes written since. */
    private int measuredCycle = Integer.MIN_VALUE;

    private long measuredBytes;
    private long writtenSinceMeasured;

    FileGrowth(IntFunction<Path> cycleFile, long blockBytes) {
        this.cycleFile = cycleFile;
        this.blockBytes = blockBytes;
    }

    /** {@code cycle}'s file is {@code bytes} now (on open: only growth from here on is news). */
    void measured(int cycle, long bytes) {
        measuredCycle = cycle;
        measuredBytes = bytes;
        writtenSinceMeasured = 0;
    }

    /** The growth to report after an append of {@code written} bytes to {@code cycle} (often 0). */
    long after(int cycle, long written) {
        if (cycle == measuredCycle && writtenSinceMeasured + written < blockBytes / 8) {
            writtenSinceMeasured += written;
            return 0;
        }
        long size;
        try {
            size = Files.size(cycleFile.apply(cycle));
        } catch (IOException | StoreException e) {
            size = measuredBytes + written; // cannot look: count what was written
        }
        long growth = cycle == measuredCycle ? Math.max(0, size - measuredBytes) : size;
        measured(cycle, size);
        return growth;
    }
}

package dev.outpost.store;

import java.nio.file.Path;

/**
 * How to open the event log.
 *
 * @param directory where the queue's cycle files live
 * @param quarantineDirectory where corrupt records found on open are copied
 * @param durability when an append counts as acknowledged
 * @param rollCycle the Chronicle roll cycle name (e.g. {@code FAST_HOURLY})
 * @param fsyncDelayMicros how long group commit waits for more appends before it fsyncs
 * @param compress true to compress groups where the codec policy says it pays (hot-log purpose)
 * @param blockBytes Chronicle block size: a cycle file's size grows in these steps (so disk
 *     accounting of the apparent file size is accurate to one block), and one excerpt (one request)
 *     must fit in a quarter of it
 */
public record LogOptions(
        Path directory,
        Path quarantineDirectory,
        Durability durability,
        String rollCycle,
        long fsyncDelayMicros,
        boolean compress,
        long blockBytes) {

    /** Default Chronicle block size: cycle files grow in these steps; one excerpt is at most a quarter. */
    public static final long DEFAULT_BLOCK_BYTES = 16L << 20;

    /**
     * Defaults for {@code dataDir}: {@code dataDir/log}, {@code dataDir/quarantine}, durability os,
     * compression on.
     */
    public static LogOptions defaults(Path dataDir) {
        return new LogOptions(
                dataDir.resolve("log"),
                dataDir.resolve("quarantine"),
                Durability.OS,
                "FAST_HOURLY",
                0,
                true,
                DEFAULT_BLOCK_BYTES);
    }

    public LogOptions withDurability(Durability d) {
        return new LogOptions(directory, quarantineDirectory, d, rollCycle, fsyncDelayMicros, compress, blockBytes);
    }

    public LogOptions withRollCycle(String r) {
        return new LogOptions(directory, quarantineDirectory, durability, r, fsyncDelayMicros, compress, blockBytes);
    }

    public LogOptions withCompress(boolean c) {
        return new LogOptions(directory, quarantineDirectory, durability, rollCycle, fsyncDelayMicros, c, blockBytes);
    }
}

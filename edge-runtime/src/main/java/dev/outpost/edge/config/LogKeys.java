package dev.outpost.edge.config;

import static dev.outpost.edge.config.ConfigKey.GIB;
import static dev.outpost.edge.config.ConfigKey.MIB;

import dev.outpost.store.ChronicleEventLog;
import dev.outpost.store.Durability;
import java.util.List;
import java.util.Locale;

/** Section {@code log}: durability, cycles, compression and block size of the event log. */
final class LogKeys {
    static final ConfigSection SECTION = new ConfigSection("log");

    static final ConfigKey<Durability> DURABILITY = SECTION.add(ConfigKey.oneOf(
            "log.durability",
            "os",
            List.of("os", "fsync"),
            "os: acknowledged once in the mapped log file (survives kill -9); fsync: after fsync (survives power loss).",
            s -> Durability.valueOf(s.toUpperCase(Locale.ROOT))));
    static final ConfigKey<Long> FSYNC_DELAY_MICROS = SECTION.add(ConfigKey.count(
            "log.fsync_delay_micros",
            0,
            0,
            100_000,
            "microseconds",
            "fsync durability: how long group commit waits to gather more writes before each fsync."));
    static final ConfigKey<String> ROLL_CYCLE = SECTION.add(ConfigKey.oneOf(
            "log.roll_cycle",
            "FAST_HOURLY",
            ChronicleEventLog.ROLL_CYCLES,
            "How often the log starts a new cycle file; a cycle is the unit retention deletes."));
    static final ConfigKey<String> COMPRESSION = SECTION.add(ConfigKey.oneOf(
            "log.compression",
            "auto",
            List.of("auto", "none"),
            "auto: compress each stored request where the codec policy says it pays (LZ4 on the hot log);"
                    + " none: store raw."));
    static final ConfigKey<Long> BLOCK_BYTES = SECTION.add(ConfigKey.bytes(
            "log.block_bytes",
            16 * MIB,
            MIB,
            GIB,
            "Chronicle block size: cycle files grow in these steps and one request must fit in a quarter"
                    + " of it. Small keeps disk accounting exact; must be at most budget.disk / 8."));

    private LogKeys() {}

    static OutpostConfig.Log read(ConfigValues v) {
        return new OutpostConfig.Log(
                v.get(DURABILITY),
                v.get(FSYNC_DELAY_MICROS),
                v.get(ROLL_CYCLE),
                v.get(COMPRESSION),
                v.get(BLOCK_BYTES));
    }
}

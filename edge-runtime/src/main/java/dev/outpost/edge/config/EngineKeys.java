package dev.outpost.edge.config;

/** Section {@code engine}: where the rules' alerts go. Rules themselves are declared under {@code rules:}. */
final class EngineKeys {
    static final ConfigSection SECTION = new ConfigSection("engine");

    private static final String ALERT_STREAM_PATH = "engine.alert_stream";

    static final ConfigKey<String> ALERT_STREAM = SECTION.add(ConfigKey.text(
            ALERT_STREAM_PATH,
            "alerts",
            "The stream alerts are written to, in the critical lane (so they reach the hub first). Clients may not"
                    + " write to it.",
            EngineKeys::streamName));

    static final ConfigKey<Integer> ROLLUP_GROUPS_MAX = SECTION.add(ConfigKey.integer(
            "engine.rollup_groups_max",
            20_000,
            dev.outpost.edge.engine.rollup.Limits.GROUPS_MAX_MIN,
            1_000_000,
            "summaries",
            "Rollup (window, group) summaries held in memory (about 1 KiB each with quantiles); beyond, they are"
                    + " written out and read back when their group sees another event. Nothing is lost."));

    static final ConfigKey<Integer> DETECTOR_GROUPS_MAX = SECTION.add(ConfigKey.integer(
            "engine.detector_groups_max",
            100_000,
            1_000,
            10_000_000,
            "groups",
            "(anomaly condition, group) entries the detectors keep, about 150 bytes each; beyond, the least recently"
                    + " seen group is forgotten (counted) and warms up again when it comes back."));

    static final ConfigKey<Integer> THREAD_NICE = SECTION.add(ConfigKey.integer(
            "engine.thread_nice",
            10,
            0,
            dev.outpost.edge.engine.ThreadNice.NICE_MAX,
            "",
            "The Linux nice value of the engine's thread. When ingest and the engine both want every core,"
                    + " acknowledged writes come first and the engine catches up when a core is free (its lag:"
                    + " outpost_engine_lag_events). 0: the engine competes with ingest as an equal."));

    private EngineKeys() {}

    static OutpostConfig.Engine read(ConfigValues v) {
        return new OutpostConfig.Engine(
                v.get(ALERT_STREAM), v.get(ROLLUP_GROUPS_MAX), v.get(DETECTOR_GROUPS_MAX), v.get(THREAD_NICE));
    }

    private static String streamName(String name) {
        if (!dev.outpost.edge.ingest.EventParser.validName(name) || name.startsWith("_")) {
            throw new ConfigException(
                    ALERT_STREAM_PATH,
                    "config error: '" + ALERT_STREAM_PATH + "' = '" + name
                            + "' is not allowed: a stream name is 1-128 of A-Z a-z 0-9 . _ - and does not start with"
                            + " '_'");
        }
        return name;
    }
}

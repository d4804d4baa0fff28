package dev.outpost.edge.config;

/** Section {@code query}: page sizes and scan limits of GET /v1/events (and state listing). */
final class QueryKeys {
    static final ConfigSection SECTION = new ConfigSection("query");

    static final ConfigKey<Integer> LIMIT_DEFAULT = SECTION.add(ConfigKey.integer(
                    "query.limit_default",
                    1000,
                    1,
                    1_000_000,
                    "events",
                    "Events per page of GET /v1/events when no limit is given.")
            .live());
    static final ConfigKey<Integer> LIMIT_MAX = SECTION.add(ConfigKey.integer(
                    "query.limit_max", 100_000, 1, 10_000_000, "events", "Largest limit GET /v1/events accepts.")
            .live());
    static final ConfigKey<Integer> SCAN_RECORDS_MAX = SECTION.add(ConfigKey.integer(
                    "query.scan_records_max",
                    1_000_000,
                    1,
                    100_000_000,
                    "records",
                    "Most records one GET /v1/events reads while filtering; then it returns a cursor to go on.")
            .live());

    private QueryKeys() {}

    static OutpostConfig.Query read(ConfigValues v) {
        return new OutpostConfig.Query(v.get(LIMIT_DEFAULT), v.get(LIMIT_MAX), v.get(SCAN_RECORDS_MAX));
    }
}

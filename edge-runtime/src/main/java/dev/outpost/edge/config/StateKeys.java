package dev.outpost.edge.config;

import static dev.outpost.edge.config.ConfigKey.KIB;
import static dev.outpost.edge.config.ConfigKey.MIB;

/** Section {@code state}: size of the state store, its documents and their history. */
final class StateKeys {
    static final ConfigSection SECTION = new ConfigSection("state");

    static final ConfigKey<Long> DOCUMENTS_MAX = SECTION.add(ConfigKey.count(
            "state.documents_max",
            100_000,
            16,
            100_000_000,
            "documents",
            "Most state documents (tombstones included). Beyond it writes of new documents get 507."
                    + " The state file starts sized for 1,024 documents and doubles up to this."));
    static final ConfigKey<Long> DOC_BYTES_AVG = SECTION.add(ConfigKey.bytes(
            "state.doc_bytes_avg",
            512,
            16,
            MIB,
            "Expected average state document size, for sizing the state file; the store refuses (507)"
                    + " once it holds 1.5x documents_max x (this + 112) bytes."));
    static final ConfigKey<Long> DOC_BYTES_MAX = SECTION.add(
            ConfigKey.bytes("state.doc_bytes_max", 64 * KIB, 64, 16 * MIB, "Largest state document; larger gets 413."));
    static final ConfigKey<Integer> HISTORY_MAX = SECTION.add(ConfigKey.integer(
            "state.history_max",
            10,
            0,
            64,
            "versions",
            "How many previous versions GET /v1/state/{ns}/{id}/history returns (read from the event log)."));
    static final ConfigKey<Long> TOMBSTONE_TTL_SECONDS = SECTION.add(ConfigKey.count(
            "state.tombstone_ttl_seconds",
            7 * 24 * 3600,
            1,
            10L * 365 * 24 * 3600,
            "seconds",
            "How long a deleted document's tombstone is kept (for sync) before it is compacted."));

    private StateKeys() {}

    static OutpostConfig.State read(ConfigValues v) {
        return new OutpostConfig.State(
                v.get(DOCUMENTS_MAX),
                v.get(DOC_BYTES_AVG),
                v.get(DOC_BYTES_MAX),
                v.get(HISTORY_MAX),
                v.get(TOMBSTONE_TTL_SECONDS));
    }
}

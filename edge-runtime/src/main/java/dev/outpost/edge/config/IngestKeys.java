package dev.outpost.edge.config;

import static dev.outpost.edge.config.ConfigKey.KIB;
import static dev.outpost.edge.config.ConfigKey.MIB;

/** Section {@code ingest}: limits of one ingest request and the deduplication windows. */
final class IngestKeys {
    static final ConfigSection SECTION = new ConfigSection("ingest");

    static final ConfigKey<Integer> BATCH_EVENTS_MAX = SECTION.add(ConfigKey.integer(
            "ingest.batch_events_max",
            10_000,
            1,
            1_000_000,
            "events",
            "Most events in one NDJSON request; more gets 413."));
    static final ConfigKey<Long> EVENT_BYTES_MAX = SECTION.add(ConfigKey.bytes(
            "ingest.event_bytes_max",
            64 * KIB,
            64,
            64 * MIB,
            "Largest single event (one JSON object); larger gets 413."));
    static final ConfigKey<Integer> DEDUP_WINDOW_EVENTS = SECTION.add(ConfigKey.integer(
            "ingest.dedup_window_events",
            100_000,
            0,
            10_000_000,
            "event ids",
            "How many recent event ids (per stream) are remembered to make a retried event a no-op."));
    static final ConfigKey<Integer> DEDUP_WINDOW_REQUESTS = SECTION.add(ConfigKey.integer(
            "ingest.dedup_window_requests",
            10_000,
            0,
            1_000_000,
            "keys",
            "How many recent Idempotency-Key values are remembered with their original sequences."));

    private IngestKeys() {}

    static OutpostConfig.Ingest read(ConfigValues v) {
        return new OutpostConfig.Ingest(
                v.get(BATCH_EVENTS_MAX),
                v.get(EVENT_BYTES_MAX),
                v.get(DEDUP_WINDOW_EVENTS),
                v.get(DEDUP_WINDOW_REQUESTS));
    }
}

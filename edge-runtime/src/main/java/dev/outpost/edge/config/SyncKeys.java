package dev.outpost.edge.config;

import static dev.outpost.edge.config.ConfigKey.GIB;
import static dev.outpost.edge.config.ConfigKey.KIB;
import static dev.outpost.edge.config.ConfigKey.MIB;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** Section {@code sync}: pushing to an upstream hub (issue #6). */
final class SyncKeys {
    static final ConfigSection SECTION = new ConfigSection("sync");

    static final ConfigKey<URI> UPSTREAM = SECTION.add(ConfigKey.text(
            "sync.upstream",
            "",
            "Base URL of the hub this node pushes to (http://host:port or https://host:port). Empty: offline mode,"
                    + " nothing is pushed and all data counts as at risk.",
            SyncKeys::upstream));
    static final ConfigKey<String> TOKEN = SECTION.add(
            ConfigKey.text("sync.token", "", "This node's token at the hub (the hub's hub.nodes lists it)."));
    static final ConfigKey<Path> TLS_TRUST_FILE = SECTION.add(ConfigKey.optionalPath(
            "sync.tls_trust_file",
            "PEM file of the certificates (CA or self-signed) trusted for an https:// sync.upstream."
                    + " Empty: the JDK's default trust store."));
    static final ConfigKey<Integer> BATCH_RECORDS_MAX = SECTION.add(ConfigKey.integer(
            "sync.batch_records_max", 5000, 1, 100_000, "records", "Most records in one push batch."));
    static final ConfigKey<Long> BATCH_BYTES_MAX = SECTION.add(ConfigKey.bytes(
            "sync.batch_bytes_max", MIB, KIB, 64 * MIB, "Most event bytes in one push batch (before Zstd)."));
    static final ConfigKey<Long> BACKOFF_BASE_MILLIS = SECTION.add(ConfigKey.count(
            "sync.backoff_base_millis",
            200,
            1,
            60_000,
            "milliseconds",
            "First backoff ceiling after a failed push; it doubles per failure, the wait is random below it."));
    static final ConfigKey<Long> BACKOFF_CAP_MILLIS = SECTION.add(ConfigKey.count(
            "sync.backoff_cap_millis",
            30_000,
            1,
            3_600_000,
            "milliseconds",
            "Largest backoff ceiling between failed pushes."));
    static final ConfigKey<Integer> BREAKER_FAILURES = SECTION.add(ConfigKey.integer(
            "sync.breaker_failures",
            5,
            1,
            1000,
            "failures",
            "Consecutive failures needed (with sync.breaker_window_millis) for the circuit to open and pushing"
                    + " to pause."));
    static final ConfigKey<Long> BREAKER_WINDOW_MILLIS = SECTION.add(ConfigKey.count(
            "sync.breaker_window_millis",
            30_000,
            0,
            3_600_000,
            "milliseconds",
            "How long failures must persist before the circuit opens (a hub still starting gets this long;"
                    + " backoff paces the attempts meanwhile). 0: sync.breaker_failures alone decides."));
    static final ConfigKey<Long> BREAKER_OPEN_MILLIS = SECTION.add(ConfigKey.count(
            "sync.breaker_open_millis",
            15_000,
            0,
            3_600_000,
            "milliseconds",
            "How long an open circuit waits before one probe push."));
    static final ConfigKey<Long> BANDWIDTH_BYTES_PER_SECOND = SECTION.add(ConfigKey.bytes(
                    "sync.bandwidth_bytes_per_second",
                    0,
                    0,
                    10 * GIB,
                    "Upload cap in bytes per second for metered links (0: none).")
            .live());
    static final ConfigKey<Long> REQUEST_TIMEOUT_MILLIS = SECTION.add(ConfigKey.count(
            "sync.request_timeout_millis", 10_000, 100, 600_000, "milliseconds", "Timeout of one request to the hub."));
    static final ConfigKey<Long> IDLE_POLL_MILLIS = SECTION.add(ConfigKey.count(
            "sync.idle_poll_millis",
            200,
            1,
            60_000,
            "milliseconds",
            "How often an idle pusher looks for new records (it is also woken by every ingest)."));

    private SyncKeys() {}

    static OutpostConfig.Sync read(ConfigValues v) {
        return new OutpostConfig.Sync(
                v.get(UPSTREAM),
                v.get(TOKEN),
                v.get(BATCH_RECORDS_MAX),
                v.get(BATCH_BYTES_MAX),
                v.get(BACKOFF_BASE_MILLIS),
                v.get(BACKOFF_CAP_MILLIS),
                v.get(BREAKER_FAILURES),
                v.get(BREAKER_WINDOW_MILLIS),
                v.get(BREAKER_OPEN_MILLIS),
                v.get(BANDWIDTH_BYTES_PER_SECOND),
                v.get(REQUEST_TIMEOUT_MILLIS),
                v.get(IDLE_POLL_MILLIS),
                v.get(TLS_TRUST_FILE));
    }

    private static URI upstream(String s) {
        if (s.isBlank()) {
            return null;
        }
        try {
            URI u = new URI(s.strip());
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
                throw new URISyntaxException(s, "not an http(s) URL with a host");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new ConfigException(
                    "sync.upstream",
                    "config error: sync.upstream '" + s + "' must be an http:// or https:// URL like"
                            + " http://hub.example:7070 (" + e.getReason() + ")");
        }
    }
}

package dev.outpost.edge.config;

import dev.outpost.store.ChronicleEventLog;
import dev.outpost.store.Durability;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The agent's whole configuration, validated. Every key has a safe default, so an empty file (or
 * none) gives a working offline agent on 127.0.0.1:7070 with data under ./data.
 *
 * <p>Units are part of the names (TigerBeetle style): {@code ...BytesMax}, {@code ...Micros}.
 */
public record OutpostConfig(
        String nodeId,
        Path dataDir,
        String httpHost,
        int httpPort,
        long httpBodyBytesMax,
        String httpApiToken,
        Path httpTlsKeyStore,
        String httpTlsKeyStorePassword,
        Durability logDurability,
        long logFsyncDelayMicros,
        String logRollCycle,
        String logCompression,
        long logBlockBytes,
        Path compressNativeDir,
        String compressNativeMissing,
        int ingestBatchEventsMax,
        long ingestEventBytesMax,
        int ingestDedupWindowEvents,
        int ingestDedupWindowRequests,
        long stateDocumentsMax,
        long stateDocBytesAvg,
        long stateDocBytesMax,
        int stateHistoryMax,
        long stateTombstoneTtlSeconds,
        int queryLimitDefault,
        int queryLimitMax,
        int queryScanRecordsMax,
        long budgetMemoryBytes,
        long budgetDiskBytes,
        int budgetCpuCores,
        int budgetConnections,
        long budgetIngestEventsPerSecond,
        int budgetLatencyP95Millis,
        Map<String, StreamDecl> streams,
        Sync sync,
        Hub hub,
        Connections connections) {

    /**
     * How the HTTP server treats slow and idle clients, and the share of budget.connections kept for
     * probes (issue #11, 5d; enforced by the connection gate and the slow-client guard).
     *
     * @param headerTimeoutMillis complete request headers must arrive within this of the connection
     *     opening, or of the first byte of a later request
     * @param idleTimeoutMillis a kept-alive connection with no request is closed after this
     * @param bodyRateBytesPerSecondMin a request body must average at least this once the grace is over
     * @param bodyGraceMillis how long a body may take before its rate is judged
     * @param probeConnections connections of budget.connections that only serve /health* and /metrics
     */
    public record Connections(
            long headerTimeoutMillis,
            long idleTimeoutMillis,
            long bodyRateBytesPerSecondMin,
            long bodyGraceMillis,
            int probeConnections) {}

    /**
     * Push to an upstream hub (issue #6); {@code upstream} null means offline mode.
     *
     * @param upstream the hub's base URL, or null
     * @param token this node's token at the hub
     * @param tlsTrustFile PEM certificates trusted for an https:// hub, or null for the JDK's defaults
     */
    public record Sync(
            java.net.URI upstream,
            String token,
            int batchRecordsMax,
            long batchBytesMax,
            long backoffBaseMillis,
            long backoffCapMillis,
            int breakerFailures,
            long breakerOpenMillis,
            long bandwidthBytesPerSecond,
            long requestTimeoutMillis,
            long idlePollMillis,
            Path tlsTrustFile) {}

    /**
     * Hub mode: accept pushes from the nodes in {@code nodes} (id to token).
     *
     * @param enabled true in hub mode ({@code outpost hub} sets it)
     */
    public record Hub(
            boolean enabled,
            int pushConcurrencyMax,
            long bodyBytesMax,
            int nodeLogsOpenMax,
            Map<String, String> nodes) {}

    /**
     * A stream declared in YAML.
     *
     * @param priority its class: critical, high, normal, bulk
     * @param retentionSeconds how long its data is kept (0: until the disk budget needs the space)
     * @param schema its data schema (see StreamSchema), or null
     */
    public record StreamDecl(String priority, long retentionSeconds, Object schema) {}

    /** Bytes a stored record adds to its event beyond the JSON (sequence, HLC, names, checksum). */
    static final long GROUP_RECORD_OVERHEAD_BYTES = 64;

    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    static final long GIB = 1024 * MIB;

    /** Every key the configuration file may hold, with default, bounds and meaning. */
    static final List<ConfigKey> KEYS = List.of(
            ConfigKey.string("node.id", "", "This node's id, unique in the fleet. Empty: the host name."),
            ConfigKey.path(
                    "data.dir", "./data", "Directory of the event log, quarantine and (later) state and catalog."),
            ConfigKey.string("http.host", "127.0.0.1", "Address the HTTP API binds to. Loopback by default."),
            ConfigKey.integer("http.port", 7070, 0, 65535, "TCP port of the HTTP API (0: any free port)."),
            ConfigKey.bytes(
                    "http.body_bytes_max", MIB, KIB, 256 * MIB, "Largest request body accepted; larger gets 413."),
            ConfigKey.string("http.api_token", "", "If set, every /v1 request needs 'Authorization: Bearer <token>'."),
            ConfigKey.string(
                    "http.tls_key_store",
                    "",
                    "PKCS12 key store (private key and certificate) to serve HTTPS only on http.port."
                            + " Empty: plain HTTP."),
            ConfigKey.string("http.tls_key_store_password", "", "Password of http.tls_key_store (and of its key)."),
            ConfigKey.integer(
                    "http.header_timeout_millis",
                    5_000,
                    100,
                    600_000,
                    "A connection that has not sent complete request headers this long after it opened (or after"
                            + " the first byte of a later request) is closed."),
            ConfigKey.integer(
                    "http.idle_timeout_millis",
                    60_000,
                    100,
                    3_600_000,
                    "A kept-alive connection with no request in flight is closed after this long."),
            ConfigKey.bytes(
                    "http.body_rate_bytes_per_second_min",
                    KIB,
                    1,
                    GIB,
                    "A request body averaging less than this once http.body_grace_millis is over is cut with 408."),
            ConfigKey.integer(
                    "http.body_grace_millis",
                    5_000,
                    100,
                    600_000,
                    "How long a request body may arrive before its rate is judged."),
            ConfigKey.oneOf(
                    "log.durability",
                    "os",
                    List.of("os", "fsync"),
                    "os: acknowledged once in the mapped log file (survives kill -9); fsync: after fsync (survives power loss)."),
            ConfigKey.integer(
                    "log.fsync_delay_micros",
                    0,
                    0,
                    100_000,
                    "fsync durability: how long group commit waits to gather more writes before each fsync."),
            ConfigKey.oneOf(
                    "log.roll_cycle",
                    "FAST_HOURLY",
                    ChronicleEventLog.ROLL_CYCLES,
                    "How often the log starts a new cycle file; a cycle is the unit retention deletes."),
            ConfigKey.oneOf(
                    "log.compression",
                    "auto",
                    List.of("auto", "none"),
                    "auto: compress each stored request where the codec policy says it pays (LZ4 on the hot log);"
                            + " none: store raw."),
            ConfigKey.bytes(
                    "log.block_bytes",
                    16 * MIB,
                    MIB,
                    GIB,
                    "Chronicle block size: cycle files grow in these steps and one request must fit in a quarter"
                            + " of it. Small keeps disk accounting exact; must be at most budget.disk / 8."),
            ConfigKey.string(
                    "compress.native_dir",
                    "",
                    "Directory the Zstd and LZ4 native libraries are unpacked to and loaded from."
                            + " Empty: <data.dir>/native. Must allow executables (not a noexec mount)."),
            ConfigKey.oneOf(
                    "compress.native_missing",
                    "fallback",
                    List.of("fallback", "refuse"),
                    "If a native library cannot load: fallback (LZ4 in pure Java, no Zstd; said at startup)"
                            + " or refuse to start."),
            ConfigKey.integer(
                    "ingest.batch_events_max",
                    10_000,
                    1,
                    1_000_000,
                    "Most events in one NDJSON request; more gets 413."),
            ConfigKey.bytes(
                    "ingest.event_bytes_max",
                    64 * KIB,
                    64,
                    64 * MIB,
                    "Largest single event (one JSON object); larger gets 413."),
            ConfigKey.integer(
                    "ingest.dedup_window_events",
                    100_000,
                    0,
                    10_000_000,
                    "How many recent event ids (per stream) are remembered to make a retried event a no-op."),
            ConfigKey.integer(
                    "ingest.dedup_window_requests",
                    10_000,
                    0,
                    1_000_000,
                    "How many recent Idempotency-Key values are remembered with their original sequences."),
            ConfigKey.integer(
                    "state.documents_max",
                    100_000,
                    16,
                    100_000_000,
                    "Most state documents (tombstones included). Beyond it writes of new documents get 507."
                            + " The state file is sized from this and state.doc_bytes_avg up front."),
            ConfigKey.bytes(
                    "state.doc_bytes_avg",
                    512,
                    16,
                    MIB,
                    "Expected average state document size, for sizing the state file; the store refuses (507)"
                            + " once it holds 1.5x documents_max x (this + 112) bytes."),
            ConfigKey.bytes("state.doc_bytes_max", 64 * KIB, 64, 16 * MIB, "Largest state document; larger gets 413."),
            ConfigKey.integer(
                    "state.history_max",
                    10,
                    0,
                    64,
                    "How many previous versions GET /v1/state/{ns}/{id}/history returns (read from the event log)."),
            ConfigKey.integer(
                    "state.tombstone_ttl_seconds",
                    7 * 24 * 3600,
                    1,
                    10L * 365 * 24 * 3600,
                    "How long a deleted document's tombstone is kept (for sync) before it is compacted."),
            ConfigKey.bytes(
                    "budget.memory",
                    512 * MIB,
                    64 * MIB,
                    1024 * GIB,
                    "The agent's whole memory budget (RSS, or the cgroup's usage if there is one)."),
            ConfigKey.bytes(
                    "budget.disk",
                    GIB,
                    16 * MIB,
                    1024 * 1024 * GIB,
                    "The data directory's budget: log, state file, catalog, quarantine."),
            ConfigKey.integer("budget.cpu", 2, 1, 1024, "CPU cores the agent may use (pressure = process CPU / this)."),
            ConfigKey.integer(
                    "budget.connections",
                    1000,
                    1,
                    1_000_000,
                    "Open HTTP connections; more are refused with 503 before their body is read."),
            ConfigKey.integer(
                    "budget.probe_connections",
                    8,
                    0,
                    100_000,
                    "Of budget.connections, how many are kept for GET /health* and /metrics; less than"
                            + " budget.connections."),
            ConfigKey.integer(
                    "budget.ingest_rate",
                    0,
                    0,
                    100_000_000,
                    "Events per second the agent ingests before shedding low priorities (0: no rate budget)."),
            ConfigKey.integer(
                            "budget.latency_p95_millis",
                            50,
                            1,
                            5_000,
                            "Target p95 latency of POST /v1/events; above it the governor halves query pages and batches.")
                    .asLive(),
            ConfigKey.integer(
                            "query.limit_default",
                            1000,
                            1,
                            1_000_000,
                            "Events per page of GET /v1/events when no limit is given.")
                    .asLive(),
            ConfigKey.integer("query.limit_max", 100_000, 1, 10_000_000, "Largest limit GET /v1/events accepts.")
                    .asLive(),
            ConfigKey.integer(
                            "query.scan_records_max",
                            1_000_000,
                            1,
                            100_000_000,
                            "Most records one GET /v1/events reads while filtering; then it returns a cursor to go on.")
                    .asLive(),
            ConfigKey.string(
                    "sync.upstream",
                    "",
                    "Base URL of the hub this node pushes to (http://host:port or https://host:port). Empty: offline mode, nothing is"
                            + " pushed and all data counts as at risk."),
            ConfigKey.string("sync.token", "", "This node's token at the hub (the hub's hub.nodes lists it)."),
            ConfigKey.string(
                    "sync.tls_trust_file",
                    "",
                    "PEM file of the certificates (CA or self-signed) trusted for an https:// sync.upstream."
                            + " Empty: the JDK's default trust store."),
            ConfigKey.integer("sync.batch_records_max", 5000, 1, 100_000, "Most records in one push batch."),
            ConfigKey.bytes(
                    "sync.batch_bytes_max", MIB, KIB, 64 * MIB, "Most event bytes in one push batch (before Zstd)."),
            ConfigKey.integer(
                    "sync.backoff_base_millis",
                    200,
                    1,
                    60_000,
                    "First backoff ceiling after a failed push; it doubles per failure, the wait is random below it."),
            ConfigKey.integer(
                    "sync.backoff_cap_millis", 30_000, 1, 3_600_000, "Largest backoff ceiling between failed pushes."),
            ConfigKey.integer(
                    "sync.breaker_failures",
                    5,
                    1,
                    1000,
                    "Consecutive failures after which the circuit opens and pushing pauses."),
            ConfigKey.integer(
                    "sync.breaker_open_millis",
                    15_000,
                    0,
                    3_600_000,
                    "How long an open circuit waits before one probe push."),
            ConfigKey.bytes(
                            "sync.bandwidth_bytes_per_second",
                            0,
                            0,
                            10 * GIB,
                            "Upload cap in bytes per second for metered links (0: none).")
                    .asLive(),
            ConfigKey.integer(
                    "sync.request_timeout_millis", 10_000, 100, 600_000, "Timeout of one request to the hub."),
            ConfigKey.integer(
                    "sync.idle_poll_millis",
                    200,
                    1,
                    60_000,
                    "How often an idle pusher looks for new records (it is also woken by every ingest)."),
            ConfigKey.oneOf(
                    "hub.enabled",
                    "false",
                    List.of("false", "true"),
                    "Hub mode: accept pushes from the nodes of hub.nodes and serve /v1/fleet ('outpost hub' sets it)."),
            ConfigKey.integer(
                    "hub.push_concurrency_max",
                    16,
                    1,
                    10_000,
                    "Pushes the hub handles at once; more get 429 with Retry-After (admission control)."),
            ConfigKey.bytes(
                    "hub.body_bytes_max",
                    16 * MIB,
                    KIB,
                    256 * MIB,
                    "Largest push body the hub accepts; larger gets 413."),
            ConfigKey.integer(
                    "hub.node_logs_open_max",
                    64,
                    1,
                    100_000,
                    "Node logs the hub keeps open at once; the least recently used is closed beyond it."));

    static OutpostConfig fromValues(Map<String, Object> v) {
        String node = (String) v.get("node.id");
        if (node.isEmpty()) {
            node = hostName();
        }
        OutpostConfig c = new OutpostConfig(
                node,
                (Path) v.get("data.dir"),
                (String) v.get("http.host"),
                ((Long) v.get("http.port")).intValue(),
                (Long) v.get("http.body_bytes_max"),
                (String) v.get("http.api_token"),
                optionalPath((String) v.get("http.tls_key_store")),
                (String) v.get("http.tls_key_store_password"),
                Durability.valueOf(((String) v.get("log.durability")).toUpperCase(java.util.Locale.ROOT)),
                (Long) v.get("log.fsync_delay_micros"),
                (String) v.get("log.roll_cycle"),
                (String) v.get("log.compression"),
                (Long) v.get("log.block_bytes"),
                nativeDir((String) v.get("compress.native_dir"), (Path) v.get("data.dir")),
                (String) v.get("compress.native_missing"),
                ((Long) v.get("ingest.batch_events_max")).intValue(),
                (Long) v.get("ingest.event_bytes_max"),
                ((Long) v.get("ingest.dedup_window_events")).intValue(),
                ((Long) v.get("ingest.dedup_window_requests")).intValue(),
                (Long) v.get("state.documents_max"),
                (Long) v.get("state.doc_bytes_avg"),
                (Long) v.get("state.doc_bytes_max"),
                ((Long) v.get("state.history_max")).intValue(),
                (Long) v.get("state.tombstone_ttl_seconds"),
                ((Long) v.get("query.limit_default")).intValue(),
                ((Long) v.get("query.limit_max")).intValue(),
                ((Long) v.get("query.scan_records_max")).intValue(),
                (Long) v.get("budget.memory"),
                (Long) v.get("budget.disk"),
                ((Long) v.get("budget.cpu")).intValue(),
                ((Long) v.get("budget.connections")).intValue(),
                (Long) v.get("budget.ingest_rate"),
                ((Long) v.get("budget.latency_p95_millis")).intValue(),
                castStreams(v.get("streams")),
                new Sync(
                        upstream((String) v.get("sync.upstream")),
                        (String) v.get("sync.token"),
                        ((Long) v.get("sync.batch_records_max")).intValue(),
                        (Long) v.get("sync.batch_bytes_max"),
                        (Long) v.get("sync.backoff_base_millis"),
                        (Long) v.get("sync.backoff_cap_millis"),
                        ((Long) v.get("sync.breaker_failures")).intValue(),
                        (Long) v.get("sync.breaker_open_millis"),
                        (Long) v.get("sync.bandwidth_bytes_per_second"),
                        (Long) v.get("sync.request_timeout_millis"),
                        (Long) v.get("sync.idle_poll_millis"),
                        optionalPath((String) v.get("sync.tls_trust_file"))),
                new Hub(
                        v.get("hub.enabled").equals("true"),
                        ((Long) v.get("hub.push_concurrency_max")).intValue(),
                        (Long) v.get("hub.body_bytes_max"),
                        ((Long) v.get("hub.node_logs_open_max")).intValue(),
                        castNodes(v.get("hub.nodes"))),
                new Connections(
                        (Long) v.get("http.header_timeout_millis"),
                        (Long) v.get("http.idle_timeout_millis"),
                        (Long) v.get("http.body_rate_bytes_per_second_min"),
                        (Long) v.get("http.body_grace_millis"),
                        ((Long) v.get("budget.probe_connections")).intValue()));
        c.checkRelationships();
        c.checkTls(); // at startup only: a live change does not read the files again
        return c;
    }

    /** Relationships between limits, checked at startup. */
    private void checkRelationships() {
        if (ingestEventBytesMax > httpBodyBytesMax) {
            throw new ConfigException(
                    "ingest.event_bytes_max",
                    "config error: ingest.event_bytes_max (" + ingestEventBytesMax
                            + " bytes) must not exceed http.body_bytes_max (" + httpBodyBytesMax + " bytes)");
        }
        long groupBytesMax = httpBodyBytesMax + ingestBatchEventsMax * GROUP_RECORD_OVERHEAD_BYTES;
        if (groupBytesMax > logBlockBytes / 4) {
            throw new ConfigException(
                    "log.block_bytes",
                    "config error: log.block_bytes (" + logBlockBytes + ") must be at least 4 x (http.body_bytes_max + "
                            + "ingest.batch_events_max x " + GROUP_RECORD_OVERHEAD_BYTES + ") = " + 4 * groupBytesMax
                            + " bytes: one request is one log excerpt, at most a quarter of a block");
        }
        if (logBlockBytes * 8 > budgetDiskBytes) {
            throw new ConfigException(
                    "budget.disk",
                    "config error: budget.disk (" + budgetDiskBytes + " bytes) must be at least 8 x log.block_bytes ("
                            + logBlockBytes
                            + "): retention frees whole cycle files, so a block must be small against the budget");
        }
        if (stateDocBytesMax > httpBodyBytesMax) {
            throw new ConfigException(
                    "state.doc_bytes_max",
                    "config error: state.doc_bytes_max (" + stateDocBytesMax + " bytes) must not exceed"
                            + " http.body_bytes_max (" + httpBodyBytesMax + " bytes)");
        }
        if (stateDocBytesAvg > stateDocBytesMax) {
            throw new ConfigException(
                    "state.doc_bytes_avg",
                    "config error: state.doc_bytes_avg (" + stateDocBytesAvg + ") must not exceed state.doc_bytes_max ("
                            + stateDocBytesMax + ")");
        }
        if (sync.upstream() != null && sync.token().isEmpty()) {
            throw new ConfigException(
                    "sync.token",
                    "config error: sync.token must be set when sync.upstream is (the hub refuses nodes without"
                            + " their token)");
        }
        if (sync.backoffBaseMillis() > sync.backoffCapMillis()) {
            throw new ConfigException(
                    "sync.backoff_base_millis",
                    "config error: sync.backoff_base_millis (" + sync.backoffBaseMillis()
                            + ") must not exceed sync.backoff_cap_millis (" + sync.backoffCapMillis() + ")");
        }
        if (connections.probeConnections() >= budgetConnections) {
            throw new ConfigException(
                    "budget.probe_connections",
                    "config error: budget.probe_connections (" + connections.probeConnections()
                            + ") must be less than budget.connections (" + budgetConnections
                            + "): it is the share of budget.connections kept for /health and /metrics");
        }
        if (queryLimitDefault > queryLimitMax) {
            throw new ConfigException(
                    "query.limit_default",
                    "config error: query.limit_default (" + queryLimitDefault + ") must not exceed query.limit_max ("
                            + queryLimitMax + ")");
        }
    }

    /**
     * The value of a live key (one marked {@code asLive()} in {@link #KEYS}).
     *
     * @throws AssertionError if {@code key} is not live: a programmer error
     */
    public long liveValue(String key) {
        return switch (key) {
            case "query.limit_default" -> queryLimitDefault;
            case "query.limit_max" -> queryLimitMax;
            case "query.scan_records_max" -> queryScanRecordsMax;
            case "budget.latency_p95_millis" -> budgetLatencyP95Millis;
            case "sync.bandwidth_bytes_per_second" -> sync.bandwidthBytesPerSecond();
            default -> throw new AssertionError("not a live configuration key: " + key);
        };
    }

    /**
     * This configuration with the live keys in {@code values} replaced (validated values, as
     * {@link ConfigLoader} parses them), checked as at startup.
     *
     * @throws ConfigException if the result breaks a relationship between limits
     */
    OutpostConfig withLive(Map<String, Long> values) {
        for (String k : values.keySet()) {
            liveValue(k); // asserts it is live
        }
        OutpostConfig c = copy(k -> values.getOrDefault(k, liveValue(k)), hub);
        c.checkRelationships();
        return c;
    }

    /** A copy with the live keys from {@code live} and {@code hub}; everything else as is. */
    private OutpostConfig copy(java.util.function.ToLongFunction<String> live, Hub hub) {
        return new OutpostConfig(
                nodeId,
                dataDir,
                httpHost,
                httpPort,
                httpBodyBytesMax,
                httpApiToken,
                httpTlsKeyStore,
                httpTlsKeyStorePassword,
                logDurability,
                logFsyncDelayMicros,
                logRollCycle,
                logCompression,
                logBlockBytes,
                compressNativeDir,
                compressNativeMissing,
                ingestBatchEventsMax,
                ingestEventBytesMax,
                ingestDedupWindowEvents,
                ingestDedupWindowRequests,
                stateDocumentsMax,
                stateDocBytesAvg,
                stateDocBytesMax,
                stateHistoryMax,
                stateTombstoneTtlSeconds,
                (int) live.applyAsLong("query.limit_default"),
                (int) live.applyAsLong("query.limit_max"),
                (int) live.applyAsLong("query.scan_records_max"),
                budgetMemoryBytes,
                budgetDiskBytes,
                budgetCpuCores,
                budgetConnections,
                budgetIngestEventsPerSecond,
                (int) live.applyAsLong("budget.latency_p95_millis"),
                streams,
                new Sync(
                        sync.upstream(),
                        sync.token(),
                        sync.batchRecordsMax(),
                        sync.batchBytesMax(),
                        sync.backoffBaseMillis(),
                        sync.backoffCapMillis(),
                        sync.breakerFailures(),
                        sync.breakerOpenMillis(),
                        live.applyAsLong("sync.bandwidth_bytes_per_second"),
                        sync.requestTimeoutMillis(),
                        sync.idlePollMillis(),
                        sync.tlsTrustFile()),
                hub,
                connections);
    }

    /** The TLS files are read now: a bad one stops startup naming its key, not the first handshake. */
    private void checkTls() {
        if (httpTlsKeyStore != null) {
            Tls.checkKeyStore(httpTlsKeyStore, httpTlsKeyStorePassword);
        } else if (!httpTlsKeyStorePassword.isEmpty()) {
            throw new ConfigException(
                    Tls.KEY_STORE,
                    "config error: http.tls_key_store_password is set but http.tls_key_store is empty;"
                            + " set the key store (PKCS12) to serve HTTPS, or remove the password");
        }
        if (sync.tlsTrustFile() != null) {
            if (sync.upstream() == null || !"https".equals(sync.upstream().getScheme())) {
                throw new ConfigException(
                        Tls.TRUST_FILE,
                        "config error: sync.tls_trust_file is set but sync.upstream is not an https:// URL ("
                                + (sync.upstream() == null ? "empty" : sync.upstream())
                                + "); the trust file only applies to a hub over HTTPS");
            }
            Tls.trustContext(sync.tlsTrustFile());
        }
    }

    /** This configuration in hub mode. */
    public OutpostConfig asHub() {
        return copy(
                this::liveValue,
                new Hub(true, hub.pushConcurrencyMax(), hub.bodyBytesMax(), hub.nodeLogsOpenMax(), hub.nodes()));
    }

    private static java.net.URI upstream(String s) {
        if (s.isBlank()) {
            return null;
        }
        try {
            java.net.URI u = new java.net.URI(s.strip());
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
                throw new java.net.URISyntaxException(s, "not an http(s) URL with a host");
            }
            return u;
        } catch (java.net.URISyntaxException e) {
            throw new ConfigException(
                    "sync.upstream",
                    "config error: sync.upstream '" + s + "' must be an http:// or https:// URL like"
                            + " http://hub.example:7070 (" + e.getReason() + ")");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> castNodes(Object o) {
        return o == null ? Map.of() : Map.copyOf((Map<String, String>) o);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, StreamDecl> castStreams(Object o) {
        return o == null ? Map.of() : Map.copyOf((Map<String, StreamDecl>) o);
    }

    private static Path optionalPath(String s) {
        return s.isBlank() ? null : Path.of(s.strip()).normalize();
    }

    private static Path nativeDir(String configured, Path dataDir) {
        return configured.isBlank()
                ? dataDir.resolve("native")
                : Path.of(configured).normalize();
    }

    private static String hostName() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            try {
                h = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                h = "edge";
            }
        }
        return h;
    }
}

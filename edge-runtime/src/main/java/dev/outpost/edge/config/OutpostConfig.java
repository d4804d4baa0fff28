package dev.outpost.edge.config;

import dev.outpost.store.Durability;
import java.net.URI;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's whole configuration, validated: one record per YAML section. Every key has a safe
 * default, so an empty file (or none) gives a working offline agent on 127.0.0.1:7070 with data
 * under ./data.
 *
 * <p>Design note. Each key is defined once, in its section's class ({@link HttpKeys}, {@link
 * LogKeys}, ...: YAML path, type, default, unit, bounds, meaning, live flag), which also builds the
 * section record; {@link #SECTIONS} lists the sections in file order. Invariants: a configuration
 * is only built from {@link ConfigValues} that passed each key's parse, and every configuration
 * handed out passed {@link #checkRelationships()}; {@link #values()} is what it was built from, so
 * a live change or hub mode rebuilds from it rather than copying components by hand. Units are part
 * of the component names: {@code ...BytesMax}, {@code ...Micros}.
 *
 * @param values the parsed value of every key, by path, that the sections were built from
 * @param streams the streams declared under {@code streams:}, by name
 * @param rules the engine rules declared under {@code rules:}, by name: each a definition tree that parses as a
 *     rule ({@link dev.outpost.edge.engine.RuleSpec#parse}); checked against the streams' schemas at start
 * @param rollups the rollups declared under {@code rollups:}, by name: each a definition tree that parses as a rollup
 *     ({@link dev.outpost.edge.engine.rollup.RollupSpec#parse})
 */
public record OutpostConfig(
        Node node,
        Data data,
        Http http,
        Log log,
        Compress compress,
        Ingest ingest,
        State state,
        Budget budget,
        Query query,
        Sync sync,
        Hub hub,
        Engine engine,
        Live live,
        Map<String, StreamDecl> streams,
        Map<String, Object> rules,
        Map<String, Object> rollups,
        ConfigValues values) {

    /**
     * @param id this node's id, unique in the fleet (the host name when not configured)
     * @param logFormat {@code text} or {@code json} (the agent's own log on stderr)
     */
    public record Node(String id, String logFormat) {}

    /** @param dir the data directory */
    public record Data(Path dir) {}

    /**
     * @param tlsKeyStore PKCS12 key store to serve HTTPS with, or null for plain HTTP
     * @param headerTimeoutMillis complete request headers must arrive within this of the connection opening, or of
     *     the first byte of a later request
     * @param idleTimeoutMillis a kept-alive connection with no request is closed after this
     * @param bodyRateBytesPerSecondMin a request body must average at least this once the grace is over
     * @param bodyGraceMillis how long a body may take before its rate is judged
     * @param fastPath answer the hot requests in the Netty pipeline ahead of the router (same answers)
     */
    public record Http(
            String host,
            int port,
            long bodyBytesMax,
            String apiToken,
            Path tlsKeyStore,
            String tlsKeyStorePassword,
            long headerTimeoutMillis,
            long idleTimeoutMillis,
            long bodyRateBytesPerSecondMin,
            long bodyGraceMillis,
            boolean fastPath) {}

    public record Log(
            Durability durability, long fsyncDelayMicros, String rollCycle, String compression, long blockBytes) {}

    /** @param nativeDir where native codecs load from (default: {@code <data.dir>/native}) */
    public record Compress(Path nativeDir, String nativeMissing) {}

    public record Ingest(int batchEventsMax, long eventBytesMax, int dedupWindowEvents, int dedupWindowRequests) {}

    public record State(
            long documentsMax, long docBytesAvg, long docBytesMax, int historyMax, long tombstoneTtlSeconds) {}

    /** @param memoryBytes the memory budget, against the process RSS */
    public record Budget(
            long memoryBytes,
            long diskBytes,
            int cpuCores,
            int connections,
            int probeConnections,
            long ingestEventsPerSecond,
            int latencyP95Millis) {}

    public record Query(int limitDefault, int limitMax, int scanRecordsMax) {}

    /**
     * Push to an upstream hub (issue #6); {@code upstream} null means offline mode.
     *
     * @param upstream the hub's base URL, or null
     * @param token this node's token at the hub
     * @param tlsTrustFile PEM certificates trusted for an https:// hub, or null for the JDK's defaults
     */
    public record Sync(
            URI upstream,
            String token,
            int batchRecordsMax,
            long batchBytesMax,
            long backoffBaseMillis,
            long backoffCapMillis,
            int breakerFailures,
            long breakerWindowMillis,
            long breakerOpenMillis,
            long bandwidthBytesPerSecond,
            long requestTimeoutMillis,
            long idlePollMillis,
            Path tlsTrustFile) {}

    /**
     * Hub mode: accept pushes from the nodes in {@code nodes} (id to token).
     *
     * @param enabled true in hub mode ({@code outpost hub} sets it)
     * @param rollupRetentionHours how long the nodes' final rollup windows are kept after their end
     * @param fleetChangesBytesMax with the Kafka backend, most bytes of fleet changes held in memory for pulls
     */
    public record Hub(
            boolean enabled,
            int pushConcurrencyMax,
            long bodyBytesMax,
            int nodeLogsOpenMax,
            int rollupRetentionHours,
            long fleetChangesBytesMax,
            Map<String, String> nodes,
            String backend,
            Kafka kafka) {
        /** True when pushed records go to Kafka (hub.backend: kafka). */
        public boolean kafkaBackend() {
            return backend.equals("kafka");
        }
    }

    /**
     * The Kafka backend of a hub (docs/FLEET-KAFKA.md).
     *
     * @param producer settings passed to the producers as they are (none the hub sets itself)
     * @param advertisedUrl how the fleet's other hubs reach this one (forwarding); empty if they cannot
     * @param topicPerStream records go to a topic per stream instead of per lane
     * @param streamTopicsMax stream topics a hub creates at most
     */
    public record Kafka(
            String bootstrapServers,
            String topicPrefix,
            int shards,
            int transactionTimeoutMillis,
            int sessionTimeoutMillis,
            Map<String, String> producer,
            String advertisedUrl,
            boolean topicPerStream,
            int streamTopicsMax) {}

    /** The engine's definitions from the file: rules and rollups by name (definition trees). */
    record Definitions(Map<String, Object> rules, Map<String, Object> rollups) {
        static final Definitions NONE = new Definitions(Map.of(), Map.of());
    }

    /**
     * @param alertStream the stream the engine writes alerts to
     * @param rollupGroupsMax rollup window summaries held in memory
     * @param detectorGroupsMax (anomaly condition, group) entries the detectors keep
     * @param threadNice the engine thread's nice value (0-19)
     */
    public record Engine(String alertStream, int rollupGroupsMax, int detectorGroupsMax, int threadNice) {}

    /**
     * Live subscriptions (GET /v1/events/tail).
     *
     * @param subscribersMax subscribers held at once (each also holds one of budget.connections)
     * @param bufferMessagesMax messages queued in memory for one subscriber (what does not fit waits in the log)
     * @param bufferBytesMax bytes queued in memory for one subscriber (what does not fit waits in the log)
     * @param lagEventsMax how far behind the newest event a subscriber may fall before {@code overflow} applies
     * @param overflow skip (gap message, goes on) or disconnect (closed with the reason)
     * @param heartbeatMillis a subscriber sent nothing this long gets a heartbeat
     */
    public record Live(
            int subscribersMax,
            int bufferMessagesMax,
            long bufferBytesMax,
            int lagEventsMax,
            String overflow,
            int heartbeatMillis,
            long busySendBytesPerSecondMax,
            int busySendCpuPercentMax) {}

    /**
     * The subscribers held at most: live.subscribers_max, but no more than budget.connections less the probes' share
     * (each subscriber holds a connection) and than full buffers fit in a quarter of budget.memory.
     */
    public int liveSubscribersLimit() {
        long byMemory = budget.memoryBytes() / 4 / live.bufferBytesMax();
        int general = budget.connections() - budget.probeConnections();
        return (int) Math.min(live.subscribersMax(), Math.min(general, byMemory));
    }

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

    /** The sections of the YAML file, in file order ({@code streams} is read apart: its keys are names). */
    static final List<ConfigSection> SECTIONS = List.of(
            NodeKeys.SECTION,
            DataKeys.SECTION,
            HttpKeys.SECTION,
            LogKeys.SECTION,
            CompressKeys.SECTION,
            IngestKeys.SECTION,
            StateKeys.SECTION,
            BudgetKeys.SECTION,
            QueryKeys.SECTION,
            SyncKeys.SECTION,
            HubKeys.SECTION,
            EngineKeys.SECTION,
            LiveKeys.SECTION);

    /** Every key the configuration file may hold, in file order. */
    static final List<ConfigKey<?>> KEYS =
            SECTIONS.stream().flatMap(s -> s.keys().stream()).toList();

    /** The configuration built from {@code v}, with no check between keys (see {@link #load}). */
    static OutpostConfig of(ConfigValues v, Map<String, StreamDecl> streams, Definitions definitions) {
        return new OutpostConfig(
                NodeKeys.read(v),
                DataKeys.read(v),
                HttpKeys.read(v),
                LogKeys.read(v),
                CompressKeys.read(v),
                IngestKeys.read(v),
                StateKeys.read(v),
                BudgetKeys.read(v),
                QueryKeys.read(v),
                SyncKeys.read(v),
                HubKeys.read(v),
                EngineKeys.read(v),
                LiveKeys.read(v),
                Map.copyOf(streams),
                Collections.unmodifiableMap(new LinkedHashMap<>(definitions.rules())),
                Collections.unmodifiableMap(new LinkedHashMap<>(definitions.rollups())),
                v);
    }

    /** The configuration built from {@code v}, checked as at startup (the TLS files are read too). */
    static OutpostConfig load(ConfigValues v, Map<String, StreamDecl> streams, Definitions definitions) {
        OutpostConfig c = of(v, streams, definitions);
        c.checkRelationships();
        c.checkTls(); // at startup only: a live change does not read the files again
        return c;
    }

    /** The section records, in file order (for tests that compare configurations by content). */
    List<Record> sections() {
        return List.of(node, data, http, log, compress, ingest, state, budget, query, sync, hub, engine, live);
    }

    /** Relationships between limits, checked at startup and on every live change. */
    private void checkRelationships() {
        if (ingest.eventBytesMax() > http.bodyBytesMax()) {
            throw new ConfigException(
                    "ingest.event_bytes_max",
                    "config error: ingest.event_bytes_max (" + ingest.eventBytesMax()
                            + " bytes) must not exceed http.body_bytes_max (" + http.bodyBytesMax() + " bytes)");
        }
        long groupBytesMax = http.bodyBytesMax() + ingest.batchEventsMax() * GROUP_RECORD_OVERHEAD_BYTES;
        if (groupBytesMax > log.blockBytes() / 4) {
            throw new ConfigException(
                    "log.block_bytes",
                    "config error: log.block_bytes (" + log.blockBytes()
                            + ") must be at least 4 x (http.body_bytes_max + "
                            + "ingest.batch_events_max x " + GROUP_RECORD_OVERHEAD_BYTES + ") = " + 4 * groupBytesMax
                            + " bytes: one request is one log excerpt, at most a quarter of a block");
        }
        if (log.blockBytes() * 8 > budget.diskBytes()) {
            throw new ConfigException(
                    "budget.disk",
                    "config error: budget.disk (" + budget.diskBytes()
                            + " bytes) must be at least 8 x log.block_bytes ("
                            + log.blockBytes()
                            + "): retention frees whole cycle files, so a block must be small against the budget");
        }
        if (state.docBytesMax() > http.bodyBytesMax()) {
            throw new ConfigException(
                    "state.doc_bytes_max",
                    "config error: state.doc_bytes_max (" + state.docBytesMax() + " bytes) must not exceed"
                            + " http.body_bytes_max (" + http.bodyBytesMax() + " bytes)");
        }
        if (budget.probeConnections() >= budget.connections()) {
            throw new ConfigException(
                    "budget.probe_connections",
                    "config error: budget.probe_connections (" + budget.probeConnections()
                            + ") must be less than budget.connections (" + budget.connections()
                            + "): it is the share of budget.connections kept for /health and /metrics");
        }
        if (state.docBytesAvg() > state.docBytesMax()) {
            throw new ConfigException(
                    "state.doc_bytes_avg",
                    "config error: state.doc_bytes_avg (" + state.docBytesAvg()
                            + ") must not exceed state.doc_bytes_max (" + state.docBytesMax() + ")");
        }
        if (live.bufferBytesMax() > budget.memoryBytes() / 4) { // else liveSubscribersLimit() is 0
            throw new ConfigException(
                    "live.buffer_bytes_max",
                    "config error: live.buffer_bytes_max (" + live.bufferBytesMax() + " bytes) must not exceed a"
                            + " quarter of budget.memory (" + budget.memoryBytes() + " / 4 = "
                            + budget.memoryBytes() / 4 + " bytes): subscribers' full buffers are held in that quarter,"
                            + " and with not one fitting every live subscription would be refused (503)");
        }
        checkSyncAndQuery();
    }

    private void checkSyncAndQuery() {
        if (hub.kafkaBackend() && hub.kafka().bootstrapServers().isEmpty()) {
            throw new ConfigException(
                    "hub.kafka_bootstrap_servers",
                    "config error: hub.kafka_bootstrap_servers must name the Kafka brokers (host:port,...) when"
                            + " hub.backend is kafka");
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
        if (query.limitDefault() > query.limitMax()) {
            throw new ConfigException(
                    "query.limit_default",
                    "config error: query.limit_default (" + query.limitDefault() + ") must not exceed query.limit_max ("
                            + query.limitMax() + ")");
        }
    }

    /** The TLS files are read now: a bad one stops startup naming its key, not the first handshake. */
    private void checkTls() {
        if (http.tlsKeyStore() != null) {
            Tls.checkKeyStore(http.tlsKeyStore(), http.tlsKeyStorePassword());
        } else if (!http.tlsKeyStorePassword().isEmpty()) {
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

    /**
     * The value of a live key (one defined with {@code live()}).
     *
     * @throws AssertionError if {@code key} is not live: a programmer error
     */
    public long liveValue(String key) {
        if (KEYS.stream().noneMatch(k -> k.isLive() && k.path().equals(key))) {
            throw new AssertionError("not a live configuration key: " + key);
        }
        return (Long) values.parsed(key);
    }

    /**
     * This configuration with the live keys in {@code live} replaced (validated values, as
     * {@link ConfigKey#parse} gives them), checked as at startup.
     *
     * @throws ConfigException if the result breaks a relationship between limits
     */
    OutpostConfig withLive(Map<String, Long> live) {
        ConfigValues v = values;
        for (Map.Entry<String, Long> e : live.entrySet()) {
            liveValue(e.getKey()); // asserts it is live
            v = v.with(e.getKey(), e.getValue());
        }
        OutpostConfig c = of(v, streams, new Definitions(rules, rollups));
        c.checkRelationships();
        return c;
    }

    /** This configuration with another data directory (for offline tools pointed at a directory). */
    public OutpostConfig withDataDir(java.nio.file.Path dir) {
        ConfigValues v = values.with(DataKeys.DIR.path(), DataKeys.DIR.parse(dir.toString(), "command line"));
        return of(v, streams, new Definitions(rules, rollups));
    }

    /** This configuration in hub mode. */
    public OutpostConfig asHub() {
        return of(values.with(HubKeys.ENABLED.path(), "true"), streams, new Definitions(rules, rollups));
    }
}

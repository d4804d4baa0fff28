package dev.outpost.edge;

import dev.outpost.compress.NativeCodecs;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.governance.Connections;
import dev.outpost.edge.governance.Governance;
import dev.outpost.edge.governance.SmallerBatches;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.edge.ingest.IngestPipeline;
import dev.outpost.edge.ingest.Ingestor;
import dev.outpost.edge.metrics.Histogram;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.edge.state.StateService;
import dev.outpost.edge.streams.StreamRegistry;
import dev.outpost.governor.BatchScale;
import dev.outpost.governor.Dimension;
import dev.outpost.governor.DiskUsage;
import dev.outpost.governor.Governor;
import dev.outpost.governor.Probe;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Catalog;
import dev.outpost.store.ChronicleStateStore;
import dev.outpost.store.EventLog;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogCounters;
import dev.outpost.store.LogOptions;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The agent's engine parts, wired once at startup and handed to the HTTP layer as one singleton.
 * Only this class (and {@link Main}) know how modules fit together.
 */
public final class Agent implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Agent.class);

    /** The effective configuration: the file's with the hub's live settings on top (see LiveConfig). */
    private volatile OutpostConfig config;

    private final dev.outpost.edge.config.LiveConfig liveConfig;
    /** Offline mode: what each lane holds, all at risk (nothing is acknowledged). */
    private final Map<Lane, dev.outpost.sync.BacklogTally> offlineTallies = new java.util.EnumMap<>(Lane.class);

    private final EventLog log;
    private final IngestPipeline ingest;
    private final Metrics metrics = new Metrics();
    private final NativeCodecs.Status natives;
    private final Catalog catalog;
    /** Most tombstones one compaction run removes. */
    static final int TOMBSTONES_PER_RUN_MAX = 10_000;

    private final java.util.concurrent.ScheduledExecutorService housekeeping =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r ->
                    Thread.ofPlatform().name("outpost-housekeeping").daemon().unstarted(r));
    private final ChronicleStateStore stateStore;
    private final StateService state;
    private final StreamRegistry streams;
    private final DiskUsage disk;
    private volatile Governance governance; // set last in the constructor; the append hook reads it
    private final LanedEventLog laned;
    private final dev.outpost.sync.Puller puller;

    /** Not final: the log's write listener reads it before the constructor assigns it. */
    private volatile dev.outpost.sync.Pusher pusher;

    private final dev.outpost.sync.HubReceiver hubReceiver;
    private final dev.outpost.edge.hub.FleetLogs fleetLogs;
    private final java.util.concurrent.Semaphore hubAdmission;
    private final dev.outpost.sync.PushBatch.Limits hubLimits;

    /** Most records a hub accepts in one push (a larger one gets 413 and the edge halves its batches). */
    public static final int HUB_BATCH_RECORDS_MAX = 20_000;

    /** Pushes acknowledged by this hub. */
    public final LongAdder hubPushes;
    /** Pushes refused by admission control (429). */
    public final LongAdder hubPushesThrottled;
    /** Records pushed to this hub and stored. */
    public final LongAdder hubRecordsStored;
    /** Records pushed to this hub that it already had (resends). */
    public final LongAdder hubRecordsDuplicate;

    private final long startedAtMillis = System.currentTimeMillis();
    private volatile boolean ready;

    /** HTTP connections against budget.connections. */
    private final Connections connections;

    private final BatchScale batchScale = new BatchScale();

    /** GET /v1/state/{namespace}/{id} answered by {@link dev.outpost.edge.http.StateReadFastPath}. */
    public final LongAdder stateFastReads;
    /** Query requests served. */
    public final LongAdder queryRequests;
    /** Events returned by queries. */
    public final LongAdder queryEvents;
    /** Latency of GET /v1/events until the first byte is ready. */
    public final Histogram queryLatency;

    public Agent(OutpostConfig config) {
        this.config = config;
        this.natives = NativeCodecs.load(
                config.compressNativeDir(),
                config.compressNativeMissing().equals("refuse")
                        ? NativeCodecs.Mode.REFUSE
                        : NativeCodecs.Mode.FALLBACK);
        LogOptions lo = new LogOptions(
                config.dataDir().resolve("log"),
                config.dataDir().resolve("quarantine"),
                config.logDurability(),
                config.logRollCycle(),
                config.logFsyncDelayMicros(),
                config.logCompression().equals("auto"),
                config.logBlockBytes());
        LanedEventLog chronicleLog = LanedEventLog.open(lo, HybridClock.system());
        this.log = chronicleLog;
        this.laned = chronicleLog;
        for (Lane lane : Lane.values()) {
            offlineTallies.put(lane, new dev.outpost.sync.BacklogTally(chronicleLog.lane(lane), new AckedRanges()));
        }
        // sqlite-jdbc unpacks its native library like the codecs do: into the same directory.
        // If that directory is unusable (the fallback case), or its disk is full (the agent must
        // still start: it unpacks at every start), sqlite-jdbc keeps its default (java.io.tmpdir).
        if (java.nio.file.Files.isDirectory(config.compressNativeDir())
                && usableBytes(config.compressNativeDir()) >= SQLITE_UNPACK_BYTES_MIN) {
            System.setProperty("org.sqlite.tmpdir", config.compressNativeDir().toString());
        }
        this.catalog = Catalog.open(config.dataDir().resolve("catalog.db"));
        this.liveConfig = new dev.outpost.edge.config.LiveConfig(
                config,
                catalog.remoteConfig().stream()
                        .map(r -> new dev.outpost.edge.config.LiveConfig.Setting(
                                r.key(), r.rawValue(), r.hlc(), r.origin()))
                        .toList(),
                all -> catalog.replaceRemoteConfig(all.stream()
                        .map(x -> new Catalog.RemoteConfigRow(x.key(), x.rawValue(), x.hlc(), x.origin()))
                        .toList()));
        this.config = liveConfig.current();
        if (!liveConfig.settings().isEmpty()) {
            LOG.info(
                    "config: running with the settings hub(s) set: {}",
                    liveConfig.settings().values());
        }
        liveConfig.onChange(c -> this.config = c);
        this.stateStore = ChronicleStateStore.open(
                config.dataDir().resolve("state").resolve("state.cm3"), config.stateDocumentsMax(), (int)
                        config.stateDocBytesAvg());
        this.state =
                new StateService(stateStore, log, config.nodeId(), config.stateDocBytesMax(), config.stateHistoryMax());
        scheduleTombstoneCompaction(config.stateTombstoneTtlSeconds());
        state.recover();
        this.streams = new StreamRegistry(catalog, config.streams());
        this.disk = new DiskUsage(config.dataDir());
        disk.reconcile();
        chronicleLog.onBytesWritten(n -> {
            disk.add(n);
            dev.outpost.sync.Pusher p = this.pusher; // null until constructed, and offline
            if (p != null) {
                p.wake();
            }
            Governance g = governance; // null until constructed
            if (g != null) {
                g.diskWritten();
            }
        });
        for (LanedEventLog.Quarantined q : chronicleLog.quarantined()) {
            catalog.recordQuarantine(
                    "log-group",
                    q.lane().id() + ":" + q.index(),
                    q.file().toString(),
                    q.file().toFile().length());
        }
        this.connections = new Connections(config.budgetConnections(), metrics);
        // Admission is the governor's shedding, and the governor reads the pipeline's counters: the
        // stage reads the field, set below before anything can be ingested.
        this.ingest = new IngestPipeline(
                new EventParser(config.ingestBatchEventsMax(), config.ingestEventBytesMax()),
                config.httpBodyBytesMax(),
                streams::validate,
                batch -> governance.shedding().check(batch),
                java.util.List.of(),
                new Ingestor(
                        log, config.ingestDedupWindowEvents(), config.ingestDedupWindowRequests(), streams::laneOf),
                metrics);
        queryRequests = metrics.counter("outpost_query_requests_total", "GET /v1/events requests served.");
        stateFastReads = metrics.counter(
                "outpost_state_fast_reads_total",
                "GET /v1/state/{namespace}/{id} answered by the fast path ahead of the router.");
        queryEvents = metrics.counter("outpost_query_events_total", "Events returned by GET /v1/events.");
        LogCounters lc = log.counters();
        metrics.gauge("outpost_log_last_seq", "Highest sequence number in the event log.", log::lastSeq);
        metrics.gauge("outpost_log_first_seq", "Lowest sequence number still in the event log.", log::firstSeq);
        metrics.counterFn(
                "outpost_log_appended_bytes_total", "Bytes appended to the event log.", lc.appendedBytes::sum);
        metrics.counterFn(
                "outpost_log_uncompressed_bytes_total",
                "Bytes the appended groups would take uncompressed (ratio = this / appended bytes).",
                lc.uncompressedBytes::sum);
        metrics.gauge("outpost_state_documents", "State documents held (tombstones included).", stateStore::size);
        metrics.gauge(
                "outpost_state_documents_max", "Most state documents (state.documents_max).", stateStore::capacity);
        metrics.gauge(
                "outpost_state_file_bytes", "Bytes of the state file (allocated up front).", stateStore::fileBytes);
        metrics.gauge(
                "outpost_native_zstd_loaded", "1 if zstd's native library is loaded.", () -> natives.zstd() ? 1 : 0);
        metrics.gauge(
                "outpost_native_lz4_loaded",
                "1 if LZ4 runs natively (0: pure Java).",
                () -> natives.lz4Native() ? 1 : 0);
        metrics.counterFn(
                "outpost_log_fsyncs_total", "fsync calls by group commit (durability fsync).", lc.fsyncs::sum);
        metrics.counterFn(
                "outpost_log_corrupt_skipped_total", "Corrupt records skipped by readers.", lc.corruptSkipped::sum);
        metrics.counterFn(
                "outpost_log_quarantined_total", "Corrupt log groups quarantined at startup.", lc.quarantined::sum);
        metrics.gauge(
                "outpost_uptime_seconds",
                "Seconds since the agent started.",
                () -> (System.currentTimeMillis() - startedAtMillis) / 1000);
        queryLatency = metrics.histogram(
                "outpost_query_request_duration_seconds", "GET /v1/events latency until the response starts.");
        hubPushes = metrics.counter("outpost_hub_pushes_total", "Pushes this hub acknowledged.");
        hubPushesThrottled = metrics.counter(
                "outpost_hub_pushes_throttled_total", "Pushes refused with 429 beyond hub.push_concurrency_max.");
        hubRecordsStored = metrics.counter("outpost_hub_records_stored_total", "Pushed records this hub stored.");
        hubRecordsDuplicate = metrics.counter(
                "outpost_hub_records_duplicate_total", "Pushed records this hub already had (resends, not stored).");
        OutpostConfig.Hub hub = config.hub();
        this.hubAdmission = new java.util.concurrent.Semaphore(hub.pushConcurrencyMax());
        this.hubLimits = new dev.outpost.sync.PushBatch.Limits(
                (int) Math.min(Integer.MAX_VALUE, hub.bodyBytesMax()),
                (int) Math.min(Integer.MAX_VALUE - 64, hub.bodyBytesMax() * 64),
                HUB_BATCH_RECORDS_MAX);
        if (hub.enabled()) {
            this.fleetLogs =
                    new dev.outpost.edge.hub.FleetLogs(config.dataDir().resolve("hub"), lo, hub.nodeLogsOpenMax());
            this.hubReceiver = new dev.outpost.sync.HubReceiver(
                    fleetLogs,
                    catalog,
                    (hub.pushConcurrencyMax() + 1) * HUB_BATCH_RECORDS_MAX,
                    config.logBlockBytes() / 8);
        } else {
            this.fleetLogs = null;
            this.hubReceiver = null;
        }
        OutpostConfig.Sync sync = config.sync();
        if (sync.upstream() != null) {
            javax.net.ssl.SSLContext hubTls =
                    sync.tlsTrustFile() == null ? null : dev.outpost.edge.config.Tls.trustContext(sync.tlsTrustFile());
            if ("http".equals(sync.upstream().getScheme())
                    && !dev.outpost.edge.config.Tls.isLoopback(sync.upstream())) {
                org.slf4j.LoggerFactory.getLogger(Agent.class)
                        .warn(
                                "sync: sync.upstream {} is plain http:// to another host: this node's token (sync.token)"
                                        + " and its data travel unencrypted; serve the hub over HTTPS"
                                        + " (http.tls_key_store) and use an https:// upstream",
                                sync.upstream());
            }
            this.pusher = new dev.outpost.sync.Pusher(
                    new dev.outpost.sync.Pusher.Options(
                            sync.upstream(),
                            config.nodeId(),
                            sync.token(),
                            sync.batchRecordsMax(),
                            (int) sync.batchBytesMax(),
                            sync.backoffBaseMillis(),
                            sync.backoffCapMillis(),
                            sync.breakerFailures(),
                            sync.breakerOpenMillis(),
                            this.config.sync().bandwidthBytesPerSecond(), // a hub may have set it
                            sync.requestTimeoutMillis(),
                            sync.idlePollMillis(),
                            hubTls),
                    chronicleLog,
                    catalog,
                    natives.zstd(),
                    batchScale);
            metrics.counterFn("outpost_sync_batches_total", "Push batches the hub acknowledged.", pusher.batches::sum);
            metrics.counterFn("outpost_sync_records_total", "Records the hub acknowledged.", pusher.records::sum);
            metrics.counterFn("outpost_sync_wire_bytes_total", "Bytes of push bodies sent.", pusher.wireBytes::sum);
            metrics.counterFn(
                    "outpost_sync_payload_bytes_total",
                    "Event JSON bytes of acknowledged pushes (wire / payload = compression).",
                    pusher.payloadBytes::sum);
            metrics.counterFn("outpost_sync_failures_total", "Failed pushes.", pusher.failures::sum);
            metrics.counterFn("outpost_sync_throttled_total", "429/503 answers obeyed.", pusher.throttled::sum);
            metrics.gauge(
                    "outpost_sync_link_connected",
                    "1 if the last push succeeded.",
                    () -> pusher.link() == dev.outpost.sync.Pusher.Link.CONNECTED ? 1 : 0);
            liveConfig.onChange(c -> pusher.bandwidthBytesPerSecond(c.sync().bandwidthBytesPerSecond()));
            this.puller = new dev.outpost.sync.Puller(
                    sync.upstream(),
                    config.nodeId(),
                    sync.token(),
                    catalog,
                    sync.backoffBaseMillis(),
                    sync.backoffCapMillis(),
                    hubTls,
                    this::applyPulled);
            metrics.counterFn(
                    "outpost_sync_pulled_changes_total",
                    "Changes pulled from the hub and applied.",
                    puller.applied::sum);
            metrics.counterFn(
                    "outpost_sync_pulled_changes_failed_total",
                    "Changes pulled from the hub that could not be applied (skipped; see the log).",
                    puller.failedChanges::sum);
        } else {
            this.pusher = null;
            this.puller = null;
        }
        metrics.counterFn(
                "outpost_state_conflicts_lost_total",
                "Pulled state changes that lost to a newer local version (kept in history).",
                state.conflictsLost::sum);
        metrics.counterFn(
                "outpost_state_conflicts_replaced_total",
                "Local state versions replaced by a newer change from elsewhere (kept in history).",
                state.conflictsReplaced::sum);
        // Last: the governor's probes read the counters above.
        this.governance = new Governance(
                config,
                liveConfig::current,
                disk,
                chronicleLog,
                catalog,
                ingest.ingestor(),
                connections,
                batchScale,
                ingest::storedEvents,
                ingest.latency(),
                stream -> {
                    StreamRegistry.Stream st = streams.get(stream);
                    return st == null ? "normal" : st.priority();
                },
                () -> "GET /v1/events pages " + queryLimitDefault() + " events, at most " + queryLimitMax() + ", scans "
                        + queryScanRecordsMax() + " records",
                metrics);
        governance.start();
        housekeeping.scheduleWithFixedDelay(disk::reconcile, 60, 60, java.util.concurrent.TimeUnit.SECONDS);
        if (pusher != null) {
            pusher.start();
            puller.start();
        }
        metrics.gauge(
                "outpost_data_at_risk_events",
                "Events not yet acknowledged upstream (all of them while offline); kept up to date, so a"
                        + " scrape reads only what arrived since the last one (at most "
                        + AT_RISK_SCAN_RECORDS_MAX + " records per lane).",
                () -> {
                    long n = 0;
                    for (Lane lane : Lane.values()) {
                        n += (pusher == null
                                        ? offlineBacklog(lane, AT_RISK_SCAN_RECORDS_MAX)
                                        : pusher.backlog(lane, AT_RISK_SCAN_RECORDS_MAX))
                                .records();
                    }
                    return n;
                });
    }

    /** Most records a metrics scrape reads per lane to bring the data-at-risk count up to date. */
    static final int AT_RISK_SCAN_RECORDS_MAX = 200_000;

    /** Free space sqlite-jdbc's native library needs to be unpacked (it is about 2 MiB), with margin. */
    static final long SQLITE_UNPACK_BYTES_MIN = 16L << 20;

    private static long usableBytes(java.nio.file.Path dir) {
        try {
            return java.nio.file.Files.getFileStore(dir).getUsableSpace();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    /** Runs tombstone compaction at a quarter of the TTL (1 s to 1 h), on the agent's own thread. */
    private void scheduleTombstoneCompaction(long ttlSeconds) {
        long everyMillis = Math.clamp(ttlSeconds * 1000 / 4, 1000, 3_600_000);
        housekeeping.scheduleWithFixedDelay(
                () -> {
                    try {
                        long cutoff = HybridClock.atMillis(System.currentTimeMillis() - ttlSeconds * 1000);
                        state.compactTombstones(cutoff, TOMBSTONES_PER_RUN_MAX);
                    } catch (RuntimeException e) {
                        // contained: a failed run is retried at the next tick
                        org.slf4j.LoggerFactory.getLogger(Agent.class).error("tombstone compaction failed", e);
                    }
                },
                everyMillis,
                everyMillis,
                java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Bytes of the state file (mapped whole; counted against memory and disk). */
    public long stateFileBytes() {
        return stateStore.fileBytes();
    }

    public Governor governor() {
        return governance.governor();
    }

    /** The governor, its actions and shedding. */
    public Governance governance() {
        return governance;
    }

    /** HTTP connections against budget.connections. */
    public Connections connections() {
        return connections;
    }

    /** How far the governor has scaled batches down (smaller-batches); sync's push batches read it too. */
    public BatchScale batchScale() {
        return batchScale;
    }

    /** query.limit_default as scaled now. */
    public int queryLimitDefault() {
        return batchScale.apply(config().queryLimitDefault(), SmallerBatches.PAGE_EVENTS_FLOOR);
    }

    /** query.limit_max as scaled now: larger limits are served as pages of this many (validation uses the config). */
    public int queryLimitMax() {
        return batchScale.apply(config().queryLimitMax(), SmallerBatches.PAGE_EVENTS_FLOOR);
    }

    /** query.scan_records_max as scaled now. */
    public int queryScanRecordsMax() {
        return batchScale.apply(config().queryScanRecordsMax(), SmallerBatches.SCAN_RECORDS_FLOOR);
    }

    /** Replaces the governor's probe of {@code dimension} (null: the measured one again). For tests. */
    void overrideUsage(Dimension dimension, Probe usage) {
        governance.overrideUsage(dimension, usage);
    }

    public DiskUsage disk() {
        return disk;
    }

    /** Stream definitions. */
    public StreamRegistry streams() {
        return streams;
    }

    /** State documents. */
    public StateService state() {
        return state;
    }

    /** The SQLite catalog (dictionaries so far). */
    public Catalog catalog() {
        return catalog;
    }

    /** What the native codec libraries did at startup. */
    public NativeCodecs.Status natives() {
        return natives;
    }

    /** The effective configuration (live keys may change while the agent runs: read it at each use). */
    public OutpostConfig config() {
        return config;
    }

    /** The keys a hub may change at runtime, and what it set. */
    public dev.outpost.edge.config.LiveConfig liveConfig() {
        return liveConfig;
    }

    public EventLog log() {
        return log;
    }

    /** The ingest pipeline. */
    public IngestPipeline ingest() {
        return ingest;
    }

    /** The dedup and append step of the pipeline. */
    public Ingestor ingestor() {
        return ingest.ingestor();
    }

    public Metrics metrics() {
        return metrics;
    }

    public boolean ready() {
        return ready;
    }

    void markReady() {
        ready = true;
    }

    /** The reserved stream that carries fleet changes (hub to nodes) in a hub's own log. */
    public static final String FLEET_STREAM = "_fleet";

    private final Object fleetSignal = new Object();
    private long fleetVersion;

    /** Hub mode: appends a change for nodes to pull; returns its {seq, hlc} once durable. */
    public long[] publishFleetChange(String target, String changeJson) {
        byte[] payload = ("{\"stream\":\"" + FLEET_STREAM + "\",\"key\":\"" + target + "\",\"data\":" + changeJson
                        + "}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        dev.outpost.store.AppendResult r =
                log.append(Lane.HIGH, java.util.List.of(dev.outpost.store.EventDraft.of(FLEET_STREAM, payload)));
        r.durable().join();
        synchronized (fleetSignal) {
            fleetVersion++;
            fleetSignal.notifyAll();
        }
        return new long[] {r.firstSeq(), r.firstHlc()};
    }

    /** Hub mode: how many fleet changes were published since start (for long polls). */
    public long fleetVersion() {
        synchronized (fleetSignal) {
            return fleetVersion;
        }
    }

    /** Hub mode: waits until a change is published after {@code version}, at most {@code millis}. */
    public void awaitFleetChange(long version, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        synchronized (fleetSignal) {
            long left;
            while (fleetVersion == version && (left = deadline - System.currentTimeMillis()) > 0) {
                fleetSignal.wait(left);
            }
        }
    }

    /** Applies a change pulled from the hub (state by last-writer-wins; streams as declared). */
    private void applyPulled(String kind, String line, long hlc) {
        byte[] b = line.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Map<?, ?> change =
                (Map<?, ?>) ((Map<?, ?>) dev.outpost.edge.state.json.JsonTree.parse(b, 0, b.length)).get("change");
        if (kind.equals("stream")) {
            streams.put((String) change.get("name"), change.get("definition"));
            return;
        }
        if (kind.equals("config")) {
            if (!(change.get("settings") instanceof Map<?, ?> settings)) {
                throw new IllegalArgumentException("a config change without settings: " + line);
            }
            Map<String, Object> typed = new java.util.LinkedHashMap<>();
            settings.forEach(
                    (k, v) -> typed.put(String.valueOf(k), v == dev.outpost.edge.state.json.JsonTree.NULL ? null : v));
            liveConfig.apply(typed, hlc, String.valueOf(change.get("origin")));
            return;
        }
        boolean delete = "delete".equals(change.get("op"));
        byte[] doc = delete ? new byte[0] : dev.outpost.edge.state.json.JsonTree.write(change.get("doc"));
        state.applyRemote((String) change.get("namespace"), (String) change.get("id"), delete, doc, hlc, (String)
                change.get("origin"));
    }

    /** The pull from the upstream hub, or null in offline mode. */
    public dev.outpost.sync.Puller puller() {
        return puller;
    }

    /** The push to the upstream hub, or null in offline mode. */
    public dev.outpost.sync.Pusher pusher() {
        return pusher;
    }

    /** What a lane holds while offline (nothing is acknowledged), counting at most {@code scanMax} records. */
    public dev.outpost.sync.Pusher.Backlog offlineBacklog(Lane lane, int scanMax) {
        return offlineTallies.get(lane).read(scanMax);
    }

    /** Hub mode: stores pushes (null otherwise). */
    public dev.outpost.sync.HubReceiver hubReceiver() {
        return hubReceiver;
    }

    /** Hub mode: the nodes' logs (null otherwise). */
    public dev.outpost.edge.hub.FleetLogs fleetLogs() {
        return fleetLogs;
    }

    /** Hub mode: admission control of pushes (hub.push_concurrency_max). */
    public java.util.concurrent.Semaphore hubAdmission() {
        return hubAdmission;
    }

    /** Hub mode: the bounds of a push body. */
    public dev.outpost.sync.PushBatch.Limits hubLimits() {
        return hubLimits;
    }

    @Override
    public void close() {
        ready = false;
        if (pusher != null) {
            pusher.close();
            puller.close();
        }
        if (fleetLogs != null) {
            fleetLogs.close();
        }
        housekeeping.shutdownNow();
        if (governance != null) {
            governance.close();
        }
        try {
            log.close();
        } finally {
            try {
                stateStore.close();
            } finally {
                catalog.close();
            }
        }
    }
}

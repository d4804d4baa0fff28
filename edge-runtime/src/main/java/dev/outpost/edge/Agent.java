package dev.outpost.edge;

import dev.outpost.compress.NativeCodecs;
import dev.outpost.compress.Pressure;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.edge.ingest.Ingestor;
import dev.outpost.edge.metrics.Histogram;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.edge.state.StateService;
import dev.outpost.edge.streams.StreamRegistry;
import dev.outpost.governor.Action;
import dev.outpost.governor.BatchScale;
import dev.outpost.governor.Budget;
import dev.outpost.governor.Dimension;
import dev.outpost.governor.DiskUsage;
import dev.outpost.governor.Governor;
import dev.outpost.governor.Level;
import dev.outpost.governor.Probe;
import dev.outpost.governor.ProcessProbes;
import dev.outpost.governor.Reading;
import dev.outpost.governor.Snapshot;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Catalog;
import dev.outpost.store.ChronicleStateStore;
import dev.outpost.store.EventLog;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogCounters;
import dev.outpost.store.LogOptions;
import dev.outpost.store.Retention;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The agent's engine parts, wired once at startup and handed to the HTTP layer as one singleton.
 * Only this class (and {@link Main}) know how modules fit together.
 */
public final class Agent implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Agent.class);

    /** Lanes retention may drop before upstream has them, in this order, when the disk is critical. */
    static final java.util.List<Lane> DROP_ORDER = java.util.List.of(Lane.BULK, Lane.NORMAL);

    /** Disk pressure at which synced data is retired (the HIGH level). */
    static final double RETIRE_AT = 0.85;

    /** Disk pressure that retiring synced data brings usage back under. */
    static final double RETIRE_TARGET = 0.70;

    /** Disk pressure at which unsynced bulk, then normal, data is dropped (the CRITICAL level). */
    static final double DROP_AT = 0.95;

    /** Disk pressure that dropping unsynced data brings usage back under. */
    static final double DROP_TARGET = 0.85;

    /** The effective configuration: the file's with the hub's live settings on top (see LiveConfig). */
    private volatile OutpostConfig config;

    private final dev.outpost.edge.config.LiveConfig liveConfig;
    /** Offline mode: what each lane holds, all at risk (nothing is acknowledged). */
    private final Map<Lane, dev.outpost.sync.BacklogTally> offlineTallies = new java.util.EnumMap<>(Lane.class);

    private final EventLog log;
    private final EventParser parser;
    private final Ingestor ingestor;
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
    private volatile Governor governor; // set last in the constructor; the append hook reads it
    /** Log cycle files deleted by retention. */
    public final LongAdder retentionCycles;
    /** Bytes freed by retention. */
    public final LongAdder retentionBytes;
    /** Events retention deleted after upstream acknowledged them. */
    public final LongAdder retentionRetired;
    /** Events retention deleted before upstream acknowledged them: counted loss. */
    public final LongAdder retentionDropped;

    private Retention retention;
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

    /** Events refused by shedding (429/507). */
    public final LongAdder ingestShed;

    private final long startedAtMillis = System.currentTimeMillis();
    private volatile boolean ready;

    /** Open HTTP connections (the governor's connections dimension). */
    public final java.util.concurrent.atomic.AtomicInteger openConnections =
            new java.util.concurrent.atomic.AtomicInteger();
    /** Connections refused beyond budget.connections. */
    public final LongAdder connectionsRefused = new LongAdder();
    /** Connections the gate admits now: budget.connections, lowered under CPU pressure ({@link LowerConcurrency}). */
    public final java.util.concurrent.atomic.AtomicInteger connectionsLimit;

    private final BatchScale batchScale = new BatchScale();
    /** Tests drive pressure through these: a probe here replaces the measured one of its dimension. */
    private final Map<Dimension, Probe> usageOverrides = new java.util.concurrent.ConcurrentHashMap<>();

    /** Ingest requests that stored or replayed events. */
    public final LongAdder ingestRequests;
    /** Ingest requests rejected with a 4xx or 5xx. */
    public final LongAdder ingestRejected;
    /** Events stored. */
    public final LongAdder ingestEvents;
    /** Events that were duplicates of earlier ones (event id or Idempotency-Key). */
    public final LongAdder ingestDuplicates;
    /** GET /v1/state/{namespace}/{id} answered by {@link dev.outpost.edge.http.StateReadFastPath}. */
    public final LongAdder stateFastReads;
    /** Query requests served. */
    public final LongAdder queryRequests;
    /** Events returned by queries. */
    public final LongAdder queryEvents;
    /** Latency of POST /v1/events, until acknowledged. */
    public final Histogram ingestLatency;
    /** Latency of GET /v1/events until the first byte is ready. */
    public final Histogram queryLatency;

    public Agent(OutpostConfig config) {
        this.config = config;
        this.natives = NativeCodecs.load(
                config.compress().nativeDir(),
                config.compress().nativeMissing().equals("refuse")
                        ? NativeCodecs.Mode.REFUSE
                        : NativeCodecs.Mode.FALLBACK);
        LogOptions lo = new LogOptions(
                config.data().dir().resolve("log"),
                config.data().dir().resolve("quarantine"),
                config.log().durability(),
                config.log().rollCycle(),
                config.log().fsyncDelayMicros(),
                config.log().compression().equals("auto"),
                config.log().blockBytes());
        LanedEventLog chronicleLog = LanedEventLog.open(lo, HybridClock.system());
        this.log = chronicleLog;
        this.laned = chronicleLog;
        for (Lane lane : Lane.values()) {
            offlineTallies.put(lane, new dev.outpost.sync.BacklogTally(chronicleLog.lane(lane), new AckedRanges()));
        }
        // sqlite-jdbc unpacks its native library like the codecs do: into the same directory.
        // If that directory is unusable (the fallback case), or its disk is full (the agent must
        // still start: it unpacks at every start), sqlite-jdbc keeps its default (java.io.tmpdir).
        if (java.nio.file.Files.isDirectory(config.compress().nativeDir())
                && usableBytes(config.compress().nativeDir()) >= SQLITE_UNPACK_BYTES_MIN) {
            System.setProperty("org.sqlite.tmpdir", config.compress().nativeDir().toString());
        }
        this.catalog = Catalog.open(config.data().dir().resolve("catalog.db"));
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
                config.data().dir().resolve("state").resolve("state.cm3"), config.state().documentsMax(), (int)
                        config.state().docBytesAvg());
        this.state =
                new StateService(stateStore, log, config.node().id(), config.state().docBytesMax(), config.state().historyMax());
        scheduleTombstoneCompaction(config.state().tombstoneTtlSeconds());
        state.recover();
        this.streams = new StreamRegistry(catalog, config.streams());
        this.disk = new DiskUsage(config.data().dir());
        disk.reconcile();
        long diskBudget = config.budget().diskBytes();
        chronicleLog.onBytesWritten(n -> {
            disk.add(n);
            dev.outpost.sync.Pusher p = this.pusher; // null until constructed, and offline
            if (p != null) {
                p.wake();
            }
            // Disk is tracked on every write: crossing into a higher level band samples at once
            // instead of waiting up to a minute for the next tick.
            Governor g = governor;
            if (g != null) {
                Reading last = g.snapshot().readings().get(Dimension.DISK);
                Level was = last == null ? Level.LOW : Level.of(last.pressure());
                if (Level.of((double) disk.bytes() / diskBudget) != was) {
                    g.sampleNow();
                }
            }
        });
        for (LanedEventLog.Quarantined q : chronicleLog.quarantined()) {
            catalog.recordQuarantine(
                    "log-group",
                    q.lane().id() + ":" + q.index(),
                    q.file().toString(),
                    q.file().toFile().length());
        }
        this.parser = new EventParser(config.ingest().batchEventsMax(), config.ingest().eventBytesMax());
        this.connectionsLimit = new java.util.concurrent.atomic.AtomicInteger(config.budget().connections());
        this.ingestor = new Ingestor(
                log, config.ingest().dedupWindowEvents(), config.ingest().dedupWindowRequests(), streams::laneOf);
        ingestRequests = metrics.counter("outpost_ingest_requests_total", "Ingest requests acknowledged.");
        ingestRejected = metrics.counter(
                "outpost_ingest_rejected_total", "Ingest requests rejected (4xx/5xx); nothing of them stored.");
        ingestEvents = metrics.counter("outpost_ingest_events_total", "Events stored.");
        ingestDuplicates = metrics.counter(
                "outpost_ingest_duplicates_total", "Events not stored again: retries within the dedup window.");
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
        ingestLatency = metrics.histogram(
                "outpost_ingest_request_duration_seconds",
                "POST /v1/events latency until acknowledged (including fsync when configured).");
        queryLatency = metrics.histogram(
                "outpost_query_request_duration_seconds", "GET /v1/events latency until the response starts.");
        ingestShed =
                metrics.counter("outpost_ingest_shed_total", "Events refused by shedding (429/507) under pressure.");
        retentionCycles =
                metrics.counter("outpost_retention_cycles_deleted_total", "Log cycle files deleted by retention.");
        retentionBytes = metrics.counter("outpost_retention_bytes_freed_total", "Bytes freed by retention.");
        retentionRetired = metrics.counter(
                "outpost_retention_synced_events_retired_total",
                "Events deleted by retention after upstream had them.");
        retentionDropped = metrics.counter(
                "outpost_retention_unsynced_events_dropped_total",
                "Events deleted by retention before upstream had them (disk critical; see GET /v1/retention).");
        this.retention = new Retention(chronicleLog, this::retained);
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
                    new dev.outpost.edge.hub.FleetLogs(config.data().dir().resolve("hub"), lo, hub.nodeLogsOpenMax());
            this.hubReceiver = new dev.outpost.sync.HubReceiver(
                    fleetLogs,
                    catalog,
                    (hub.pushConcurrencyMax() + 1) * HUB_BATCH_RECORDS_MAX,
                    config.log().blockBytes() / 8);
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
                            config.node().id(),
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
                    config.node().id(),
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
        metrics.counterFn(
                "outpost_connections_refused_total",
                "Connections refused beyond budget.connections.",
                connectionsRefused::sum);
        metrics.gauge("outpost_connections_open", "Open HTTP connections.", openConnections::get);
        // Last: the governor's probes read the counters above.
        this.governor = startGovernor(config, chronicleLog);
        if (pusher != null) {
            pusher.start();
            puller.start();
        }
        metrics.gauge(
                "outpost_governor_level",
                "Governor level: 0 low, 1 medium, 2 elevated, 3 high, 4 critical.",
                () -> governor.level().ordinal());
        metrics.gauge(
                "outpost_governor_interval_millis",
                "Current sampling interval.",
                () -> governor.level().sampleIntervalMillis());
        for (Dimension d : Dimension.values()) {
            String n = d.name().toLowerCase(java.util.Locale.ROOT);
            metrics.gauge(
                    "outpost_governor_" + n + "_usage",
                    "Governor usage of " + n + " (bytes, milli-cores, count or events/s).",
                    () -> reading(d, true));
            metrics.gauge(
                    "outpost_governor_" + n + "_limit", "Governor budget for " + n + ".", () -> reading(d, false));
        }
        for (Level l : Level.values()) {
            metrics.counterFn(
                    "outpost_governor_transitions_to_" + l.name().toLowerCase(java.util.Locale.ROOT) + "_total",
                    "Governor level transitions into " + l.name() + ".",
                    () -> governor.transitions(l));
        }
        for (String a : governor.actionNames()) {
            metrics.counterFn(
                    "outpost_governor_action_runs_total",
                    "action",
                    a,
                    "Times a governor action did something (each logged once, listed in GET /v1/governor).",
                    () -> governor.actionRuns(a));
        }
        for (String a : governor.actionNames()) {
            metrics.counterFn(
                    "outpost_governor_action_failures_total",
                    "action",
                    a,
                    "Times a governor action threw.",
                    () -> governor.actionFailures(a));
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

    private long reading(Dimension d, boolean usage) {
        Snapshot s = governor.snapshot();
        Reading r = s == null ? null : s.readings().get(d);
        return r == null ? -1 : usage ? r.usage() : r.limit();
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

    /**
     * The resource governor: one budget, sampled on its own thread. Memory pressure is the
     * process RSS (a cgroup here may hold other processes too; its usage is reported, not
     * budgeted). Actions: caches shrink with memory, the connection gate with CPU, batches with
     * ingest latency; the hot-log codec follows CPU/disk pressure; shedding is read by ingest.
     */
    private Governor startGovernor(OutpostConfig config, LanedEventLog chronicleLog) {
        Map<Dimension, Probe> probes = new EnumMap<>(Dimension.class);
        probes.put(Dimension.MEMORY, ProcessProbes.rssBytes());
        probes.put(Dimension.CPU, ProcessProbes.processCpuMilliCores());
        probes.put(Dimension.DISK, disk::bytes);
        probes.put(Dimension.CONNECTIONS, openConnections::get);
        if (config.budget().ingestEventsPerSecond() > 0) {
            probes.put(Dimension.INGEST_RATE, new RateProbe(ingestEvents::sum));
        }
        probes.replaceAll(
                (d, measured) -> () -> usageOverrides.getOrDefault(d, measured).usage());
        Governor g = new Governor(
                new Budget(
                        config.budget().memoryBytes(),
                        config.budget().cpuCores(),
                        config.budget().diskBytes(),
                        config.budget().connections(),
                        config.budget().ingestEventsPerSecond()),
                probes);
        // BRIEF §6's actions in its order; compression effort follows CPU in codec-follows-pressure.
        g.register(new ShrinkCaches(
                ingestor, catalog, config.ingest().dedupWindowEvents(), config.ingest().dedupWindowRequests()));
        g.register(new LowerConcurrency(connectionsLimit, config.budget().connections()));
        g.register(new SmallerBatches(
                ingestLatency,
                batchScale,
                () -> config().budget().latencyP95Millis(),
                () -> "GET /v1/events pages " + queryLimitDefault() + " events, at most " + queryLimitMax() + ", scans "
                        + queryScanRecordsMax() + " records"));
        g.register(new Action() {
            private Pressure last = Pressure.NONE;

            @Override
            public String name() {
                return "codec-follows-pressure";
            }

            @Override
            public String onLevel(Level level, Snapshot s) {
                Pressure p = new Pressure(high(s, Dimension.CPU, 0.70), high(s, Dimension.DISK, 0.70));
                if (p.equals(last)) {
                    return null;
                }
                last = p;
                chronicleLog.pressure(p);
                return "hot-log codec pressure hint: cpu " + (p.cpuHigh() ? "high" : "normal") + ", disk "
                        + (p.diskHigh() ? "high" : "normal");
            }
        });
        g.register(new Action() {
            private Level last = Level.LOW;

            @Override
            public String name() {
                return "shed-low-priority-writes";
            }

            @Override
            public String onLevel(Level level, Snapshot s) {
                Level was = last;
                last = level;
                if (level.compareTo(Level.HIGH) < 0) {
                    return was.compareTo(Level.HIGH) >= 0 ? "stopped shedding" : null;
                }
                if (level == was) {
                    return null;
                }
                return level == Level.HIGH
                        ? "refusing bulk writes"
                        : "refusing bulk, normal and high writes (critical only while the disk has room)";
            }
        });
        g.register(retentionAction(
                "retire-synced-data",
                RETIRE_AT,
                RETIRE_TARGET,
                retentionRetired,
                retention::retireSynced,
                "retired",
                " synced events"));
        g.register(retentionAction(
                "drop-unsynced-bulk-then-normal",
                DROP_AT,
                DROP_TARGET,
                retentionDropped,
                (bytes, synced) -> retention.dropUnsynced(bytes, DROP_ORDER, synced),
                "dropped",
                " unsynced events of lanes " + DROP_ORDER + "; see GET /v1/retention"));
        g.start();
        housekeeping.scheduleWithFixedDelay(disk::reconcile, 60, 60, java.util.concurrent.TimeUnit.SECONDS);
        return g;
    }

    /** One retention pass: frees at least the bytes asked for, if it can; returns the bytes freed. */
    @FunctionalInterface
    private interface RetentionPass {
        long free(long bytes, Retention.Synced synced);
    }

    /**
     * A disk action: from {@code at} x budget.disk, a pass frees down to {@code target} x
     * budget.disk; the detail says how many events {@code counted} grew by.
     */
    private Action retentionAction(
            String name, double at, double target, LongAdder counted, RetentionPass pass, String verb, String what) {
        return new Action() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String onLevel(Level level, Snapshot s) {
                long budget = config.budget().diskBytes();
                if (disk.bytes() < at * budget) {
                    return null;
                }
                long before = counted.sum();
                long freed = pass.free(disk.bytes() - (long) (target * budget), syncedNow());
                if (freed == 0) {
                    return null;
                }
                disk.reconcile();
                return verb + " " + (counted.sum() - before) + what + " (" + freed + " bytes)";
            }
        };
    }

    /**
     * What the configured upstream has acknowledged, per lane, from the catalog's sync cursors read
     * now (offline: nothing).
     */
    private Retention.Synced syncedNow() {
        Map<Lane, java.util.List<AckedRanges>> byLane = new EnumMap<>(Lane.class);
        java.net.URI upstream = config.sync().upstream();
        if (upstream == null) {
            return Retention.Synced.NOTHING; // offline: nothing is ever acknowledged
        }
        for (Catalog.SyncCursorRow row : catalog.syncCursors()) {
            if (!row.upstream().equals(upstream.toString())) {
                continue; // another upstream's (an earlier configuration) or a hub's received ranges
            }
            byLane.computeIfAbsent(Lane.of(row.lane()), k -> new java.util.ArrayList<>())
                    .add(row.ranges());
        }
        if (byLane.isEmpty()) {
            return Retention.Synced.NOTHING;
        }
        return (lane, from, to) -> {
            java.util.List<AckedRanges> rs = byLane.get(lane);
            if (rs == null) {
                return false;
            }
            for (AckedRanges r : rs) {
                if (!r.containsAll(from, to)) {
                    return false;
                }
            }
            return true;
        };
    }

    /** Retention deleted a cycle: count it, record it in the retention log, and track the disk. */
    private void retained(Retention.Deleted d) {
        disk.add(-d.bytes());
        retentionCycles.increment();
        retentionBytes.add(d.bytes());
        retentionRetired.add(d.events() - d.unsyncedEvents());
        retentionDropped.add(d.unsyncedEvents());
        StringBuilder json = new StringBuilder("{");
        for (Map.Entry<String, Long> e : d.eventsByStream().entrySet()) {
            if (json.length() > 1) {
                json.append(',');
            }
            // Stream names are restricted to A-Z a-z 0-9 . _ - (and Retention's "(other streams)").
            json.append('"')
                    .append(e.getKey())
                    .append("\":{\"events\":")
                    .append(e.getValue())
                    .append(",\"unsynced\":")
                    .append(d.unsyncedByStream().getOrDefault(e.getKey(), 0L))
                    .append('}');
        }
        json.append('}');
        catalog.recordRetention(new Catalog.RetentionRow(
                System.currentTimeMillis(),
                d.lane().id(),
                d.cycle(),
                d.firstSeq(),
                d.lastSeq(),
                d.bytes(),
                d.events(),
                d.unsyncedEvents(),
                d.reason(),
                json.toString()));
    }

    private static boolean high(Snapshot s, Dimension d, double threshold) {
        Reading r = s.readings().get(d);
        return r != null && r.pressure() >= threshold;
    }

    /** Events per second from a monotonic counter, between successive samples. */
    private static final class RateProbe implements Probe {
        private final java.util.function.LongSupplier counter;
        private long lastCount;
        private long lastNanos = System.nanoTime();

        RateProbe(java.util.function.LongSupplier counter) {
            this.counter = counter;
            this.lastCount = counter.getAsLong();
        }

        @Override
        public synchronized long usage() {
            long now = System.nanoTime();
            long count = counter.getAsLong();
            long elapsed = Math.max(1, now - lastNanos);
            long rate = (count - lastCount) * 1_000_000_000L / elapsed;
            lastCount = count;
            lastNanos = now;
            return rate;
        }
    }

    /**
     * Shedding: at HIGH, bulk writes are refused; at CRITICAL, everything but critical; critical
     * writes are refused last, only once the disk budget itself is used up. A request is refused
     * whole (all or nothing): 507 when the disk is the worst dimension, else 429. Only memory,
     * disk and ingest rate shed writes: CPU pressure lowers compression effort instead (refusing
     * writes because the JIT is busy would lose data for nothing), and connections are refused at
     * the gate.
     */
    public dev.outpost.edge.ingest.ProblemException shed(java.util.List<dev.outpost.edge.ingest.ParsedEvent> events) {
        Snapshot s = governor.snapshot();
        long diskNow = disk.bytes();
        Reading worst = null;
        for (Reading r : s.readings().values()) {
            if (r.dimension() == Dimension.DISK) {
                // Disk is tracked on every write: decide on the live value, not the last sample.
                r = new Reading(Dimension.DISK, diskNow, r.limit(), (double) diskNow / r.limit());
            }
            boolean sheds = r.dimension() == Dimension.MEMORY
                    || r.dimension() == Dimension.DISK
                    || r.dimension() == Dimension.INGEST_RATE;
            if (sheds && (worst == null || r.pressure() > worst.pressure())) {
                worst = r;
            }
        }
        Level level = worst == null ? Level.LOW : Level.of(worst.pressure());
        if (level.compareTo(Level.HIGH) < 0) {
            return null;
        }
        boolean diskFull = diskNow >= config.budget().diskBytes();
        for (dev.outpost.edge.ingest.ParsedEvent e : events) {
            StreamRegistry.Stream st = streams.get(e.stream());
            String priority = st == null ? "normal" : st.priority();
            boolean refuse = switch (priority) {
                case "bulk" -> true;
                case "critical" -> diskFull;
                default -> level == Level.CRITICAL;
            };
            if (refuse) {
                ingestShed.add(events.size());
                boolean onDisk = worst != null && worst.dimension() == Dimension.DISK;
                String why = "the agent is at level " + level + " ("
                        + (worst == null
                                ? "?"
                                : worst.dimension().name().toLowerCase(java.util.Locale.ROOT) + " at "
                                        + Math.round(worst.pressure() * 100) + " % of budget")
                        + "); " + priority + " writes to stream '" + e.stream() + "' are refused for now; retry later";
                return new dev.outpost.edge.ingest.ProblemException(
                        onDisk ? 507 : 429, onDisk ? "Insufficient storage" : "Too many requests", why, 0, null);
            }
        }
        return null;
    }

    /** Bytes of the state file (mapped whole; counted against memory and disk). */
    public long stateFileBytes() {
        return stateStore.fileBytes();
    }

    public Governor governor() {
        return governor;
    }

    /** How far the governor has scaled batches down (smaller-batches); sync's push batches read it too. */
    public BatchScale batchScale() {
        return batchScale;
    }

    /** query.limit_default as scaled now. */
    public int queryLimitDefault() {
        return batchScale.apply(config().query().limitDefault(), SmallerBatches.PAGE_EVENTS_FLOOR);
    }

    /** query.limit_max as scaled now: larger limits are served as pages of this many (validation uses the config). */
    public int queryLimitMax() {
        return batchScale.apply(config().query().limitMax(), SmallerBatches.PAGE_EVENTS_FLOOR);
    }

    /** query.scan_records_max as scaled now. */
    public int queryScanRecordsMax() {
        return batchScale.apply(config().query().scanRecordsMax(), SmallerBatches.SCAN_RECORDS_FLOOR);
    }

    /** Replaces the governor's probe of {@code dimension} (null: the measured one again). For tests. */
    void overrideUsage(Dimension dimension, Probe usage) {
        if (usage == null) {
            usageOverrides.remove(dimension);
        } else {
            usageOverrides.put(dimension, usage);
        }
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

    public EventParser parser() {
        return parser;
    }

    public Ingestor ingestor() {
        return ingestor;
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
        if (governor != null) {
            governor.close();
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

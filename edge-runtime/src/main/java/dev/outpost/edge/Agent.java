package dev.outpost.edge;

import dev.outpost.compress.NativeCodecs;
import dev.outpost.edge.config.LiveConfig;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.dictionaries.DictionaryTraining;
import dev.outpost.edge.engine.Engine;
import dev.outpost.edge.engine.RollupBook;
import dev.outpost.edge.engine.RuleBook;
import dev.outpost.edge.governance.Connections;
import dev.outpost.edge.governance.Governance;
import dev.outpost.edge.http.CursorSeal;
import dev.outpost.edge.hub.Hub;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.edge.ingest.IngestPipeline;
import dev.outpost.edge.ingest.Ingestor;
import dev.outpost.edge.live.LiveFeed;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.edge.query.EventQueries;
import dev.outpost.edge.state.StateService;
import dev.outpost.edge.streams.StreamRegistry;
import dev.outpost.edge.upstream.PulledChanges;
import dev.outpost.edge.upstream.Upstream;
import dev.outpost.governor.BatchScale;
import dev.outpost.governor.Dimension;
import dev.outpost.governor.DiskUsage;
import dev.outpost.governor.Governor;
import dev.outpost.governor.Probe;
import dev.outpost.store.Catalog;
import dev.outpost.store.ChronicleStateStore;
import dev.outpost.store.EventLog;
import dev.outpost.store.HybridClock;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogFields;
import dev.outpost.store.LogOptions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's lifecycle: opens the stores, wires the components (ingest, queries, state, streams, governance, the
 * upstream link, hub mode), starts them, and stops them. It holds no behaviour of its own; each component owns its
 * work and registers its own metrics. Only this class (and {@link Main}, which hands its {@link #services()} to the
 * HTTP layer) knows how the modules fit together.
 *
 * <p>Design note. Invariants:
 *
 * <ul>
 *   <li><b>Ordered start.</b> Stores first (log, catalog, hub settings, state; the state store opens beside the
 *       others on a thread of its own, {@link OpenAhead}), then the components that use them;
 *       the threads (governor, push, pull, housekeeping) start last, once everything they touch exists. Nothing is
 *       served before {@link Main} starts HTTP, after this constructor returns.
 *   <li><b>Reverse stop.</b> Whatever was opened is closed in the reverse order: threads that act on the stores stop
 *       before the stores close. A failure while starting closes what was opened so far (the data directory is
 *       released) and rethrows.
 *   <li><b>One configuration in force.</b> {@link #config()} is the file's with the hub's live settings on top
 *       ({@link LiveConfig}); components that read live keys read it at each use.
 * </ul>
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    /** Most tombstones one compaction run removes. */
    static final int TOMBSTONES_PER_RUN_MAX = 10_000;

    /** How often tracked disk usage is reconciled with the filesystem, seconds. */
    static final long DISK_RECONCILE_SECONDS = 60;

    /** What was opened, most recent first: closed in this order. */
    private final Deque<AutoCloseable> opened = new ArrayDeque<>();

    private final long startedAtMillis = System.currentTimeMillis();
    private final Metrics metrics = new Metrics();
    private final BatchScale batchScale = new BatchScale();
    private final NativeCodecs.Status natives;
    private final LanedEventLog log;
    private final Catalog catalog;
    private final CursorSeal cursorSeal;
    private final LiveConfig liveConfig;
    private final ChronicleStateStore stateStore;
    private final StateService state;
    private final StreamRegistry streams;
    private final RuleBook rules;
    private final RollupBook rollups;
    private final Engine engine;
    private final LiveFeed liveFeed;
    private final DiskUsage disk;
    private final ScheduledExecutorService housekeeping;
    private final Connections connections;
    private final IngestPipeline ingest;
    private final EventQueries queries;
    private final DictionaryTraining dictionaries;
    private final Hub hub;

    // Volatile: the log's write listener reads them from the first write on, before they are set.
    private volatile Upstream upstream;
    private volatile Governance governance;

    private volatile boolean ready;

    /** Opens the data directory of {@code config} and starts everything but HTTP. */
    public Agent(OutpostConfig config) {
        try {
            this.natives = NativeCodecs.load(
                    config.compress().nativeDir(),
                    config.compress().nativeMissing().equals("refuse")
                            ? NativeCodecs.Mode.REFUSE
                            : NativeCodecs.Mode.FALLBACK,
                    NativeLibraries.prebuilt());
            LogOptions logOptions = logOptions(config);
            NativeLibraries.useForSqlite(config.compress().nativeDir());
            StartAhead.sqlite(); // while the event log opens
            OpenAhead<ChronicleStateStore> stateAhead = open(OpenAhead.start(
                    "outpost-open-state",
                    () -> ChronicleStateStore.open(
                            config.data().dir().resolve("state").resolve("state.cm3"),
                            config.state().documentsMax(),
                            (int) config.state().docBytesAvg())));
            this.log = open(LanedEventLog.open(logOptions, HybridClock.system()));
            this.catalog = open(Catalog.open(config.data().dir().resolve("catalog.db")));
            this.cursorSeal = CursorSeal.load(config.data().dir());
            this.liveConfig = liveConfig(config, catalog);
            this.stateStore = stateAhead.get(); // closed through stateAhead
            this.state = new StateService(
                    stateStore,
                    log,
                    config.node().id(),
                    config.state().docBytesMax(),
                    config.state().historyMax());
            this.housekeeping = Executors.newSingleThreadScheduledExecutor(r ->
                    Thread.ofPlatform().name("outpost-housekeeping").daemon().unstarted(r));
            open((AutoCloseable) housekeeping::shutdownNow);
            state.recover();
            this.streams = new StreamRegistry(catalog, config.streams());
            EngineWiring.Parts engineParts = EngineWiring.open(config, log, catalog, streams, metrics, this::open);
            this.rules = engineParts.rules();
            this.rollups = engineParts.rollups();
            this.engine = engineParts.engine();
            this.liveFeed = open(new LiveFeed(log, state, config, metrics, System::nanoTime));
            this.disk = new DiskUsage(config.data().dir());
            disk.reconcile();
            stateStore.onFileBytesChanged(disk::add); // the state file grows in steps: count each at once
            log.onBytesWritten(this::written);
            recordQuarantined();
            this.connections = new Connections(config.budget().connections(), metrics);
            this.ingest = ingestPipeline(config);
            this.queries = new EventQueries(log, liveConfig::current, batchScale, metrics);
            this.dictionaries = new DictionaryTraining(log, catalog, liveConfig::current);
            this.hub = config.hub().enabled() ? open(new Hub(config, logOptions, catalog, log, metrics)) : null;
            this.upstream = open(new Upstream(
                    config,
                    liveConfig,
                    log,
                    catalog,
                    natives,
                    batchScale,
                    new PulledChanges(state, streams, liveConfig, rules),
                    metrics));
            this.governance = open(governance(config));
            StoreMetrics.register(metrics, log, stateStore, state, natives, startedAtMillis);
            start(config);
        } catch (RuntimeException | Error e) {
            closeOpened(e);
            throw e;
        }
    }

    private <T extends AutoCloseable> T open(T closeable) {
        opened.push(closeable);
        return closeable;
    }

    static LogOptions logOptions(OutpostConfig config) {
        return new LogOptions(
                config.data().dir().resolve("log"),
                config.data().dir().resolve("quarantine"),
                config.log().durability(),
                config.log().rollCycle(),
                config.log().fsyncDelayMicros(),
                config.log().compression().equals("auto"),
                config.log().blockBytes());
    }

    /** The file's configuration with what hubs set (kept in the catalog) on top. */
    private static LiveConfig liveConfig(OutpostConfig config, Catalog catalog) {
        LiveConfig live = new LiveConfig(
                config,
                catalog.remoteConfig().stream()
                        .map(r -> new LiveConfig.Setting(r.key(), r.rawValue(), r.hlc(), r.origin()))
                        .toList(),
                all -> catalog.replaceRemoteConfig(all.stream()
                        .map(x -> new Catalog.RemoteConfigRow(x.key(), x.rawValue(), x.hlc(), x.origin()))
                        .toList()));
        if (!live.settings().isEmpty()) {
            LOG.info(
                    "config: running with the settings hub(s) set: {}",
                    live.settings().values());
        }
        return live;
    }

    /** Every write to the log: tracked against the disk budget, and news for the pusher. */
    private void written(long bytes) {
        disk.add(bytes);
        Upstream u = upstream; // null until constructed
        if (u != null) {
            u.written();
        }
        Governance g = governance; // null until constructed
        if (g != null) {
            g.diskWritten();
        }
    }

    private void recordQuarantined() {
        for (LanedEventLog.Quarantined q : log.quarantined()) {
            catalog.recordQuarantine(
                    "log-group",
                    q.lane().id() + ":" + q.index(),
                    q.file().toString(),
                    q.file().toFile().length());
        }
    }

    private IngestPipeline ingestPipeline(OutpostConfig config) {
        // Admission is the governor's shedding, and the governor reads the pipeline's counters: the
        // stage reads the field, set before anything can be ingested (HTTP starts after this constructor).
        return new IngestPipeline(
                new EventParser(
                        config.ingest().batchEventsMax(), config.ingest().eventBytesMax()),
                config.http().bodyBytesMax(),
                streams::validate,
                batch -> governance.shedding().check(batch),
                List.of(engine, liveFeed), // the engine's stages (rules, rollups, live tail) plug in here
                new Ingestor(
                        log,
                        config.ingest().dedupWindowEvents(),
                        config.ingest().dedupWindowRequests(),
                        streams::laneOf),
                metrics);
    }

    private Governance governance(OutpostConfig config) {
        return new Governance(
                config,
                liveConfig::current,
                disk,
                log,
                catalog,
                ingest.ingestor(),
                connections,
                batchScale,
                ingest::storedEvents,
                ingest.latency(),
                stream -> {
                    StreamRegistry.Stream s = streams.get(stream);
                    return s == null ? "normal" : s.priority();
                },
                queries::sizes,
                rollups.summaries(),
                liveFeed,
                metrics);
    }

    /** Starts the threads, once everything they touch exists. */
    private void start(OutpostConfig config) {
        engine.start();
        liveFeed.start();
        governance.start();
        upstream.start();
        housekeeping.scheduleWithFixedDelay(
                disk::reconcile, DISK_RECONCILE_SECONDS, DISK_RECONCILE_SECONDS, TimeUnit.SECONDS);
        scheduleTombstoneCompaction(config.state().tombstoneTtlSeconds());
    }

    /** Runs tombstone compaction at a quarter of the TTL (1 s to 1 h), on the housekeeping thread. */
    private void scheduleTombstoneCompaction(long ttlSeconds) {
        long everyMillis = Math.clamp(ttlSeconds * 1000 / 4, 1000, 3_600_000);
        housekeeping.scheduleWithFixedDelay(
                () -> {
                    try {
                        long cutoff = HybridClock.atMillis(System.currentTimeMillis() - ttlSeconds * 1000);
                        state.compactTombstones(cutoff, TOMBSTONES_PER_RUN_MAX);
                    } catch (RuntimeException e) {
                        // contained: retried at the next tick
                        LOG.atError()
                                .addKeyValue(
                                        LogFields.ADVICE,
                                        "nothing to do if it passes: retried at the next tick;"
                                                + " check the data directory's disk if it repeats")
                                .setCause(e)
                                .log("tombstone compaction failed");
                    }
                },
                everyMillis,
                everyMillis,
                TimeUnit.MILLISECONDS);
    }

    /**
     * The components the HTTP layer is given (Main registers them as singletons; controllers take the one service
     * they call): this agent (readiness), the configuration in force, the catalog, state, streams, the ingest
     * pipeline, event queries, dictionary training, governance, connections, the upstream link, metrics, and the
     * hub in hub mode.
     */
    public Object[] services() {
        List<Object> all = new ArrayList<>(List.of(
                this,
                liveConfig,
                catalog,
                cursorSeal,
                state,
                streams,
                rules,
                rollups,
                engine,
                liveFeed,
                ingest,
                queries,
                dictionaries,
                governance,
                connections,
                upstream,
                metrics));
        if (hub != null) {
            all.add(hub);
        }
        return all.toArray();
    }

    /** The configuration in force (live keys may change while the agent runs: read it at each use). */
    public OutpostConfig config() {
        return liveConfig.current();
    }

    /** The keys a hub may change at runtime, and what it set. */
    public LiveConfig liveConfig() {
        return liveConfig;
    }

    public EventLog log() {
        return log;
    }

    /** Live subscriptions. */
    public LiveFeed liveFeed() {
        return liveFeed;
    }

    /** The SQLite catalog. */
    public Catalog catalog() {
        return catalog;
    }

    /** State documents. */
    public StateService state() {
        return state;
    }

    /** Stream definitions. */
    public StreamRegistry streams() {
        return streams;
    }

    /** The ingest pipeline. */
    public IngestPipeline ingest() {
        return ingest;
    }

    /** The dedup and append step of the ingest pipeline. */
    public Ingestor ingestor() {
        return ingest.ingestor();
    }

    /** Reads of the event log. */
    public EventQueries queries() {
        return queries;
    }

    /** The governor, its actions and shedding. */
    public Governance governance() {
        return governance;
    }

    public Governor governor() {
        return governance.governor();
    }

    /** How far the governor has scaled batches down (smaller-batches); sync's push batches read it too. */
    public BatchScale batchScale() {
        return batchScale;
    }

    /** HTTP connections against budget.connections. */
    public Connections connections() {
        return connections;
    }

    /** The push to and pull from the upstream hub, or offline mode. */
    public Upstream upstream() {
        return upstream;
    }

    /** Hub mode: pushes received and changes published; null otherwise. */
    public Hub hub() {
        return hub;
    }

    public Metrics metrics() {
        return metrics;
    }

    /** What the native codec libraries did at startup. */
    public NativeCodecs.Status natives() {
        return natives;
    }

    /** Bytes of the state file now (mapped whole; counted against memory and disk); it grows in steps. */
    public long stateFileBytes() {
        return stateStore.fileBytes();
    }

    /** Replaces the governor's probe of {@code dimension} (null: the measured one again). For tests. */
    void overrideUsage(Dimension dimension, Probe usage) {
        governance.overrideUsage(dimension, usage);
    }

    public boolean ready() {
        return ready;
    }

    void markReady() {
        ready = true;
    }

    @Override
    public void close() {
        ready = false;
        closeOpened(null);
    }

    /** Closes what was opened, most recent first, each even if another fails; rethrows the first failure. */
    private void closeOpened(Throwable cause) {
        RuntimeException first = null;
        while (!opened.isEmpty()) {
            try {
                opened.pop().close();
            } catch (Exception e) {
                if (cause != null) {
                    cause.addSuppressed(e);
                } else if (first == null) {
                    first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}

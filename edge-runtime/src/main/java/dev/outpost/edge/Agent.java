package dev.outpost.edge;

import dev.outpost.compress.NativeCodecs;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.edge.ingest.Ingestor;
import dev.outpost.edge.metrics.Histogram;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.edge.state.StateService;
import dev.outpost.edge.streams.StreamRegistry;
import dev.outpost.store.Catalog;
import dev.outpost.store.ChronicleEventLog;
import dev.outpost.store.ChronicleStateStore;
import dev.outpost.store.EventLog;
import dev.outpost.store.HybridClock;
import dev.outpost.store.LogCounters;
import dev.outpost.store.LogOptions;
import java.util.concurrent.atomic.LongAdder;

/**
 * The agent's engine parts, wired once at startup and handed to the HTTP layer as one singleton.
 * Only this class (and {@link Main}) know how modules fit together.
 */
public final class Agent implements AutoCloseable {
    private final OutpostConfig config;
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
    private final long startedAtMillis = System.currentTimeMillis();
    private volatile boolean ready;

    /** Open HTTP connections (the governor's connections dimension). */
    public final java.util.concurrent.atomic.AtomicInteger openConnections =
            new java.util.concurrent.atomic.AtomicInteger();
    /** Connections refused beyond budget.connections. */
    public final LongAdder connectionsRefused = new LongAdder();

    /** Ingest requests that stored or replayed events. */
    public final LongAdder ingestRequests;
    /** Ingest requests rejected with a 4xx or 5xx. */
    public final LongAdder ingestRejected;
    /** Events stored. */
    public final LongAdder ingestEvents;
    /** Events that were duplicates of earlier ones (event id or Idempotency-Key). */
    public final LongAdder ingestDuplicates;
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
        ChronicleEventLog chronicleLog = ChronicleEventLog.open(lo, HybridClock.system());
        this.log = chronicleLog;
        // sqlite-jdbc unpacks its native library like the codecs do: into the same directory.
        // If that directory is unusable (the fallback case), sqlite-jdbc keeps its default (java.io.tmpdir).
        if (java.nio.file.Files.isDirectory(config.compressNativeDir())) {
            System.setProperty("org.sqlite.tmpdir", config.compressNativeDir().toString());
        }
        this.catalog = Catalog.open(config.dataDir().resolve("catalog.db"));
        this.stateStore = ChronicleStateStore.open(
                config.dataDir().resolve("state").resolve("state.cm3"), config.stateDocumentsMax(), (int)
                        config.stateDocBytesAvg());
        this.state =
                new StateService(stateStore, log, config.nodeId(), config.stateDocBytesMax(), config.stateHistoryMax());
        scheduleTombstoneCompaction(config.stateTombstoneTtlSeconds());
        state.recover();
        this.streams = new StreamRegistry(catalog, config.streams());
        for (long index : chronicleLog.quarantinedGroups()) {
            java.nio.file.Path f = chronicleLog.quarantineFile(index);
            catalog.recordQuarantine(
                    "log-group", Long.toString(index), f.toString(), f.toFile().length());
        }
        this.parser = new EventParser(config.ingestBatchEventsMax(), config.ingestEventBytesMax());
        this.ingestor = new Ingestor(log, config.ingestDedupWindowEvents(), config.ingestDedupWindowRequests());
        ingestRequests = metrics.counter("outpost_ingest_requests_total", "Ingest requests acknowledged.");
        ingestRejected = metrics.counter(
                "outpost_ingest_rejected_total", "Ingest requests rejected (4xx/5xx); nothing of them stored.");
        ingestEvents = metrics.counter("outpost_ingest_events_total", "Events stored.");
        ingestDuplicates = metrics.counter(
                "outpost_ingest_duplicates_total", "Events not stored again: retries within the dedup window.");
        queryRequests = metrics.counter("outpost_query_requests_total", "GET /v1/events requests served.");
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

    public OutpostConfig config() {
        return config;
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

    @Override
    public void close() {
        ready = false;
        housekeeping.shutdownNow();
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

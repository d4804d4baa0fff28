package dev.outpost.edge.governance;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.ingest.Ingestor;
import dev.outpost.edge.live.LiveFeed;
import dev.outpost.edge.metrics.Histogram;
import dev.outpost.edge.metrics.Metrics;
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
import dev.outpost.store.Catalog;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.Retention;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The agent's resource governance: one {@link Governor} over one budget, its probes, and its actions in BRIEF §6's
 * order, each a named class of this package; its metrics.
 *
 * <p>Design note. Invariants:
 *
 * <ul>
 *   <li><b>One pressure.</b> Everything that reacts to pressure reads the governor: the actions get its samples,
 *       and {@link Shedding} (the ingest pipeline's admission) its level over the shedding dimensions. Nothing
 *       computes pressure on its own.
 *   <li><b>Probes.</b> Memory is the process RSS (a cgroup may hold other processes too: its usage is reported in GET
 *       /v1/governor, not budgeted); CPU the process's; disk the usage tracked on every write and reconciled with
 *       the filesystem every minute; connections the gate's count; ingest rate, when budgeted, stored events per
 *       second. Tests may replace any probe ({@link #overrideUsage}).
 *   <li><b>Disk is watched on every write</b> ({@link #diskWritten}): crossing into another level band samples at
 *       once instead of waiting up to a minute for the next tick.
 *   <li><b>Actions</b> (in order): shrink-caches (memory), lower-concurrency (CPU), smaller-batches (ingest latency),
 *       codec-follows-pressure (CPU, disk), shed-low-priority-writes, retire-synced-data and
 *       drop-unsynced-bulk-then-normal (disk). They run on the governor's thread only.
 * </ul>
 */
public final class Governance implements AutoCloseable {
    private final Governor governor;
    private final DiskUsage disk;
    private final long diskBudgetBytes;
    /** The disk level of the latest sample {@link #diskWritten} saw; any thread may replace it. */
    private volatile DiskBand diskBand;

    private final Shedding shedding;
    private final Map<Dimension, Probe> overrides = new ConcurrentHashMap<>();

    /**
     * @param config the configuration at start (budget and dedup windows)
     * @param live the configuration in force (a hub may change the latency target while the agent runs)
     * @param ingestEvents events stored so far (the ingest-rate probe)
     * @param ingestLatency POST /v1/events latency (smaller-batches)
     * @param priorityOf a stream's priority class (shedding)
     * @param batchSizes describes the batch sizes now, for smaller-batches' reports
     * @param subscribers the live subscriptions, whose buffers shrink-caches halves
     */
    public Governance(
            OutpostConfig config,
            Supplier<OutpostConfig> live,
            DiskUsage disk,
            LanedEventLog log,
            Catalog catalog,
            Ingestor ingestor,
            Connections connections,
            BatchScale batchScale,
            LongSupplier ingestEvents,
            Histogram ingestLatency,
            Function<String, String> priorityOf,
            Supplier<String> batchSizes,
            Retention.Summaries summaries,
            LiveFeed subscribers,
            Metrics metrics) {
        this.disk = disk;
        this.diskBudgetBytes = config.budget().diskBytes();
        Map<Dimension, Probe> probes = new EnumMap<>(Dimension.class);
        probes.put(Dimension.MEMORY, ProcessProbes.rssBytes());
        probes.put(Dimension.CPU, ProcessProbes.processCpuMilliCores());
        probes.put(Dimension.DISK, disk::bytes);
        probes.put(Dimension.CONNECTIONS, connections::open);
        if (config.budget().ingestEventsPerSecond() > 0) {
            probes.put(Dimension.INGEST_RATE, new RateProbe(ingestEvents, System::nanoTime));
        }
        probes.replaceAll(
                (d, measured) -> () -> overrides.getOrDefault(d, measured).usage());
        this.governor = new Governor(
                new Budget(
                        config.budget().memoryBytes(),
                        config.budget().cpuCores(),
                        config.budget().diskBytes(),
                        config.budget().connections(),
                        config.budget().ingestEventsPerSecond()),
                probes);
        governor.register(new ShrinkCaches(
                ingestor,
                catalog,
                config.ingest().dedupWindowEvents(),
                config.ingest().dedupWindowRequests(),
                subscribers));
        governor.register(
                new LowerConcurrency(connections.limitCell(), config.budget().connections()));
        governor.register(new SmallerBatches(
                ingestLatency, batchScale, () -> live.get().budget().latencyP95Millis(), batchSizes));
        governor.register(new CodecFollowsPressure(log));
        this.shedding = new Shedding(governor, priorityOf, metrics);
        governor.register(shedding);
        DiskRetention retention = new DiskRetention(
                log, catalog, disk, () -> live.get().sync().upstream(), summaries, System::currentTimeMillis, metrics);
        LongSupplier diskBudget = () -> live.get().budget().diskBytes();
        governor.register(new RetireSyncedData(diskBudget, retention));
        governor.register(new DropUnsyncedData(diskBudget, retention));
        registerMetrics(metrics);
    }

    private void registerMetrics(Metrics metrics) {
        metrics.gauge(
                "outpost_governor_level",
                "Governor level: 0 low, 1 medium, 2 elevated, 3 high, 4 critical.",
                () -> governor.level().ordinal());
        metrics.gauge(
                "outpost_governor_interval_millis",
                "Current sampling interval.",
                () -> governor.level().sampleIntervalMillis());
        for (Dimension d : Dimension.values()) {
            String n = d.name().toLowerCase(Locale.ROOT);
            metrics.gauge(
                    "outpost_governor_" + n + "_usage",
                    "Governor usage of " + n + " (bytes, milli-cores, count or events/s).",
                    () -> reading(d, true));
            metrics.gauge(
                    "outpost_governor_" + n + "_limit", "Governor budget for " + n + ".", () -> reading(d, false));
        }
        for (Level l : Level.values()) {
            metrics.counterFn(
                    "outpost_governor_transitions_to_" + l.name().toLowerCase(Locale.ROOT) + "_total",
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
    }

    private long reading(Dimension d, boolean usage) {
        Snapshot s = governor.snapshot();
        Reading r = s == null ? null : s.readings().get(d);
        return r == null ? -1 : usage ? r.usage() : r.limit();
    }

    /** Starts sampling (the first sample at once). */
    public void start() {
        governor.start();
    }

    /**
     * The log wrote (disk usage is already tracked): if that moved disk pressure into another level band, the
     * governor samples now rather than at its next tick.
     */
    public void diskWritten() {
        Snapshot latest = governor.snapshot();
        DiskBand seen = diskBand;
        if (seen == null || seen.sample() != latest) {
            // A new sample: derive its disk level once, not on every write. Racing writers may both derive it.
            Reading last = latest.readings().get(Dimension.DISK);
            seen = new DiskBand(latest, last == null ? Level.LOW : Level.of(last.pressure()));
            diskBand = seen;
        }
        if (Level.of((double) disk.bytes() / diskBudgetBytes) != seen.level()) {
            governor.sampleNow();
        }
    }

    /** The disk level of one governor sample. */
    private record DiskBand(Snapshot sample, Level level) {}

    public Governor governor() {
        return governor;
    }

    /** The ingest pipeline's admission stage. */
    public Shedding shedding() {
        return shedding;
    }

    /** Replaces the probe of {@code dimension} (null: the measured one again). For tests, which drive pressure. */
    public void overrideUsage(Dimension dimension, Probe usage) {
        if (usage == null) {
            overrides.remove(dimension);
        } else {
            overrides.put(dimension, usage);
        }
    }

    @Override
    public void close() {
        governor.close();
    }
}

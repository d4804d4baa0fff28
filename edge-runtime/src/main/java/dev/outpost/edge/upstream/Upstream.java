package dev.outpost.edge.upstream;

import dev.outpost.compress.NativeCodecs;
import dev.outpost.compress.Purpose;
import dev.outpost.edge.config.LiveConfig;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.config.Tls;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.governor.BatchScale;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Catalog;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogFields;
import dev.outpost.sync.BacklogTally;
import dev.outpost.sync.Puller;
import dev.outpost.sync.PushCounters;
import dev.outpost.sync.Pusher;
import java.net.URI;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's link to its upstream hub (sync.upstream): the push of its log and the pull of the hub's changes, or,
 * with no upstream configured, offline mode; and what is at risk either way (data not yet acknowledged upstream).
 *
 * <p>Design note. Invariants: offline, nothing is ever acknowledged, so everything stored is at risk and counted as
 * such per lane (bounded scans, kept up to date incrementally); online, the pusher's cursors say what is acknowledged.
 * The pusher is woken on every write; the push and pull threads start only with {@link #start()}, after the rest of
 * the agent is wired, and stop at {@link #close()}.
 */
public final class Upstream implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Upstream.class);

    /** Most records a metrics scrape reads per lane to bring the data-at-risk count up to date. */
    static final int AT_RISK_SCAN_RECORDS_MAX = 200_000;

    /**
     * What no upstream has acknowledged yet, over all lanes.
     *
     * @param events how many events
     * @param bytes how many bytes they take in the log
     * @param exact false if a bounded scan stopped short (the counts are then lower bounds)
     * @param oldestAgeSeconds the age of the oldest of them (0 if none)
     * @param reason why they are at risk
     */
    public record AtRisk(long events, long bytes, boolean exact, long oldestAgeSeconds, String reason) {}

    private final Pusher pusher;
    private final Puller puller;
    private final Map<Lane, BacklogTally> offline = new EnumMap<>(Lane.class);
    private final LongSupplier clockMillis = System::currentTimeMillis;

    /**
     * @param config the configuration at start
     * @param liveConfig the configuration in force (a hub may change the bandwidth cap)
     * @param changes applies what is pulled
     */
    public Upstream(
            OutpostConfig config,
            LiveConfig liveConfig,
            LanedEventLog log,
            Catalog catalog,
            NativeCodecs.Status natives,
            BatchScale batchScale,
            Puller.Applier changes,
            Metrics metrics) {
        for (Lane lane : Lane.values()) {
            offline.put(lane, new BacklogTally(log.lane(lane), new AckedRanges()));
        }
        OutpostConfig.Sync sync = config.sync();
        if (sync.upstream() == null) {
            this.pusher = null;
            this.puller = null;
        } else {
            SSLContext hubTls = sync.tlsTrustFile() == null ? null : Tls.trustContext(sync.tlsTrustFile());
            warnIfPlain(sync.upstream());
            this.pusher = new Pusher(
                    new Pusher.Options(
                            sync.upstream(),
                            config.node().id(),
                            sync.token(),
                            sync.batchRecordsMax(),
                            (int) sync.batchBytesMax(),
                            sync.backoffBaseMillis(),
                            sync.backoffCapMillis(),
                            sync.breakerFailures(),
                            sync.breakerWindowMillis(),
                            sync.breakerOpenMillis(),
                            liveConfig.current().sync().bandwidthBytesPerSecond(), // a hub may have set it
                            sync.requestTimeoutMillis(),
                            sync.idlePollMillis(),
                            hubTls),
                    log,
                    catalog,
                    stream -> catalog.latestDictionary(stream, Purpose.WIRE),
                    natives.zstd(),
                    batchScale::apply); // the governor's scale, as sync's BatchScaling
            liveConfig.onChange(c -> pusher.bandwidthBytesPerSecond(c.sync().bandwidthBytesPerSecond()));
            this.puller = new Puller(
                    sync.upstream(),
                    config.node().id(),
                    sync.token(),
                    catalog,
                    sync.backoffBaseMillis(),
                    sync.backoffCapMillis(),
                    hubTls,
                    changes);
            registerSyncMetrics(metrics);
        }
        metrics.gauge(
                "outpost_data_at_risk_events",
                "Events not yet acknowledged upstream (all of them while offline); kept up to date, so a"
                        + " scrape reads only what arrived since the last one (at most "
                        + AT_RISK_SCAN_RECORDS_MAX + " records per lane).",
                () -> atRisk(AT_RISK_SCAN_RECORDS_MAX).events());
    }

    private static void warnIfPlain(URI upstream) {
        if ("http".equals(upstream.getScheme()) && !Tls.isLoopback(upstream)) {
            LOG.atWarn()
                    .addKeyValue(LogFields.HUB, upstream)
                    .addKeyValue(
                            LogFields.ADVICE,
                            "serve the hub over HTTPS (http.tls_key_store) and use an https://" + " sync.upstream")
                    .log(
                            "sync: sync.upstream {} is plain http:// to another host: this node's token (sync.token)"
                                    + " and its data travel unencrypted; serve the hub over HTTPS"
                                    + " (http.tls_key_store) and use an https:// upstream",
                            upstream);
        }
    }

    private void registerSyncMetrics(Metrics metrics) {
        PushCounters pushed = pusher.counters();
        metrics.counterFn("outpost_sync_batches_total", "Push batches the hub acknowledged.", pushed::batches);
        metrics.counterFn("outpost_sync_records_total", "Records the hub acknowledged.", pushed::records);
        metrics.counterFn("outpost_sync_wire_bytes_total", "Bytes of push bodies sent.", pushed::wireBytes);
        metrics.counterFn(
                "outpost_sync_payload_bytes_total",
                "Event JSON bytes of acknowledged pushes (wire / payload = compression).",
                pushed::payloadBytes);
        metrics.counterFn("outpost_sync_failures_total", "Failed pushes.", pushed::failures);
        metrics.counterFn("outpost_sync_throttled_total", "429/503 answers obeyed.", pushed::throttled);
        metrics.gauge(
                "outpost_sync_link_connected",
                "1 if the last push succeeded.",
                () -> pusher.link() == Pusher.Link.CONNECTED ? 1 : 0);
        metrics.counterFn(
                "outpost_sync_pulled_changes_total",
                "Changes pulled from the hub and applied.",
                puller::appliedChanges);
        metrics.counterFn(
                "outpost_sync_pulled_changes_failed_total",
                "Changes pulled from the hub that could not be applied (skipped; see the log).",
                puller::failedChanges);
    }

    /** Starts pushing and pulling (nothing offline). */
    public void start() {
        if (pusher != null) {
            pusher.start();
            puller.start();
        }
    }

    /** The log wrote: the pusher has something to send. */
    public void written() {
        if (pusher != null) {
            pusher.wake();
        }
    }

    /** The push to the upstream hub, or null offline. */
    public Pusher pusher() {
        return pusher;
    }

    /** The pull from the upstream hub, or null offline. */
    public Puller puller() {
        return puller;
    }

    /** What a lane holds that upstream has not acknowledged, counting at most {@code scanMax} records. */
    public Pusher.Backlog backlog(Lane lane, int scanMax) {
        return pusher == null ? offline.get(lane).read(scanMax) : pusher.backlog(lane, scanMax);
    }

    /** What no upstream has acknowledged, over all lanes, counting at most {@code scanMax} records per lane. */
    public AtRisk atRisk(int scanMax) {
        long events = 0;
        long bytes = 0;
        long oldestHlc = 0;
        boolean exact = true;
        for (Lane lane : Lane.values()) {
            Pusher.Backlog b = backlog(lane, scanMax);
            events += b.records();
            bytes += b.bytes();
            exact &= b.exact();
            if (b.oldestHlc() != 0 && (oldestHlc == 0 || b.oldestHlc() < oldestHlc)) {
                oldestHlc = b.oldestHlc();
            }
        }
        long oldestAgeMillis =
                oldestHlc == 0 ? 0 : Math.max(0, clockMillis.getAsLong() - HybridClock.millis(oldestHlc));
        String reason = pusher == null
                ? "offline: no upstream is configured, so nothing is acknowledged upstream"
                : "not yet acknowledged by " + pusher.hub();
        return new AtRisk(events, bytes, exact, oldestAgeMillis / 1000, reason);
    }

    @Override
    public void close() {
        if (pusher != null) {
            pusher.close();
            puller.close();
        }
    }
}

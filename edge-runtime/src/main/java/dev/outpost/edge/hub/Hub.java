package dev.outpost.edge.hub;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.store.Catalog;
import dev.outpost.store.EventLog;
import dev.outpost.store.LogOptions;
import dev.outpost.sync.HubReceiver;
import dev.outpost.sync.wire.PushBatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;

/**
 * Hub mode ({@code outpost hub}): what the agent holds to receive its nodes' pushes and to publish changes for them
 * to pull. Exists only in hub mode.
 *
 * <p>Design note. Invariants: at most hub.push_concurrency_max pushes are handled at once ({@link #admit()}; the rest
 * are refused and counted, never queued); a push body is bounded ({@link #limits()}); the node logs are opened
 * lazily, at most hub.node_logs_open_max at once ({@link FleetLogs}).
 */
public final class Hub implements AutoCloseable {
    /** Most records a hub accepts in one push (a larger one is refused and the edge halves its batches). */
    public static final int BATCH_RECORDS_MAX = 20_000;

    private final FleetLogs fleetLogs;
    private final HubReceiver receiver;
    private final FleetChanges changes;
    private final Semaphore admission;
    private final PushBatch.Limits limits;
    private final LongAdder pushes;
    private final LongAdder throttled;
    private final LongAdder stored;
    private final LongAdder duplicates;

    /**
     * @param nodeLogs the options of the agent's own log, which the node logs copy
     * @param ownLog the hub's own log, where fleet changes are published
     */
    public Hub(OutpostConfig config, LogOptions nodeLogs, Catalog catalog, EventLog ownLog, Metrics metrics) {
        OutpostConfig.Hub hub = config.hub();
        this.admission = new Semaphore(hub.pushConcurrencyMax());
        this.limits = new PushBatch.Limits(
                (int) Math.min(Integer.MAX_VALUE, hub.bodyBytesMax()),
                (int) Math.min(Integer.MAX_VALUE - 64, hub.bodyBytesMax() * 64),
                BATCH_RECORDS_MAX);
        this.fleetLogs = new FleetLogs(config.data().dir().resolve("hub"), nodeLogs, hub.nodeLogsOpenMax());
        this.receiver = new HubReceiver(
                fleetLogs,
                catalog,
                (hub.pushConcurrencyMax() + 1) * BATCH_RECORDS_MAX,
                config.log().blockBytes() / 8);
        this.changes = new FleetChanges(ownLog);
        this.pushes = metrics.counter("outpost_hub_pushes_total", "Pushes this hub acknowledged.");
        this.throttled = metrics.counter(
                "outpost_hub_pushes_throttled_total", "Pushes refused with 429 beyond hub.push_concurrency_max.");
        this.stored = metrics.counter("outpost_hub_records_stored_total", "Pushed records this hub stored.");
        this.duplicates = metrics.counter(
                "outpost_hub_records_duplicate_total", "Pushed records this hub already had (resends, not stored).");
    }

    /** Takes one of the hub.push_concurrency_max push slots; false (counted) if none is free. */
    public boolean admit() {
        if (admission.tryAcquire()) {
            return true;
        }
        throttled.increment();
        return false;
    }

    /** Gives back a slot {@link #admit()} took. */
    public void release() {
        admission.release();
    }

    /** Counts a push this hub acknowledged. */
    public void acknowledged(dev.outpost.sync.wire.PushAck ack) {
        pushes.increment();
        stored.add(ack.stored());
        duplicates.add(ack.duplicates());
    }

    /** The bounds of a push body. */
    public PushBatch.Limits limits() {
        return limits;
    }

    /** Stores pushes in the nodes' logs. */
    public HubReceiver receiver() {
        return receiver;
    }

    /** The nodes' logs. */
    public FleetLogs fleetLogs() {
        return fleetLogs;
    }

    /** Changes published for the nodes to pull. */
    public FleetChanges changes() {
        return changes;
    }

    @Override
    public void close() {
        fleetLogs.close();
    }
}

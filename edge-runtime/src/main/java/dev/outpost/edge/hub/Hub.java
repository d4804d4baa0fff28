package dev.outpost.edge.hub;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.engine.rollup.FinalWindow;
import dev.outpost.edge.engine.rollup.FleetRollups;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.store.Catalog;
import dev.outpost.store.EventLog;
import dev.outpost.store.LogFields;
import dev.outpost.store.LogOptions;
import dev.outpost.sync.HubReceiver;
import dev.outpost.sync.PushStore;
import dev.outpost.sync.wire.PushAck;
import dev.outpost.sync.wire.PushBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hub mode ({@code outpost hub}): what the agent holds to receive its nodes' pushes and to publish changes for them
 * to pull (in its own log, or with hub.backend: kafka in the fleet topic every hub follows: {@link FleetChanges}).
 * Exists only in hub mode.
 *
 * <p>Design note. Invariants: at most hub.push_concurrency_max pushes are handled at once, holding together at most
 * budget.memory / {@value #PUSH_MEMORY_SHARE} by their bodies' and declared record sections' size ({@link #admit}; the
 * rest are refused and counted, never queued); a push body and the record section it declares are bounded ({@link
 * #decoder()}); the node logs are opened
 * lazily, at most hub.node_logs_open_max at once ({@link FleetLogs}). The final rollup windows a push carries
 * (stream {@value FinalWindow#STREAM}) are upserted into {@value #ROLLUPS_FILE} after the push is stored and before it
 * is acknowledged, every one of the batch, new or resent, so a crash between storing and upserting is repaired by the
 * node's resend; one that does not parse is counted and skipped (it stays in the node's log), never a reason to
 * refuse the push.
 */
public final class Hub implements AutoCloseable {
    /** Most records a hub accepts in one push (a larger one is refused and the edge halves its batches). */
    public static final int BATCH_RECORDS_MAX = 20_000;

    /**
     * The Kafka backend's producers buffer at most budget.memory / this, together (each shard's producer its share;
     * at least {@link KafkaShard#BUFFER_BYTES_MIN} each).
     */
    static final int KAFKA_BUFFER_SHARE = 16;

    /** The pushes in hand hold at most budget.memory / this, together. */
    static final int PUSH_MEMORY_SHARE = 8;

    /**
     * What a push in hand is taken to hold, besides its body, per byte of the record section its frame declares: the
     * section decoded, the records read from it, the store's copy (a raw push: four times its body, as before).
     */
    static final int PUSH_MEMORY_PER_DECODED_BYTE = 3;

    /** The nodes' final rollup windows, in the data directory. */
    public static final String ROLLUPS_FILE = "hub-rollups.db";

    private static final Logger LOG = LoggerFactory.getLogger(Hub.class);

    private final FleetLogs fleetLogs;
    private final FleetRollups rollups;
    private final LongAdder windows;
    private final LongAdder windowsInvalid;
    private final LongAdder windowsStale;
    private final PushStore receiver;
    private final FleetChanges changes;
    private final boolean kafka;
    private final String kafkaTopicPrefix;
    private final FleetTail tail;
    private final Semaphore admission;
    /** KiB of budget.memory the pushes in hand may hold together ({@link #admit}). */
    private final Semaphore pushMemoryKib;

    private final int pushMemoryKibMax;
    /**
     * KiB of budget.memory the bodies of vouched pushes may hold while they are still being received, before
     * {@link #admit} sees them ({@link #holdBody}); the same share as the pushes in hand.
     */
    private final Semaphore receivingKib;
    /** Decodes every push: one, so its native codec contexts are reused from push to push. */
    private final PushBatch.Decoder decoder;

    private final LongAdder pushes;
    private final LongAdder throttled;
    private final LongAdder stored;
    private final LongAdder duplicates;
    private final LongAdder forwarded;
    private final NodeActivity activity = new NodeActivity();

    /**
     * @param nodeLogs the options of the agent's own log, which the node logs copy
     * @param ownLog the hub's own log, where fleet changes are published
     */
    public Hub(OutpostConfig config, LogOptions nodeLogs, Catalog catalog, EventLog ownLog, Metrics metrics) {
        OutpostConfig.Hub hub = config.hub();
        this.admission = new Semaphore(hub.pushConcurrencyMax());
        this.pushMemoryKibMax = (int) Math.max(1, config.budget().memoryBytes() / PUSH_MEMORY_SHARE / 1024);
        this.pushMemoryKib = new Semaphore(pushMemoryKibMax);
        this.receivingKib = new Semaphore(pushMemoryKibMax);
        metrics.gauge(
                "outpost_hub_push_bodies_receiving_bytes",
                "Bytes of budget.memory held for vouched push bodies still being received (at most budget.memory / "
                        + PUSH_MEMORY_SHARE + "; a push with no room is answered 429 from its head)",
                () -> (long) (pushMemoryKibMax - receivingKib.availablePermits()) * 1024);
        // A push declaring more than fits the share of pushes in hand is refused before anything is allocated.
        long decodedMax = Math.min(
                hub.bodyBytesMax() * 64,
                config.budget().memoryBytes() / PUSH_MEMORY_SHARE / PUSH_MEMORY_PER_DECODED_BYTE);
        this.decoder = new PushBatch.Decoder(new PushBatch.Limits(
                (int) Math.min(Integer.MAX_VALUE, hub.bodyBytesMax()),
                (int) Math.min(Integer.MAX_VALUE - 64, decodedMax),
                BATCH_RECORDS_MAX));
        this.fleetLogs = new FleetLogs(
                config.data().dir().resolve("hub"),
                nodeLogs,
                hub.nodeLogsOpenMax(),
                metrics.counter(
                        "outpost_hub_node_logs_opened_total",
                        "Node logs this hub opened (reopenings after hub.node_logs_open_max closed one included):"
                                + " churn; 0 with hub.backend: kafka."));
        this.forwarded = metrics.counter(
                "outpost_hub_forwarded_total",
                "Node requests this hub forwarded to the hub that owns the node's shard (hub.backend: kafka).");
        this.receiver = hub.kafkaBackend()
                ? kafkaStore(
                        hub.kafka(),
                        config.budget().memoryBytes()
                                / KAFKA_BUFFER_SHARE
                                / hub.kafka().shards(),
                        metrics.counter(
                                "outpost_hub_kafka_transactions_total",
                                "Kafka transactions this hub committed for pushes (several pushes share one)."))
                : new HubReceiver(
                        fleetLogs,
                        catalog,
                        (hub.pushConcurrencyMax() + 1) * BATCH_RECORDS_MAX,
                        config.log().blockBytes() / 8);
        this.kafka = hub.kafkaBackend();
        this.kafkaTopicPrefix = hub.kafka().topicPrefix();
        this.changes = kafka ? kafkaChanges(hub, receiver, metrics) : new LocalFleetChanges(ownLog);
        this.tail = new FleetTail(fleetLogs, config, metrics);
        this.rollups = FleetRollups.open(
                config.data().dir().resolve(ROLLUPS_FILE),
                TimeUnit.HOURS.toMillis(hub.rollupRetentionHours()),
                System::currentTimeMillis);
        this.windows = metrics.counter(
                "outpost_hub_rollup_windows_total", "Final rollup windows upserted (resends included).");
        this.windowsInvalid = metrics.counter(
                "outpost_hub_rollup_windows_invalid_total",
                "Events of " + FinalWindow.STREAM + " that were not a final window this hub can store (skipped).");
        this.windowsStale = metrics.counter(
                "outpost_hub_rollup_windows_stale_total",
                "Final rollup windows of a declaration the node had replaced by the time they arrived (skipped).");
        this.pushes = metrics.counter("outpost_hub_pushes_total", "Pushes this hub acknowledged.");
        this.throttled = metrics.counter(
                "outpost_hub_pushes_throttled_total",
                "Pushes refused with 429 beyond hub.push_concurrency_max or the memory share of pushes in hand.");
        this.stored = metrics.counter("outpost_hub_records_stored_total", "Pushed records this hub stored.");
        this.duplicates = metrics.counter(
                "outpost_hub_records_duplicate_total", "Pushed records this hub already had (resends, not stored).");
    }

    /**
     * The Kafka backend; the client library is left out of the device distribution, which is said plainly rather than
     * failing on a missing class (KafkaPushStore is only loaded once the library is known to be there).
     */
    private static PushStore kafkaStore(OutpostConfig.Kafka kafka, long bufferBytes, LongAdder transactions) {
        try {
            Class.forName("org.apache.kafka.clients.producer.KafkaProducer", false, Hub.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("hub.backend: kafka needs the Kafka client library, which the device"
                    + " distribution leaves out; run this hub from a checkout (./outpost hub)");
        }
        return KafkaPushStore.open(kafka, transactions, bufferBytes);
    }

    /** The fleet topic (the push store checked that the client library is there); the store is closed if it fails. */
    private static FleetChanges kafkaChanges(OutpostConfig.Hub hub, PushStore receiver, Metrics metrics) {
        try {
            KafkaFleetChanges k = KafkaFleetChanges.open(hub.kafka(), hub.fleetChangesBytesMax());
            metrics.gauge(
                    "outpost_hub_fleet_changes_bytes",
                    "Bytes of fleet changes held to serve pulls (hub.backend: kafka; at most"
                            + " hub.fleet_changes_bytes_max).",
                    k::bytes);
            return k;
        } catch (RuntimeException e) {
            if (receiver instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * True with hub.backend: kafka: pushed records are in the cluster's topics, not in node logs here, so what reads
     * node logs (fleet queries, the fleet tail, fleet rollups) is not served by this hub (docs/FLEET-KAFKA.md).
     */
    public boolean kafkaBackend() {
        return kafka;
    }

    /** hub.kafka_topic_prefix (the topics HQ reads with hub.backend: kafka). */
    public String kafkaTopicPrefix() {
        return kafkaTopicPrefix;
    }

    /**
     * Takes one of the hub.push_concurrency_max push slots and the memory a push may hold: its body plus {@value
     * #PUSH_MEMORY_PER_DECODED_BYTE} times the record section its frame declares ({@code decodedBytes}, read from the
     * headers before decoding: the section, the records, the store's copy), out of budget.memory / {@value
     * #PUSH_MEMORY_SHARE} for all pushes in hand; returns what to give back to {@link #release}, or -1 (counted) if
     * either is not free. The decoder refuses (413) a declared section larger than the share divided by {@value
     * #PUSH_MEMORY_PER_DECODED_BYTE}; a push larger than the whole share (by its body) takes all of it, so one push always gets through
     * an idle hub.
     */
    public int admit(long bodyBytes, long decodedBytes) {
        if (!admission.tryAcquire()) {
            throttled.increment();
            return -1;
        }
        long bytes = bodyBytes + decodedBytes * PUSH_MEMORY_PER_DECODED_BYTE;
        int kib = (int) Math.min(pushMemoryKibMax, Math.max(1, bytes / 1024));
        if (!pushMemoryKib.tryAcquire(kib)) {
            admission.release();
            throttled.increment();
            return -1;
        }
        return kib;
    }

    /**
     * Takes the memory a vouched request's body will hold while it is received ({@code bodyBytes}: its declared
     * length), out of budget.memory / {@value #PUSH_MEMORY_SHARE} for all such bodies; returns what to give back to
     * {@link #releaseBody} once the request is answered, or -1 (counted as a throttled push) if it is not free. Asked
     * from the request's head, so a hub refuses (429) before reading a body it has no room for: without it, every
     * node's connection could make the hub hold a whole hub.body_bytes_max body before {@link #admit} refused it. A
     * body larger than the whole share takes all of it, so one always gets through an idle hub.
     */
    public int holdBody(long bodyBytes) {
        int kib = (int) Math.min(pushMemoryKibMax, Math.max(1, (bodyBytes + 1023) / 1024));
        if (!receivingKib.tryAcquire(kib)) {
            throttled.increment();
            return -1;
        }
        return kib;
    }

    /** Gives back what {@link #holdBody} took. */
    public void releaseBody(int held) {
        receivingKib.release(held);
    }

    /** Gives back what {@link #admit} took. */
    public void release(int held) {
        pushMemoryKib.release(held);
        admission.release();
    }

    /**
     * Stores a push in its node's log, then upserts the final rollup windows it carries; returns the acknowledgement
     * to send once both are done.
     */
    public PushAck receive(PushBatch b) {
        PushAck ack = receiver.receive(b);
        if (fleetOfHubs()) {
            return ack; // the windows are records of the events topic; GET /v1/fleet/rollups is a local-backend feature
        }
        tail.received(b.node());
        List<FleetRollups.Received> found = new ArrayList<>();
        for (PushBatch.Record r : b.records()) {
            if (FinalWindow.STREAM.equals(r.stream())) {
                try {
                    found.add(
                            new FleetRollups.Received(r.seq(), FinalWindow.parse(r.payload(), 0, r.payload().length)));
                } catch (IllegalArgumentException e) {
                    windowsInvalid.increment();
                    LOG.atWarn()
                            .addKeyValue(LogFields.NODE, b.node())
                            .addKeyValue(
                                    LogFields.ADVICE,
                                    "run the same version on the hub as on the node; the node's"
                                            + " raw events are kept, only this window is missing from GET /v1/fleet/rollups")
                            .log(
                                    "node {} seq {}: not a final rollup window ({}); skipped",
                                    b.node(),
                                    r.seq(),
                                    e.getMessage());
                }
            }
        }
        int stale = rollups.upsert(b.node(), found);
        windows.add(found.size() - stale);
        windowsStale.add(stale);
        return ack;
    }

    /** The nodes' final rollup windows. */
    public FleetRollups rollups() {
        return rollups;
    }

    /** Counts a push this hub acknowledged. */
    public void acknowledged(PushAck ack) {
        pushes.increment();
        stored.add(ack.stored());
        duplicates.add(ack.duplicates());
    }

    /** What this hub saw of each node's pushes (the fleet table). */
    public NodeActivity activity() {
        return activity;
    }

    /** Decodes push bodies within their bounds (the same decoder for every push). */
    public PushBatch.Decoder decoder() {
        return decoder;
    }

    /**
     * Whether this hub has received anything from {@code node} that it can tell of: its node log exists, or (Kafka)
     * this hub owns the node's shard and it holds ranges of some lane.
     */
    public boolean seen(String node) {
        if (fleetLogs.exists(node)) {
            return true;
        }
        if (!(receiver instanceof KafkaPushStore) || !receiver.answersFor(node)) {
            return false;
        }
        for (dev.outpost.store.Lane l : dev.outpost.store.Lane.values()) {
            if (!receiver.received(node, l).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The URL of the fleet's hub that owns {@code node} (hub.backend: kafka), to forward its sync requests to; null
     * when this hub answers for it itself or nobody can (the local backend always answers itself).
     */
    public String ownerUrl(String node) {
        return receiver instanceof KafkaPushStore k ? k.ownerUrl(node) : null;
    }

    /** Node requests forwarded so far. */
    long forwardedCount() {
        return forwarded.sum();
    }

    /** Counts a node request forwarded to the owner of its shard. */
    public void forwardedRequest() {
        forwarded.increment();
    }

    /** Whether requests may have to be forwarded to other hubs of the fleet (hub.backend: kafka). */
    public boolean fleetOfHubs() {
        return receiver instanceof KafkaPushStore;
    }

    /** Stores pushes: in the nodes' logs, or in Kafka (hub.backend). */
    public PushStore receiver() {
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

    /** The live tail over the node logs. */
    public FleetTail tail() {
        return tail;
    }

    @Override
    public void close() {
        try {
            tail.close();
            fleetLogs.close();
            if (changes instanceof AutoCloseable c) {
                c.close();
            }
            if (receiver instanceof AutoCloseable c) {
                c.close();
            }
        } catch (Exception e) {
            LOG.atWarn()
                    .addKeyValue(LogFields.ADVICE, "none needed: the store's writes were acknowledged or retried")
                    .log("hub: closing the push store failed: {}", e.toString());
        } finally {
            rollups.close();
        }
    }
}

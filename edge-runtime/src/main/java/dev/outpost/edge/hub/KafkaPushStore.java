package dev.outpost.edge.hub;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Lane;
import dev.outpost.store.LogFields;
import dev.outpost.sync.PushStore;
import dev.outpost.sync.SyncException;
import dev.outpost.sync.wire.PushAck;
import dev.outpost.sync.wire.PushBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A hub's pushed records in Kafka: each accepted batch's new records and its node lane's received ranges are written
 * in one Kafka transaction, and the push is acknowledged only once that transaction committed (docs/FLEET-KAFKA.md).
 *
 * <p>Design note. Nodes are spread over {@code hub.kafka_shards} shards ({@link #shardOf}); a shard is one partition
 * of {@code PREFIX.received} and one transactional producer ({@link KafkaShard}), whose {@code initTransactions}
 * fences any earlier holder of the shard and aborts what it left open. Invariants: a record whose sequence number is
 * in its node lane's committed ranges is never written again; nothing is acknowledged that is not committed; a fenced
 * shard refuses every push after it (503) and is never used again by this instance; a push for a shard this hub does
 * not own (another hub of the fleet does, {@link HubGroup}) is refused here with 503, and the HTTP layer forwards it
 * to the owner the directory names ({@link #ownerUrl}, {@link HubDirectory}) before it gets that far.
 */
public final class KafkaPushStore implements PushStore, AutoCloseable, HubGroup.Owner {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaPushStore.class);

    /** How long opening waits for this hub's first share of the shards. */
    static final long FIRST_ASSIGNMENT_MILLIS = 60_000;

    private final OutpostConfig.Kafka config;
    private final KafkaTopics topics;
    /** The shards this hub owns now, by number; null where another hub owns it. */
    private final AtomicReferenceArray<KafkaShard> shards;

    private HubGroup group;
    private HubDirectory directory;

    /** Transactions committed for pushes (a metric). */
    private final LongAdder transactions;

    /** Each shard producer's buffer.memory. */
    private final long bufferBytes;

    private KafkaPushStore(OutpostConfig.Kafka config, KafkaTopics topics, LongAdder transactions, long bufferBytes) {
        this.bufferBytes = bufferBytes;
        this.config = config;
        this.topics = topics;
        this.transactions = transactions;
        this.shards = new AtomicReferenceArray<>(config.shards());
    }

    /**
     * Creates the topics if needed, joins the fleet's hubs and waits for this hub's first share of the shards (each
     * taken: earlier holders fenced, what it received loaded).
     *
     * @throws IllegalStateException naming the setting when the cluster cannot be reached or the topics disagree
     */
    static KafkaPushStore open(OutpostConfig.Kafka config, LongAdder transactions) {
        return open(config, transactions, KafkaShard.BUFFER_BYTES_MIN);
    }

    /**
     * As {@link #open(OutpostConfig.Kafka, LongAdder)}, each shard's producer buffering at most {@code bufferBytes}
     * (its buffer.memory, unless hub.kafka_producer sets one).
     */
    static KafkaPushStore open(OutpostConfig.Kafka config, LongAdder transactions, long bufferBytes) {
        KafkaTopics topics = KafkaTopics.ensure(config);
        KafkaPushStore store = new KafkaPushStore(config, topics, transactions, bufferBytes);
        try {
            store.directory = new HubDirectory(config, topics);
            store.group = new HubGroup(config, topics, store);
            if (!store.group.awaitFirstAssignment(FIRST_ASSIGNMENT_MILLIS)) {
                throw new IllegalStateException(
                        "no share of the shards from the hubs' group at " + config.bootstrapServers() + " in "
                                + FIRST_ASSIGNMENT_MILLIS + " ms (hub.kafka_bootstrap_servers)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            store.close();
            throw new IllegalStateException("interrupted while joining the hubs' group", e);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        LOG.info(
                "hub backend kafka at {}: {} of {} shards here, topics {}.events.<lane> and {}",
                config.bootstrapServers(),
                store.owned(),
                config.shards(),
                config.topicPrefix(),
                topics.received());
        return store;
    }

    /** Takes shards the group gave this hub: fences their earlier holders, loads what they received, serves them. */
    @Override
    public void take(List<Integer> numbers) {
        List<KafkaShard> taken = new ArrayList<>(numbers.size());
        try {
            for (int s : numbers) {
                taken.add(new KafkaShard(config, topics, s, transactions, bufferBytes));
            }
            KafkaShard.loadReceived(config, topics, taken);
            for (KafkaShard sh : taken) {
                sh.announce(config.advertisedUrl());
            }
        } catch (RuntimeException e) {
            LOG.atError()
                    .addKeyValue(LogFields.ADVICE, "check the Kafka cluster; the hub tries again")
                    .log("hub: could not take shards {}; their nodes get 503 until they are taken again", numbers, e);
            taken.forEach(KafkaShard::close);
            numbers.forEach(s -> group.retakeLater(s, config.sessionTimeoutMillis()));
            return;
        }
        for (KafkaShard sh : taken) {
            shards.set(sh.number(), sh);
            directory.announced(sh.number(), config.advertisedUrl());
        }
        LOG.info("hub: took shards {}", numbers);
    }

    @Override
    public void retake(int shard) {
        if (shards.get(shard) == null) {
            take(List.of(shard));
        }
    }

    /**
     * A shard whose producer can write no more (fenced, or a failure Kafka's client cannot recover from) is given up
     * here and taken again later if the group still assigns it to this hub (a transaction timed out, the cluster
     * restarted); if another hub took it, the group says so first and nothing is retaken.
     */
    private void broken(KafkaShard shard) {
        if (shards.compareAndSet(shard.number(), shard, null)) {
            shard.close();
            LOG.atWarn()
                    .addKeyValue(
                            LogFields.ADVICE, "none needed: its nodes retry; check the Kafka cluster if it repeats")
                    .log("hub: shard {} can write no more; taking it again if it is still this hub's", shard.number());
            group.retakeLater(shard.number(), config.sessionTimeoutMillis());
        }
    }

    /** Stops serving shards the group moved away (their producers are closed once a push in progress is done). */
    @Override
    public void drop(List<Integer> numbers) {
        for (int s : numbers) {
            KafkaShard sh = shards.getAndSet(s, null);
            if (sh != null) {
                sh.close();
            }
        }
        LOG.info("hub: gave up shards {}", numbers);
    }

    @Override
    public boolean answersFor(String node) {
        return owns(shardOf(node, shards.length()));
    }

    /** Whether this hub owns shard {@code s} now. */
    boolean owns(int s) {
        return shards.get(s) != null;
    }

    /** Tests: the shard of {@code node} if this hub serves it now, else null. */
    KafkaShard shardOf(String node) {
        return shards.get(shardOf(node, shards.length()));
    }

    /** Transactions committed for pushes so far. */
    long transactions() {
        return transactions.sum();
    }

    /** How many shards this hub owns now. */
    int owned() {
        int n = 0;
        for (int s = 0; s < shards.length(); s++) {
            n += shards.get(s) != null ? 1 : 0;
        }
        return n;
    }

    /** Tests: this hub stops heartbeating, as if cut off (it keeps its shards until it learns it lost them). */
    void silence() {
        group.silence();
    }

    /** The shard of a node: the partition Kafka's default partitioner gives its id among {@code shards}. */
    static int shardOf(String node, int shards) {
        return Utils.toPositive(Utils.murmur2(node.getBytes(StandardCharsets.UTF_8))) % shards;
    }

    @Override
    public PushAck receive(PushBatch b) {
        KafkaShard shard = owner(b.node());
        java.util.Set<String> streams = new java.util.HashSet<>();
        b.records().forEach(r -> streams.add(r.stream()));
        boolean created;
        try {
            created = topics.ensureStreams(streams);
        } catch (IllegalStateException e) {
            throw new SyncException(
                    "create stream topics", "node " + b.node(), e.getMessage() + "; retry later", 503, e);
        }
        if (!created) {
            throw new SyncException(
                    "store push in Kafka",
                    "node " + b.node() + " lane " + b.lane().id(),
                    "a topic per stream would pass hub.kafka_stream_topics_max (" + config.streamTopicsMax()
                            + "); the node keeps the batch until the limit is raised",
                    503,
                    null);
        }
        try {
            return shard.push(b);
        } catch (KafkaException e) {
            if (shard.fenced()) {
                broken(shard);
            }
            LOG.atWarn()
                    .addKeyValue(LogFields.NODE, b.node())
                    .addKeyValue(LogFields.LANE, b.lane().id())
                    .addKeyValue(
                            LogFields.ADVICE,
                            "none needed if it passes: the node resends; else check the Kafka cluster")
                    .log(
                            "push of {}..{} not stored in Kafka ({}); the node resends it",
                            b.fromSeq(),
                            b.toSeq(),
                            e.toString());
            throw new SyncException(
                    "store push in Kafka",
                    "node " + b.node() + " lane " + b.lane().id(),
                    shard.fenced()
                            ? "another hub took this node's shard; retry (it goes to that hub)"
                            : "Kafka did not take the batch (" + e.getClass().getSimpleName() + "); retry later",
                    503,
                    e);
        }
    }

    @Override
    public AckedRanges received(String node, Lane lane) {
        KafkaShard shard = owner(node);
        if (shard.closed()) {
            throw notHere(node);
        }
        return AckedRanges.decode(shard.ranges(node, lane).encode(), null);
    }

    /**
     * The URL of the hub of the fleet that owns {@code node}'s shard, to forward its requests to; null when this hub
     * owns it, or when the owner is not known or cannot be reached (the node is told to retry).
     */
    public String ownerUrl(String node) {
        int s = shardOf(node, shards.length());
        if (owns(s)) {
            return null;
        }
        String url = directory.owner(s);
        return url == null || url.equals(config.advertisedUrl()) ? null : url;
    }

    /** The shard of {@code node} if this hub owns it now. */
    private KafkaShard owner(String node) {
        KafkaShard s = shards.get(shardOf(node, shards.length()));
        if (s == null) {
            throw notHere(node);
        }
        return s;
    }

    static SyncException notHere(String node) {
        return new SyncException(
                "store push in Kafka",
                "node " + node,
                "another hub of the fleet owns this node's shard now; retry (docs/FLEET-KAFKA.md)",
                503,
                null);
    }

    @Override
    public void close() {
        if (group != null) {
            group.close();
        }
        List<Integer> all = new ArrayList<>();
        for (int s = 0; s < shards.length(); s++) {
            all.add(s);
        }
        drop(all);
        if (directory != null) {
            directory.close();
        }
    }
}

package dev.outpost.edge.hub;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Lane;
import dev.outpost.sync.PushStore;
import dev.outpost.sync.SyncException;
import dev.outpost.sync.wire.PushAck;
import dev.outpost.sync.wire.PushBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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
 * shard refuses every push after it (503) and is never used again by this instance. This first form owns every shard
 * (one hub); ownership by consumer-group assignment is the next step of the design.
 */
public final class KafkaPushStore implements PushStore, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaPushStore.class);

    private final KafkaTopics topics;
    private final KafkaShard[] shards;

    private KafkaPushStore(KafkaTopics topics, KafkaShard[] shards) {
        this.topics = topics;
        this.shards = shards;
    }

    /**
     * Creates the topics if needed, takes every shard (fencing earlier holders) and loads what each has received.
     *
     * @throws IllegalStateException naming the setting when the cluster cannot be reached or the topics disagree
     */
    static KafkaPushStore open(OutpostConfig.Kafka config) {
        KafkaTopics topics = KafkaTopics.ensure(config);
        KafkaShard[] shards = new KafkaShard[config.shards()];
        try {
            for (int s = 0; s < shards.length; s++) {
                shards[s] = new KafkaShard(config, topics, s);
            }
            KafkaShard.loadReceived(config, topics, shards);
        } catch (RuntimeException e) {
            for (KafkaShard sh : shards) {
                if (sh != null) {
                    sh.close();
                }
            }
            throw e;
        }
        LOG.info(
                "hub backend kafka at {}: {} shards, topics {}.events.<lane> and {}",
                config.bootstrapServers(),
                shards.length,
                config.topicPrefix(),
                topics.received());
        return new KafkaPushStore(topics, shards);
    }

    /** The shard of a node: the partition Kafka's default partitioner gives its id among {@code shards}. */
    static int shardOf(String node, int shards) {
        return Utils.toPositive(Utils.murmur2(node.getBytes(StandardCharsets.UTF_8))) % shards;
    }

    @Override
    public PushAck receive(PushBatch b) {
        KafkaShard shard = shards[shardOf(b.node(), shards.length)];
        synchronized (shard) {
            AckedRanges had = shard.ranges(b.node(), b.lane());
            List<PushBatch.Record> fresh = new ArrayList<>(b.records().size());
            for (PushBatch.Record r : b.records()) {
                if (!had.contains(r.seq())) {
                    fresh.add(r);
                }
            }
            AckedRanges next = AckedRanges.decode(had.encode(), null);
            if (!next.add(b.fromSeq(), b.toSeq())) {
                throw new SyncException(
                        "record received range",
                        "node " + b.node() + " lane " + b.lane().id(),
                        "too many gaps in what this node sent; send the oldest unacknowledged data first",
                        409,
                        null);
            }
            commit(shard, b, fresh, next);
            return new PushAck(
                    b.node(),
                    b.lane(),
                    b.fromSeq(),
                    b.toSeq(),
                    fresh.size(),
                    b.records().size() - fresh.size());
        }
    }

    private void commit(KafkaShard shard, PushBatch b, List<PushBatch.Record> fresh, AckedRanges next) {
        try {
            shard.write(b.node(), b.lane(), topics.events(b.lane()), fresh, next);
        } catch (KafkaException e) {
            LOG.warn(
                    "node {} lane {}: push of {}..{} not stored in Kafka ({}); the node resends it",
                    b.node(),
                    b.lane().id(),
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
        KafkaShard shard = shards[shardOf(node, shards.length)];
        synchronized (shard) {
            return AckedRanges.decode(shard.ranges(node, lane).encode(), null);
        }
    }

    /** Whether this store still holds every shard (none was taken by another hub). */
    public boolean holdsAllShards() {
        for (KafkaShard s : shards) {
            synchronized (s) {
                if (s.fenced()) {
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public void close() {
        for (KafkaShard s : shards) {
            s.close();
        }
    }
}

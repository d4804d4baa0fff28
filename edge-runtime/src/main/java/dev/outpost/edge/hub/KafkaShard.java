package dev.outpost.edge.hub;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.sync.wire.PushBatch;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One ownership shard of a Kafka-backed hub: a transactional producer ({@code transactional.id = PREFIX-shard-N}) and
 * the received ranges of the node lanes whose nodes fall in it, as committed in partition N of {@code
 * PREFIX.received}.
 *
 * <p>Design note. {@code initTransactions} in the constructor bumps the id's epoch: an earlier holder (a hub that was
 * cut off, a previous run) can no longer commit, and whatever it left open is aborted before this one reads the
 * partition. Invariants: {@link #ranges} is exactly what committed transactions hold, since it changes only after a
 * commit returned; after a fencing or any error the producer cannot recover from, the shard is {@link #fenced} and
 * writes nothing more. Callers hold the shard's monitor.
 */
final class KafkaShard implements AutoCloseable {
    /** How long loading the received ranges may take at start. */
    static final long LOAD_TIMEOUT_MILLIS = 60_000;

    private static final AckedRanges NONE = new AckedRanges();

    private final int shard;
    private final String received;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Map<String, AckedRanges> ranges = new HashMap<>();
    private boolean fenced;
    private boolean closed;

    KafkaShard(OutpostConfig.Kafka config, KafkaTopics topics, int shard) {
        this.shard = shard;
        this.received = topics.received();
        Properties p = KafkaTopics.clientProperties(config);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.topicPrefix() + "-shard-" + shard);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, config.transactionTimeoutMillis());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        this.producer = new KafkaProducer<>(p);
        try {
            producer.initTransactions();
        } catch (KafkaException e) {
            producer.close(Duration.ZERO);
            throw e;
        }
    }

    private static String key(String node, Lane lane) {
        return node + ":" + lane.id();
    }

    /** The committed ranges of a node lane (not to be changed by the caller). */
    AckedRanges ranges(String node, Lane lane) {
        return ranges.getOrDefault(key(node, lane), NONE);
    }

    boolean fenced() {
        return fenced;
    }

    /** Given up: another hub owns the shard now, or this hub stopped. */
    boolean closed() {
        return closed;
    }

    int number() {
        return shard;
    }

    /**
     * Writes {@code fresh} to {@code topic} and {@code next} as the node lane's ranges in one transaction; the ranges
     * here change only once it committed.
     *
     * @throws KafkaException if it did not commit (nothing of it is visible to read_committed readers)
     */
    void write(String node, Lane lane, String topic, List<PushBatch.Record> fresh, AckedRanges next) {
        if (fenced || closed) {
            throw new ProducerFencedException("shard " + shard + " was taken by another hub");
        }
        byte[] nodeKey = node.getBytes(StandardCharsets.UTF_8);
        try {
            producer.beginTransaction();
            for (PushBatch.Record r : fresh) {
                producer.send(record(topic, nodeKey, node, lane, r));
            }
            producer.send(new ProducerRecord<>(
                    received, shard, key(node, lane).getBytes(StandardCharsets.UTF_8), next.encode()));
            producer.commitTransaction();
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
            fenced = true;
            throw e;
        } catch (KafkaException e) {
            abort();
            throw e;
        }
        ranges.put(key(node, lane), next);
    }

    private void abort() {
        try {
            producer.abortTransaction();
        } catch (KafkaException e) {
            fenced = true; // not abortable: this producer is done; a restart takes the shard again
        }
    }

    private static ProducerRecord<byte[], byte[]> record(
            String topic, byte[] nodeKey, String node, Lane lane, PushBatch.Record r) {
        long millis = HybridClock.millis(r.hlc());
        RecordHeaders h = new RecordHeaders();
        h.add("node", node.getBytes(StandardCharsets.UTF_8));
        h.add("lane", lane.id().getBytes(StandardCharsets.UTF_8));
        h.add("stream", r.stream().getBytes(StandardCharsets.UTF_8));
        h.add("seq", Long.toString(r.seq()).getBytes(StandardCharsets.US_ASCII));
        h.add("hlc", Long.toString(r.hlc()).getBytes(StandardCharsets.US_ASCII));
        h.add("ingest_time", Long.toString(millis).getBytes(StandardCharsets.US_ASCII));
        return new ProducerRecord<>(topic, null, millis, nodeKey, r.payload(), h);
    }

    /**
     * Reads every partition of {@code PREFIX.received} to its end (read_committed; called after every shard's {@code
     * initTransactions}, so nothing is left open) into the shards' ranges: the last record of each node lane wins.
     */
    static void loadReceived(OutpostConfig.Kafka config, KafkaTopics topics, List<KafkaShard> taken) {
        if (taken.isEmpty()) {
            return;
        }
        KafkaShard[] shards = new KafkaShard[config.shards()];
        for (KafkaShard s : taken) {
            shards[s.shard] = s;
        }
        Properties p = KafkaTopics.clientProperties(config);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.keySet().removeIf(k -> !ConsumerConfig.configNames().contains(k));
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (KafkaShard s : taken) {
                parts.add(new TopicPartition(topics.received(), s.shard));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> ends = c.endOffsets(parts);
            long deadline = System.nanoTime() + LOAD_TIMEOUT_MILLIS * 1_000_000;
            while (!reached(c, ends)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topics.received() + " to its end in "
                            + LOAD_TIMEOUT_MILLIS + " ms (hub.kafka_bootstrap_servers " + config.bootstrapServers()
                            + ")");
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    shards[r.partition()].apply(r.key(), r.value());
                }
            }
        }
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> ends) {
        for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
            if (c.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void apply(byte[] key, byte[] value) {
        String k = new String(key, StandardCharsets.UTF_8);
        if (value == null) {
            ranges.remove(k);
        } else {
            ranges.put(k, AckedRanges.decode(value, null));
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            producer.close(Duration.ofSeconds(5));
        }
    }
}

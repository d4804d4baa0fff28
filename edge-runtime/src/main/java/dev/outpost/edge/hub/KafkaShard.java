package dev.outpost.edge.hub;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.sync.PushStore;
import dev.outpost.sync.wire.PushAck;
import dev.outpost.sync.wire.PushBatch;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
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
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One ownership shard of a Kafka-backed hub: a transactional producer ({@code transactional.id = PREFIX-shard-N}) and
 * the received ranges of the node lanes whose nodes fall in it, as committed in partition N of {@code
 * PREFIX.received}.
 *
 * <p>Design note. {@code initTransactions} in the constructor bumps the id's epoch: an earlier holder (a hub that was
 * cut off, a previous run) can no longer commit, and whatever it left open is aborted before this one reads the
 * partition. Pushes are committed in groups ({@link #push}): a push joins the queue, and whichever pusher holds the
 * commit lock takes everything queued (up to {@link #ROUND_RECORDS_MAX} records) into one transaction, so the
 * shard's throughput grows with its pushers instead of being one commit per push. Invariants: {@link #ranges} is
 * exactly what committed transactions hold, since it changes only after a commit returned; within a round, a push is
 * checked against the ranges with the earlier pushes of the round added, so a batch sent twice in one round is written
 * once; every push gets exactly one outcome, and only after its round committed or failed; after a fencing or any
 * error the producer cannot recover from, the shard is {@link #fenced} and writes nothing more.
 */
final class KafkaShard implements AutoCloseable {
    /** How long loading the received ranges may take at start. */
    static final long LOAD_TIMEOUT_MILLIS = 60_000;

    /**
     * Least buffer.memory of a shard's producer. Every shard a hub may own has a producer, so their buffers together are
     * bounded by the hub's budget (Hub sizes them), not by Kafka's default of 32 MiB each.
     */
    static final long BUFFER_BYTES_MIN = 1 << 20;

    /** Most records one transaction takes from the queue (a round holds at least one push whatever its size). */
    static final int ROUND_RECORDS_MAX = 50_000;

    private static final AckedRanges NONE = new AckedRanges();

    private final int shard;
    private final String received;
    private final String hubs;
    private final KafkaTopics topics;
    private final KafkaProducer<byte[], byte[]> producer;
    /** Committed ranges by node lane; a value is never changed once here (replaced by a new one). */
    private final Map<String, AckedRanges> ranges = new ConcurrentHashMap<>();

    private final LongAdder transactions;
    private final ReentrantLock committing = new ReentrantLock();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>(); // guarded by itself
    private volatile boolean fenced;
    private volatile boolean closed;

    /** A push waiting for its round; its outcome is set under the commit lock. */
    private static final class Pending {
        final PushBatch batch;
        List<PushBatch.Record> fresh;
        PushAck ack;
        RuntimeException failure;
        boolean done;

        Pending(PushBatch batch) {
            this.batch = batch;
        }

        void fail(RuntimeException e) {
            failure = e;
            done = true;
        }
    }

    KafkaShard(OutpostConfig.Kafka config, KafkaTopics topics, int shard, LongAdder transactions, long bufferBytes) {
        this.shard = shard;
        this.transactions = transactions;
        this.received = topics.received();
        this.hubs = topics.hubs();
        this.topics = topics;
        Properties p = KafkaTopics.clientProperties(config);
        p.putIfAbsent(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(Math.max(BUFFER_BYTES_MIN, bufferBytes)));
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

    /** Tests: as if the coordinator had bumped the epoch under this producer (a transaction timed out). */
    void fenceLocally() {
        fenced = true;
    }

    /** Given up: another hub owns the shard now, or this hub stopped. */
    boolean closed() {
        return closed;
    }

    int number() {
        return shard;
    }

    /**
     * Announces this hub as the shard's owner in the directory ({@code url} empty: it cannot be reached), in a
     * transaction of the shard's producer so that a fenced hub cannot overwrite the entry.
     *
     * @throws KafkaException if it did not commit
     */
    void announce(String url) {
        committing.lock();
        try {
            inTransaction(() ->
                    producer.send(new ProducerRecord<>(hubs, 0, HubDirectory.key(shard), HubDirectory.value(url))));
        } finally {
            committing.unlock();
        }
    }

    /**
     * Writes the records of {@code b} the shard does not have to their topics, and the node lane's ranges with the
     * batch's added, in a transaction shared with the pushes queued at the same moment; returns once it committed.
     *
     * @throws KafkaException if it did not commit (nothing of it is visible to read_committed readers)
     * @throws dev.outpost.sync.SyncException 409 when the ranges would have too many gaps, 503 once the shard is closed
     */
    PushAck push(PushBatch b) {
        Pending p = new Pending(b);
        synchronized (queue) {
            queue.add(p);
        }
        committing.lock();
        try {
            while (!p.done) {
                commitRound();
            }
        } finally {
            committing.unlock();
        }
        if (p.failure != null) {
            throw p.failure;
        }
        return p.ack;
    }

    /** Takes a round of queued pushes and commits it (commit lock held). */
    private void commitRound() {
        List<Pending> round = takeRound();
        if (closed || fenced) {
            RuntimeException e = closed
                    ? KafkaPushStore.notHere(round.get(0).batch.node())
                    : new ProducerFencedException("shard " + shard + " was taken by another hub");
            round.forEach(p -> p.fail(e));
            return;
        }
        Map<String, AckedRanges> next = new HashMap<>();
        List<Pending> accepted = new ArrayList<>(round.size());
        for (Pending p : round) {
            String k = key(p.batch.node(), p.batch.lane());
            AckedRanges had = next.getOrDefault(k, ranges.getOrDefault(k, NONE));
            AckedRanges grown = AckedRanges.decode(had.encode(), null);
            if (!grown.add(p.batch.fromSeq(), p.batch.toSeq())) {
                p.fail(PushStore.tooManyGaps(p.batch));
                continue;
            }
            p.fresh = new ArrayList<>(p.batch.records().size());
            for (PushBatch.Record r : p.batch.records()) {
                if (!had.contains(r.seq())) {
                    p.fresh.add(r);
                }
            }
            next.put(k, grown);
            accepted.add(p);
        }
        if (accepted.isEmpty()) {
            return;
        }
        try {
            write(accepted, next);
        } catch (KafkaException e) {
            accepted.forEach(p -> p.fail(e));
            return;
        }
        ranges.putAll(next);
        transactions.increment();
        for (Pending p : accepted) {
            p.ack = PushAck.of(p.batch, p.fresh.size());
            p.done = true;
        }
    }

    /** The queued pushes of the next round: all of them up to {@link #ROUND_RECORDS_MAX} records, at least one. */
    private List<Pending> takeRound() {
        List<Pending> round = new ArrayList<>();
        int records = 0;
        synchronized (queue) {
            while (!queue.isEmpty()) {
                int n = queue.peek().batch.records().size();
                if (!round.isEmpty() && records + n > ROUND_RECORDS_MAX) {
                    break;
                }
                round.add(queue.poll());
                records += n;
            }
        }
        return round;
    }

    /** One transaction: every accepted push's fresh records, then the node lanes' new ranges. */
    private void write(List<Pending> accepted, Map<String, AckedRanges> next) {
        inTransaction(() -> {
            for (Pending p : accepted) {
                String node = p.batch.node();
                byte[] nodeKey = node.getBytes(StandardCharsets.UTF_8);
                for (PushBatch.Record r : p.fresh) {
                    producer.send(record(topics.events(p.batch.lane(), r.stream()), nodeKey, node, p.batch.lane(), r));
                }
            }
            for (Map.Entry<String, AckedRanges> e : next.entrySet()) {
                producer.send(new ProducerRecord<>(
                        received,
                        shard,
                        e.getKey().getBytes(StandardCharsets.UTF_8),
                        e.getValue().encode()));
            }
        });
    }

    /**
     * Runs {@code sends} in one transaction of the shard's producer; a fencing marks the shard fenced, any other
     * failure aborts the transaction (and marks it fenced if even that fails).
     *
     * @throws KafkaException if it did not commit
     */
    private void inTransaction(Runnable sends) {
        try {
            producer.beginTransaction();
            sends.run();
            producer.commitTransaction();
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
            fenced = true;
            throw e;
        } catch (KafkaException e) {
            abort();
            throw e;
        }
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
        // The record's timestamp is the hub's write time, not the node's: the topic's time retention counts from it,
        // so a backlog older than retention.ms (a node back after a long outage) is not deleted on arrival.
        return new ProducerRecord<>(topic, null, null, nodeKey, r.payload(), h);
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
        Properties p = KafkaTopics.readerProperties(config);
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

    /** Stops the shard once a round in progress is done; pushes still queued then get 503. */
    @Override
    public void close() {
        committing.lock();
        try {
            if (!closed) {
                closed = true;
                producer.close(Duration.ofSeconds(5));
            }
        } finally {
            committing.unlock();
        }
    }
}

package dev.outpost.edge.hub;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.LogFields;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hubs of a fleet as one Kafka consumer group over {@code PREFIX.received}: the partitions a hub is assigned are
 * the shards it owns (docs/FLEET-KAFKA.md, "Ownership").
 *
 * <p>Design note. Kafka's group membership is the failure detector: a hub that stops heartbeating for {@code
 * hub.kafka_session_timeout_millis} loses its partitions to the others, who fence it by taking the shards' transactional
 * ids. The consumer reads nothing (its partitions are paused); its thread only polls, which keeps the membership and
 * runs the rebalance callbacks. Cooperative rebalancing moves only the partitions that change hands, so a hub joining
 * or leaving does not make every other hub drop and retake its shards. Invariants: {@link Owner#take} and {@link
 * Owner#drop} run on one thread of their own, in the order Kafka decided them, never on the polling thread (taking a
 * shard — fencing, reading its ranges, announcing — takes seconds, and a poll loop held that long was put out of the
 * group by max.poll.interval.ms, dropping every shard); nothing else touches the consumer but {@link #close}'s
 * wake-up.
 */
final class HubGroup implements AutoCloseable {
    /** How often the group's thread polls (keeps the membership alive; well under any session timeout). */
    static final long POLL_MILLIS = 100;

    private static final Logger LOG = LoggerFactory.getLogger(HubGroup.class);

    /** What the group tells its hub. */
    interface Owner {
        /** These shards are now this hub's: take them before serving them. */
        void take(List<Integer> shards);

        /** These shards are no longer this hub's (revoked, or lost to a timeout): stop serving them. */
        void drop(List<Integer> shards);

        /** This shard is still this hub's but is not served (its producer failed, or taking it did): take it again. */
        void retake(int shard);
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Owner owner;
    private final Thread thread;
    /** Runs take and drop in the order Kafka decided them, off the polling thread (taking a shard takes seconds). */
    private final java.util.concurrent.ScheduledExecutorService ownerTasks =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().name("outpost-hub-shards").daemon().factory());

    /** The shards the group assigns to this hub now (changed in the rebalance callbacks, read anywhere). */
    private final java.util.Set<Integer> held = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final CountDownLatch assigned = new CountDownLatch(1);
    private volatile boolean running = true;
    /** Tests: stop polling without leaving the group, as a hub cut off from the cluster would. */
    private volatile boolean silent;

    HubGroup(OutpostConfig.Kafka config, KafkaTopics topics, Owner owner) {
        this.owner = owner;
        Properties p = KafkaTopics.clientProperties(config);
        p.keySet().removeIf(k -> !ConsumerConfig.configNames().contains(k));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.topicPrefix() + "-hubs");
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, config.sessionTimeoutMillis());
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Math.max(100, config.sessionTimeoutMillis() / 4));
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, Math.max(1_000, config.sessionTimeoutMillis()));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        this.consumer = new KafkaConsumer<>(p);
        consumer.subscribe(List.of(topics.received()), new Listener());
        this.thread = Thread.ofPlatform().name("outpost-hub-group").daemon().start(this::run);
    }

    /** Waits until this hub's first assignment (maybe empty) was taken; false after {@code millis}. */
    boolean awaitFirstAssignment(long millis) throws InterruptedException {
        return assigned.await(millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Takes {@code shard} again after {@code delayMillis} if the group still assigns it to this hub then (in order with
     * take and drop). The delay lets a hub that was fenced because another took the shard learn of its loss first,
     * so it does not fence the new owner in turn.
     */
    void retakeLater(int shard, long delayMillis) {
        try {
            ownerTasks.schedule(
                    () -> {
                        if (held.contains(shard)) {
                            owner.retake(shard);
                        }
                    },
                    delayMillis,
                    TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** Tests: this hub stops heartbeating without leaving the group (cut off from the cluster). */
    void silence() {
        silent = true;
    }

    private void run() {
        try {
            while (running && !silent) {
                consumer.poll(Duration.ofMillis(POLL_MILLIS));
            }
        } catch (WakeupException e) {
            // closing
        } catch (KafkaException e) {
            LOG.atError()
                    .addKeyValue(
                            LogFields.ADVICE, "check the Kafka cluster and hub.kafka_producer, then restart this hub")
                    .log("hub group: membership failed ({}); this hub serves no shard until restarted", e.toString());
        }
    }

    private final class Listener implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {
            consumer.pause(parts);
            List<Integer> shards = shards(parts);
            held.addAll(shards);
            ownerTasks.execute(() -> {
                owner.take(shards);
                assigned.countDown();
            });
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
            List<Integer> shards = shards(parts);
            held.removeAll(shards);
            ownerTasks.execute(() -> owner.drop(shards));
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> parts) {
            List<Integer> shards = shards(parts);
            held.removeAll(shards);
            ownerTasks.execute(() -> owner.drop(shards));
        }
    }

    private static List<Integer> shards(Collection<TopicPartition> parts) {
        List<Integer> out = new ArrayList<>(parts.size());
        for (TopicPartition tp : parts) {
            out.add(tp.partition());
        }
        return out;
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive()) {
            consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
        }
        ownerTasks.shutdown();
        try {
            ownerTasks.awaitTermination(KafkaShard.LOAD_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

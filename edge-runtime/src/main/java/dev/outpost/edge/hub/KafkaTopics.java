package dev.outpost.edge.hub;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.Lane;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The hub's topics: {@code PREFIX.events.LANE} for the records (keyed by node), {@code PREFIX.received} for what
 * each node lane delivered (compacted, one partition per ownership shard), {@code PREFIX.hubs}, the owners'
 * directory (compacted, one partition), and {@code PREFIX.fleet} for the fleet changes the nodes pull (compacted, one
 * partition: one order for every hub, {@link KafkaFleetChanges}). Created when absent, with the brokers' default
 * replication; an existing {@code received} topic must have {@code hub.kafka_shards} partitions.
 */
final class KafkaTopics {
    /** How long the hub waits for the cluster at start. */
    static final long ADMIN_TIMEOUT_MILLIS = 30_000;
    /** Pause before asking again about a topic the broker does not know yet. */
    static final long RETRY_MILLIS = 100;

    /**
     * Largest record of the fleet topic, bytes: a state document of state.doc_bytes_max's top (16 MiB) and its change's
     * JSON around it. Set on the topic (max.message.bytes) and the fleet producer (max.request.size).
     */
    static final int FLEET_RECORD_BYTES_MAX = 20 << 20;

    private final OutpostConfig.Kafka config;
    private final String received;
    private final String hubs;
    private final Map<Lane, String> events;
    /** With a topic per stream: the stream topics known to exist (bounded by hub.kafka_stream_topics_max). */
    private final Set<String> streamTopics = ConcurrentHashMap.newKeySet();

    private final String fleet;

    private KafkaTopics(
            OutpostConfig.Kafka config, String received, String hubs, Map<Lane, String> events, String fleet) {
        this.config = config;
        this.received = received;
        this.hubs = hubs;
        this.events = events;
        this.fleet = fleet;
    }

    /** The compacted topic of fleet changes (one partition). */
    String fleet() {
        return fleet;
    }

    /** The topic of a record of {@code stream} in {@code lane} (hub.kafka_topics). */
    String events(Lane lane, String stream) {
        return config.topicPerStream() ? config.topicPrefix() + ".stream." + stream : events.get(lane);
    }

    /**
     * With a topic per stream, creates the topics of {@code streams} that do not exist yet (once per hub process);
     * false when that would pass hub.kafka_stream_topics_max (nothing is created then).
     *
     * @throws IllegalStateException when the cluster refuses or cannot be reached
     */
    boolean ensureStreams(Set<String> streams) {
        if (!config.topicPerStream()) {
            return true;
        }
        List<NewTopic> missing = new ArrayList<>();
        for (String stream : streams) {
            String t = events(Lane.NORMAL, stream);
            if (!streamTopics.contains(t)) {
                missing.add(new NewTopic(t, Optional.empty(), Optional.empty()));
            }
        }
        if (missing.isEmpty()) {
            return true;
        }
        synchronized (streamTopics) {
            if (streamTopics.size() + missing.size() > config.streamTopicsMax()) {
                return false;
            }
            try (Admin admin = Admin.create(adminProperties(config))) {
                create(admin, missing);
            } catch (ExecutionException | TimeoutException e) {
                throw unreachable(config, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw unreachable(config, e);
            }
            missing.forEach(t -> streamTopics.add(t.name()));
            return true;
        }
    }

    String received() {
        return received;
    }

    /** The owners' directory: shard number to the URL of the hub that owns it (compacted, one partition). */
    String hubs() {
        return hubs;
    }

    String events(Lane lane) {
        return events.get(lane);
    }

    /** Client settings shared by the hub's producers, consumer and admin: the brokers and the pass-through ones. */
    static Properties clientProperties(OutpostConfig.Kafka config) {
        Properties p = new Properties();
        p.putAll(config.producer());
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        return p;
    }

    /**
     * Settings of a consumer that reads topics without a group: only consumer settings of the pass-through ones,
     * committed records only, no offsets committed, raw bytes.
     */
    static Properties readerProperties(OutpostConfig.Kafka config) {
        Properties p = clientProperties(config);
        p.keySet().removeIf(k -> !ConsumerConfig.configNames().contains(k));
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    static KafkaTopics ensure(OutpostConfig.Kafka config) {
        Map<Lane, String> events = new EnumMap<>(Lane.class);
        for (Lane l : Lane.values()) {
            events.put(l, config.topicPrefix() + ".events." + l.id());
        }
        String received = config.topicPrefix() + ".received";
        String hubs = config.topicPrefix() + ".hubs";
        String fleet = config.topicPrefix() + ".fleet";
        Properties p = adminProperties(config);
        try (Admin admin = Admin.create(p)) {
            Set<String> existing = admin.listTopics().names().get(ADMIN_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            if (!existing.contains(received)) {
                missing.add(new NewTopic(received, Optional.of(config.shards()), Optional.empty())
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
            }
            if (!existing.contains(hubs)) {
                missing.add(new NewTopic(hubs, Optional.of(1), Optional.empty())
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
            }
            if (!existing.contains(fleet)) {
                missing.add(new NewTopic(fleet, Optional.of(1), Optional.empty())
                        .configs(Map.of(
                                TopicConfig.CLEANUP_POLICY_CONFIG,
                                TopicConfig.CLEANUP_POLICY_COMPACT,
                                TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                                Integer.toString(FLEET_RECORD_BYTES_MAX))));
            }
            for (String t : events.values()) {
                if (!existing.contains(t)) {
                    missing.add(new NewTopic(t, Optional.empty(), Optional.empty()));
                }
            }
            create(admin, missing);
            checkShards(admin, received, config.shards());
            checkFleet(admin, fleet);
        } catch (ExecutionException | TimeoutException e) {
            throw unreachable(config, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unreachable(config, e);
        }
        return new KafkaTopics(config, received, hubs, events, fleet);
    }

    private static Properties adminProperties(OutpostConfig.Kafka config) {
        Properties p = new Properties();
        // Only what an admin client understands of the pass-through settings: security and timeouts.
        Set<String> known = AdminClientConfig.configNames();
        Map<String, String> mine = new HashMap<>();
        config.producer().forEach((k, v) -> {
            if (known.contains(k)) {
                mine.put(k, v);
            }
        });
        p.putAll(mine);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT_MILLIS);
        return p;
    }

    private static void create(Admin admin, List<NewTopic> missing)
            throws InterruptedException, ExecutionException, TimeoutException {
        if (missing.isEmpty()) {
            return;
        }
        try {
            admin.createTopics(missing).all().get(ADMIN_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e; // another hub creating them at the same moment is fine
            }
        }
    }

    private static void checkShards(Admin admin, String received, int shards)
            throws InterruptedException, ExecutionException, TimeoutException {
        TopicDescription d = describe(admin, received);
        if (d.partitions().size() != shards) {
            throw new IllegalStateException("hub.kafka_shards is " + shards + " but topic " + received + " has "
                    + d.partitions().size() + " partitions: every hub of a fleet must use the topic's count (set"
                    + " hub.kafka_shards: " + d.partitions().size() + ")");
        }
    }

    private static void checkFleet(Admin admin, String fleet)
            throws InterruptedException, ExecutionException, TimeoutException {
        int partitions = describe(admin, fleet).partitions().size();
        if (partitions != 1) {
            throw new IllegalStateException("topic " + fleet + " has " + partitions + " partitions; the fleet changes"
                    + " need exactly 1 (one order for every hub): delete it or set another hub.kafka_topic_prefix");
        }
    }

    /** The topic's description; a topic just created may be unknown to the broker for a moment, so it asks again. */
    private static TopicDescription describe(Admin admin, String topic)
            throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ADMIN_TIMEOUT_MILLIS);
        while (true) {
            try {
                return admin.describeTopics(List.of(topic))
                        .allTopicNames()
                        .get(ADMIN_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                        .get(topic);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(RETRY_MILLIS); // the broker's metadata catches up with the creation: no signal to await
            }
        }
    }

    private static IllegalStateException unreachable(OutpostConfig.Kafka config, Exception e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return new IllegalStateException(
                "cannot set up the hub's topics at " + config.bootstrapServers() + " (hub.kafka_bootstrap_servers): "
                        + cause.getMessage() + "; check that the brokers are up and the settings in hub.kafka_producer",
                cause);
    }
}

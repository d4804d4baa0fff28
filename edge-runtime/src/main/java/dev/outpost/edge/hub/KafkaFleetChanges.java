package dev.outpost.edge.hub;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.HybridClock;
import dev.outpost.store.LogFields;
import dev.outpost.sync.wire.FleetChange;
import dev.outpost.sync.wire.Published;
import dev.outpost.sync.wire.PullPage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fleet changes of a hub with {@code hub.backend: kafka}: records of the compacted one-partition topic {@code
 * PREFIX.fleet}, key = the changed object's identity ({@link FleetView#identity}), value = the change's wire form,
 * header {@code hlc} = its version, written by whichever hub the operator reached and read by every hub of the fleet.
 *
 * <p>Design note. Each hub follows the topic from its beginning with one consumer thread, folding what it reads into a
 * {@link FleetView} (the latest change per object, bounded by hub.fleet_changes_bytes_max), and serves pulls from it;
 * a change's sequence number is its offset + 1, so a node's cursor means the same at every hub and across restarts.
 * Invariants: the hub serves only once it has read the topic to the end it found at start (a restarted hub serves
 * what it served before, at the same sequence numbers); publishing writes with an idempotent producer and acks=all
 * and returns only once this hub's own reader has read past the record (a pull here right after sees it); a change
 * read from the topic, whoever published it, wakes the long polls; the hub's clock observes every version it reads,
 * so a change this hub publishes is newer than every change it had read.
 */
public final class KafkaFleetChanges implements FleetChanges, AutoCloseable {
    /** How long publishing waits for Kafka's acknowledgement and for reading the record back. */
    static final long PUBLISH_TIMEOUT_MILLIS = 30_000;
    /** How long opening waits to have read the topic to its end. */
    static final long LOAD_TIMEOUT_MILLIS = 60_000;
    /** How long one poll of the reader waits for records (also how soon it notices closing). */
    static final long POLL_MILLIS = 500;
    /** Pause of the reader after a failure it cannot name a cause for, before polling again. */
    static final long READ_RETRY_MILLIS = 1_000;

    static final String HLC_HEADER = "hlc";

    private static final Logger LOG = LoggerFactory.getLogger(KafkaFleetChanges.class);

    private final String topic;
    private final long bytesMax;
    private final FleetView view = new FleetView();
    private final HybridClock clock = HybridClock.system();
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread reader;
    private volatile boolean closed;

    private KafkaFleetChanges(OutpostConfig.Kafka config, String topic, long bytesMax) {
        this.topic = topic;
        this.bytesMax = bytesMax;
        Properties p = KafkaTopics.clientProperties(config);
        p.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, KafkaTopics.FLEET_RECORD_BYTES_MAX);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.keySet().removeIf(k -> !ProducerConfig.configNames().contains(k));
        this.producer = new KafkaProducer<>(p);
        Properties c = KafkaTopics.readerProperties(config);
        this.consumer = new KafkaConsumer<>(c);
        this.reader = Thread.ofPlatform().name("outpost-fleet-changes").daemon().unstarted(this::follow);
    }

    /**
     * Creates the topics if needed, reads the fleet topic to its end and follows it from then on.
     *
     * @param bytesMax hub.fleet_changes_bytes_max
     * @throws IllegalStateException naming the setting when the cluster cannot be reached or the topic is not fit
     */
    static KafkaFleetChanges open(OutpostConfig.Kafka config, long bytesMax) {
        KafkaTopics topics = KafkaTopics.ensure(config);
        KafkaFleetChanges changes = new KafkaFleetChanges(config, topics.fleet(), bytesMax);
        try {
            changes.start(config);
        } catch (RuntimeException e) {
            changes.close();
            throw e;
        }
        return changes;
    }

    private void start(OutpostConfig.Kafka config) {
        TopicPartition tp = new TopicPartition(topic, 0);
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        long end = consumer.endOffsets(List.of(tp)).get(tp);
        reader.start();
        boolean loaded;
        try {
            loaded = view.awaitRead(end, LOAD_TIMEOUT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading " + topic, e);
        }
        if (!loaded) {
            throw new IllegalStateException("could not read " + topic + " to its end (" + end + ") in "
                    + LOAD_TIMEOUT_MILLIS + " ms (hub.kafka_bootstrap_servers " + config.bootstrapServers() + ")");
        }
        LOG.info(
                "hub: {} fleet changes ({} bytes) read from {} up to sequence {}",
                view.size(),
                view.bytes(),
                topic,
                end);
    }

    /** The reader's loop: everything the topic holds, in order, into the view; the position after each poll. */
    private void follow() {
        try {
            followUntilClosed();
        } finally {
            consumer.close(); // the consumer is this thread's alone
        }
    }

    private void followUntilClosed() {
        while (!closed) {
            try {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(POLL_MILLIS))) {
                    long hlc = hlcOf(r);
                    clock.observe(hlc);
                    view.apply(r.offset() + 1, FleetView.key(r.key()), hlc, r.value());
                }
                view.readTo(consumer.position(new TopicPartition(topic, 0)));
            } catch (WakeupException e) {
                return; // closing
            } catch (KafkaException e) {
                if (closed) {
                    return;
                }
                LOG.atWarn()
                        .addKeyValue(
                                LogFields.ADVICE,
                                "check the Kafka cluster (hub.kafka_bootstrap_servers); pulls at this hub serve what"
                                        + " was read until it is back")
                        .log("hub: reading {} failed ({}); reading on", topic, e.toString());
                pause();
            }
        }
    }

    private void pause() {
        try {
            Thread.sleep(READ_RETRY_MILLIS); // a broken cluster sends no signal to await
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    private static long hlcOf(ConsumerRecord<byte[], byte[]> r) {
        Header h = r.headers().lastHeader(HLC_HEADER);
        try {
            return h == null
                    ? HybridClock.atMillis(r.timestamp())
                    : Long.parseLong(new String(h.value(), StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return HybridClock.atMillis(r.timestamp());
        }
    }

    /**
     * Publishes one change at a time: the byte limit is checked against what is held with no other publish of this
     * hub in flight (operators' changes are few; each waits for Kafka anyway).
     */
    @Override
    public synchronized Outcome publish(FleetChange change) {
        String key = FleetView.identity(change);
        byte[] value = change.toJson();
        if (value.length > KafkaTopics.FLEET_RECORD_BYTES_MAX) {
            return new Outcome.TooLarge(value.length, KafkaTopics.FLEET_RECORD_BYTES_MAX);
        }
        long after = view.bytesIfPut(key, value.length);
        if (after > bytesMax) {
            return new Outcome.Full(view.bytes(), FleetView.bytesOf(key, value.length), bytesMax);
        }
        long hlc = clock.now();
        RecordHeaders h = new RecordHeaders();
        h.add(HLC_HEADER, Long.toString(hlc).getBytes(StandardCharsets.US_ASCII));
        ProducerRecord<byte[], byte[]> record =
                new ProducerRecord<>(topic, 0, null, key.getBytes(StandardCharsets.UTF_8), value, h);
        try {
            RecordMetadata m = producer.send(record).get(PUBLISH_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            long seq = m.offset() + 1;
            if (!view.awaitRead(seq, PUBLISH_TIMEOUT_MILLIS)) {
                return new Outcome.Unavailable("the change was written to " + topic + " at sequence " + seq
                        + " but this hub has not read it back yet; pulls get it once it has");
            }
            return new Outcome.Done(new Published(seq, hlc));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RecordTooLargeException) {
                return new Outcome.TooLarge(value.length, KafkaTopics.FLEET_RECORD_BYTES_MAX);
            }
            return unavailable(e.getCause() == null ? e : e.getCause());
        } catch (TimeoutException | KafkaException e) {
            return unavailable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome.Unavailable("the hub is stopping; retry");
        }
    }

    private Outcome unavailable(Throwable e) {
        LOG.atWarn()
                .addKeyValue(
                        LogFields.ADVICE, "check the Kafka cluster (hub.kafka_bootstrap_servers); the operator retries")
                .log("hub: a fleet change was not confirmed by {} ({})", topic, e.toString());
        return new Outcome.Unavailable("Kafka did not confirm the change ("
                + e.getClass().getSimpleName() + "); retry (publishing a change again is harmless)");
    }

    @Override
    public long scan(String node, long after, int max, List<PullPage.Change> out) {
        return view.scan(node, after, max, out);
    }

    @Override
    public long version() {
        return view.version();
    }

    @Override
    public void await(long version, long millis) throws InterruptedException {
        view.await(version, millis);
    }

    /** The bytes of fleet changes held (tests, metrics). */
    long bytes() {
        return view.bytes();
    }

    @Override
    public void close() {
        closed = true;
        try {
            if (reader.isAlive() || reader.getState() == Thread.State.TERMINATED) {
                consumer.wakeup();
                reader.join(TimeUnit.SECONDS.toMillis(10));
            } else {
                consumer.close(); // never started: this thread's
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            producer.close(Duration.ofSeconds(5));
        }
    }
}

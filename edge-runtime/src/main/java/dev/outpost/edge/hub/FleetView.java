package dev.outpost.edge.hub;

import dev.outpost.store.LogFields;
import dev.outpost.sync.wire.FleetChange;
import dev.outpost.sync.wire.PullPage;
import dev.outpost.sync.wire.WireException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a Kafka-backed hub read of the fleet topic: the latest change of each fleet object ({@link #identity}), in topic
 * order, with the position read so far. The fold a compacted topic converges to, so every hub that read the topic to
 * the same position holds the same view whether or not the broker has compacted it yet.
 *
 * <p>Design note. A change's sequence number is its topic offset + 1 (so {@code after=0} reads from the start, as on a
 * local hub). Invariants: one entry per identity, the one of the highest offset read; {@link #bytes()} is the sum of
 * the entries' {@link #bytesOf} and is checked against the limit before publishing ({@link #bytesIfPut}), never while
 * reading (a change in the topic is never dropped: the limit is the publishing hub's to enforce); the read position
 * only grows, and every move wakes the waiters. All under this object's monitor.
 */
final class FleetView {
    /** What an entry costs beyond its key and value (the maps' nodes, the entry, the strings' headers), bytes. */
    static final int ENTRY_OVERHEAD_BYTES = 160;

    private static final Logger LOG = LoggerFactory.getLogger(FleetView.class);

    private record Entry(long seq, String key, String target, long hlc, byte[] value) {
        long bytes() {
            return bytesOf(key, value.length);
        }
    }

    private final Map<String, Entry> latest = new HashMap<>();
    private final TreeMap<Long, Entry> bySeq = new TreeMap<>();
    private long bytes;
    private long readSeq;
    private long version;

    /**
     * The object a change replaces whole, the key of its record in the compacted topic: compaction keeps only the
     * latest record of a key, so a change may share its key only with the changes it makes obsolete. The target is
     * part of every key (a change for one node never hides one for all nodes, or another node's); a state document
     * is its namespace and id; a stream and a rule their name; a configuration change its exact set of keys (a later
     * change of the same keys sets every one of them again; one of other keys keeps its own record).
     */
    static String identity(FleetChange change) {
        return switch (change) {
            case FleetChange.StateChange c -> "state/" + c.target() + "/" + c.namespace() + "/" + c.id();
            case FleetChange.StreamChange c -> "stream/" + c.target() + "/" + c.name();
            case FleetChange.RuleChange c -> "rule/" + c.target() + "/" + c.name();
            case FleetChange.ConfigChange c ->
                "config/" + c.target() + "/"
                        + String.join(",", new TreeSet<>(c.settings().keySet()));
            case FleetChange.Unreadable u ->
                throw new IllegalArgumentException("an unreadable change is not published");
        };
    }

    /** What holding a change of {@code valueBytes} under {@code key} costs, bytes. */
    static long bytesOf(String key, int valueBytes) {
        return ENTRY_OVERHEAD_BYTES + 2L * key.length() + valueBytes;
    }

    /** The bytes held if a change of {@code valueBytes} replaced the one of {@code key}. */
    synchronized long bytesIfPut(String key, int valueBytes) {
        Entry had = latest.get(key);
        return bytes - (had == null ? 0 : had.bytes()) + bytesOf(key, valueBytes);
    }

    /** The bytes held. */
    synchronized long bytes() {
        return bytes;
    }

    /** How many changes are held. */
    synchronized int size() {
        return latest.size();
    }

    /**
     * Takes a record read at {@code seq}: its change replaces the one of the same key; a change this build cannot read
     * (or a tombstone, {@code value} null) removes it.
     */
    synchronized void apply(long seq, String key, long hlc, byte[] value) {
        Entry had = latest.remove(key);
        if (had != null) {
            bySeq.remove(had.seq());
            bytes -= had.bytes();
        }
        String target = value == null ? null : targetOf(seq, value);
        if (target != null) {
            Entry e = new Entry(seq, key, target, hlc, value);
            latest.put(key, e);
            bySeq.put(seq, e);
            bytes += e.bytes();
        }
    }

    private static String targetOf(long seq, byte[] value) {
        FleetChange c;
        try {
            c = FleetChange.parse(value, 0, value.length);
        } catch (WireException e) {
            c = new FleetChange.Unreadable(null, null, e.getMessage());
        }
        if (c instanceof FleetChange.Unreadable u) {
            LOG.atWarn()
                    .addKeyValue(
                            LogFields.ADVICE,
                            "run one version on every hub of the fleet and its nodes; publish the change again")
                    .log("fleet change at sequence {} cannot be read and is not served: {}", seq, u.problem());
            return null;
        }
        return c.target();
    }

    /** Everything up to {@code seq} was read (a position only grows); a move wakes the waiters. */
    synchronized void readTo(long seq) {
        if (seq > readSeq) {
            readSeq = seq;
            version++; // only a move wakes the long polls: an idle topic costs them nothing
            notifyAll();
        }
    }

    synchronized long readSeq() {
        return readSeq;
    }

    /** Waits until everything up to {@code seq} was read, at most {@code millis}; whether it was. */
    synchronized boolean awaitRead(long seq, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        long left;
        while (readSeq < seq && (left = deadline - System.currentTimeMillis()) > 0) {
            wait(left);
        }
        return readSeq >= seq;
    }

    synchronized long version() {
        return version;
    }

    synchronized void await(long version, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        long left;
        while (this.version == version && (left = deadline - System.currentTimeMillis()) > 0) {
            wait(left);
        }
    }

    /**
     * The changes for {@code node} after {@code after}, at most {@code max}; the next position: the last change's when
     * {@code max} cut the page short, else the position read (what lies between was superseded), never below
     * {@code after} (a cursor from a hub that read further stays put until this one catches up).
     */
    synchronized long scan(String node, long after, int max, List<PullPage.Change> out) {
        int added = 0;
        for (Entry e : bySeq.tailMap(after, false).values()) {
            if (!node.equals(e.target()) && !FleetChange.ALL_NODES.equals(e.target())) {
                continue;
            }
            if (added == max) {
                return Math.max(after, out.getLast().seq());
            }
            out.add(new PullPage.Change(e.seq(), e.hlc(), FleetChange.parse(e.value(), 0, e.value().length)));
            added++;
        }
        return Math.max(after, readSeq);
    }

    /** The identity a record's key names. */
    static String key(byte[] key) {
        return key == null ? "" : new String(key, StandardCharsets.UTF_8);
    }
}

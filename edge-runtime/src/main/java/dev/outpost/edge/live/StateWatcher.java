package dev.outpost.edge.live;

import dev.outpost.edge.state.StateService;
import dev.outpost.store.StateDoc;
import dev.outpost.store.json.JsonDiff;
import dev.outpost.store.json.JsonTree;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One watch of a state namespace: a snapshot, then one message per change as a JSON Patch against the previous
 * version, so a client can keep a replica.
 *
 * <p>Design note. The watcher keeps the namespace's replica itself (each document's version and tree, tombstones as
 * versions), because the log's state events carry whole new documents and a patch needs the old one. It starts from a
 * snapshot of the store taken after reading the store's applied seq, then reads the state events after that seq (from
 * the log while behind the feed, then from the feed's rounds). Versions make this exact: an event at or below the
 * replica's version of its document is already in the snapshot and is skipped; one more than one above it means a
 * change was missed, and so does a full buffer: either way the client gets a resync message and a fresh snapshot, and
 * nothing it holds is silently wrong. Invariants: feed thread only but for the pending count and {@link #closed};
 * a snapshot holds at most {@link #SNAPSHOT_DOCS_MAX} documents (a larger namespace is refused with the reason).
 */
final class StateWatcher {
    /** Most documents a watched namespace may hold. */
    static final int SNAPSHOT_DOCS_MAX = 10_000;

    private record Known(long version, Object doc) {}

    private final String namespace;
    private final StateOutlet outlet;
    private final StateService state;
    private final int messagesMax;
    private final AtomicInteger pending = new AtomicInteger();
    private final Map<String, Known> replica = new HashMap<>();
    private volatile boolean closed;
    private boolean snapshotOwed = true;
    private boolean resync;
    private long cursor;

    StateWatcher(String namespace, StateOutlet outlet, StateService state, int messagesMax) {
        this.namespace = namespace;
        this.outlet = outlet;
        this.state = state;
        this.messagesMax = messagesMax;
    }

    long cursor() {
        return cursor;
    }

    boolean closed() {
        return closed;
    }

    void markClosed() {
        closed = true;
    }

    /** True while the watcher is waiting to send a snapshot (it reads no events meanwhile). */
    boolean snapshotOwed() {
        return snapshotOwed;
    }

    /** Sends the snapshot owed, once the buffer has drained; false if the namespace is too large to watch. */
    boolean snapshotIfRoom() {
        if (!snapshotOwed || pending.get() > 0) {
            return true;
        }
        long applied = state.appliedSeq(); // before the read: every change up to it is in the snapshot
        List<StateDoc> docs = state.snapshot(namespace, SNAPSHOT_DOCS_MAX + 1);
        if (docs.size() > SNAPSHOT_DOCS_MAX) {
            close("namespace " + namespace + " holds more than " + SNAPSHOT_DOCS_MAX
                    + " documents: too large to watch");
            return false;
        }
        replica.clear();
        List<StateDoc> live = new ArrayList<>(docs.size());
        for (StateDoc d : docs) {
            replica.put(
                    d.id(),
                    new Known(d.version(), d.deleted() ? null : JsonTree.parseStored(d.doc(), 0, d.doc().length)));
            if (!d.deleted()) {
                live.add(d);
            }
        }
        pending.incrementAndGet();
        outlet.snapshot(live, applied, resync, pending::decrementAndGet);
        cursor = applied;
        snapshotOwed = false;
        return true;
    }

    /** Applies the round's state events of the namespace above the cursor. */
    void deliver(Round round) {
        for (int i = 0; i < round.count() && !snapshotOwed; i++) {
            if (round.seq(i) > cursor && StateService.STREAM.equals(round.stream(i))) {
                Object tree = JsonTree.parseStored(round.payloads(), round.payloadOffset(i), round.payloadLength(i));
                if (tree instanceof Map<?, ?> event
                        && event.get("data") instanceof Map<?, ?> data
                        && namespace.equals(data.get("namespace"))) {
                    apply(data, round.seq(i));
                }
            }
        }
        if (!snapshotOwed) {
            cursor = Math.max(cursor, round.lastExamined());
        }
    }

    private void apply(Map<?, ?> data, long seq) {
        String id = (String) data.get("id");
        long version = ((Number) data.get("version")).longValue();
        Known k = replica.get(id);
        long known = k == null ? 0 : k.version();
        if (version <= known) {
            return; // in the snapshot already (or a conflict that lost, logged at the current version)
        }
        if (version > known + 1 || pending.get() >= messagesMax) {
            resync();
            return;
        }
        boolean delete = "delete".equals(data.get("op"));
        Object doc = delete ? null : data.get("doc");
        List<Object> patch = delete ? null : patch(k == null ? null : k.doc(), doc);
        replica.put(id, new Known(version, doc));
        pending.incrementAndGet();
        outlet.change(id, version, known, delete ? "delete" : "put", patch, seq, pending::decrementAndGet);
    }

    /** The patch from {@code from} (null: absent) to {@code to}: an "add" of the whole document when it is new. */
    private static List<Object> patch(Object from, Object to) {
        if (from == null) {
            Map<String, Object> add = new LinkedHashMap<>();
            add.put("op", "add");
            add.put("path", "");
            add.put("value", to);
            return List.of(add);
        }
        return JsonDiff.diff(from, to);
    }

    /** A change was missed (or could not be queued): the client gets a fresh snapshot once its buffer drains. */
    private void resync() {
        snapshotOwed = true;
        resync = true;
        replica.clear();
    }

    void close(String reason) {
        closed = true;
        outlet.close(reason);
    }
}

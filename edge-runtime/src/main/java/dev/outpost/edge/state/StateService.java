package dev.outpost.edge.state;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.store.AppendResult;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventDraft;
import dev.outpost.store.EventLog;
import dev.outpost.store.Lane;
import dev.outpost.store.LogFields;
import dev.outpost.store.RecordView;
import dev.outpost.store.StateDoc;
import dev.outpost.store.StateStore;
import dev.outpost.store.json.JsonTree;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * State documents: versioned changes that are also events.
 *
 * <p>Design note. Every change is first appended to the event log as an event on the reserved
 * stream {@value #STREAM} (so state syncs like everything else), then applied to the state store
 * with the log sequence it got. Invariants: changes are serialized by one lock, so the store is
 * updated in log order and everything up to {@code store.maxLogSeq()} is applied; on start,
 * {@link #recover()} replays the state events after that sequence, so after kill -9 at any moment
 * the store and the log agree (a change logged but not yet applied is applied; a change never
 * logged was never acknowledged). A change is acknowledged only once its log append is durable.
 * Preconditions (If-Match, If-None-Match) are checked under the same lock.
 */
public final class StateService {
    private static final Logger LOG = LoggerFactory.getLogger(StateService.class);

    /** Writes the state change events. */
    private static final JsonFactory JSON = new JsonFactory();

    /** The reserved stream that carries state changes in the event log. */
    public static final String STREAM = "_state";
    /** Longest document id, in characters. */
    public static final int ID_CHARS_MAX = 256;

    private final StateStore store;
    private final EventLog log;
    private final String nodeId;
    private final long docBytesMax;
    private final int historyMax;
    private final Object lock = new Object();

    /** A precondition from If-Match / If-None-Match. */
    public record Precondition(Long ifMatchVersion, boolean ifMatchAny, boolean ifNoneMatchAny) {
        /** No precondition. */
        public static final Precondition NONE = new Precondition(null, false, false);
    }

    /**
     * The outcome of a change.
     *
     * @param doc the new version (a tombstone for a delete)
     * @param created true if the document did not exist (or was deleted) before
     * @param durable completes when the change is durable per the log's durability
     */
    public record Change(StateDoc doc, boolean created, CompletableFuture<Void> durable) {}

    /** Remote changes that lost to a newer local version (kept in history). */
    private final LongAdder conflictsLost = new LongAdder();

    /** Local versions replaced by a newer change from elsewhere (kept in history). */
    private final java.util.concurrent.atomic.LongAdder conflictsReplaced = new java.util.concurrent.atomic.LongAdder();

    /** Registers this service's metrics: the conflicts resolved by last-writer-wins. */
    public void registerMetrics(Metrics metrics) {
        metrics.counterFn(
                "outpost_state_conflicts_lost_total",
                "Pulled state changes that lost to a newer local version (kept in history).",
                conflictsLost::sum);
        metrics.counterFn(
                "outpost_state_conflicts_replaced_total",
                "Local state versions replaced by a newer change from elsewhere (kept in history).",
                conflictsReplaced::sum);
    }

    /** Remote changes that lost to a newer local version, since start. */
    public long conflictsLost() {
        return conflictsLost.sum();
    }

    /** Local versions replaced by a newer change from elsewhere, since start. */
    public long conflictsReplaced() {
        return conflictsReplaced.sum();
    }

    public StateService(StateStore store, EventLog log, String nodeId, long docBytesMax, int historyMax) {
        this.store = store;
        this.log = log;
        this.nodeId = nodeId;
        this.docBytesMax = docBytesMax;
        this.historyMax = historyMax;
    }

    /** The live document, or null if absent or deleted. */
    public StateDoc get(String namespace, String id) {
        StateNames.check(namespace, id);
        StateDoc d = store.get(namespace, id);
        return d == null || d.deleted() ? null : d;
    }

    /** Live documents of a namespace by id prefix, after {@code afterId}, in id order ({@link StatePage}). */
    public StatePage list(String namespace, String prefix, String afterId, int limit) {
        StateNames.checkNamespace(namespace);
        return StatePage.read(store, namespace, prefix, afterId, limit);
    }

    /** Refuses (StateRefusal) a namespace name that is not one. */
    public static void checkNamespace(String namespace) {
        StateNames.checkNamespace(namespace);
    }

    /**
     * Every document of a namespace, tombstones included, in id order, but no more than {@code max}: what a state
     * watcher starts from. Read {@link #appliedSeq()} before it: every change up to that seq is in the result.
     */
    public List<StateDoc> snapshot(String namespace, int max) {
        StateNames.checkNamespace(namespace);
        return store.list(namespace, "", null, max);
    }

    /** The highest log seq whose state change the store has applied (changes are applied in log order). */
    public long appliedSeq() {
        return store.maxLogSeq();
    }

    /** Replaces the document with {@code json} (validated JSON object). */
    public Change put(String namespace, String id, byte[] json, Precondition pre) {
        StateNames.check(namespace, id);
        Object tree = parseDoc(json);
        return change(namespace, id, pre, current -> tree, false);
    }

    /** Applies {@code patch} to the current document (404 if there is none). */
    public Change patch(String namespace, String id, UnaryOperator<Object> patch, Precondition pre) {
        StateNames.check(namespace, id);
        return change(namespace, id, pre, patch, true);
    }

    /** Deletes the document, leaving a tombstone (404 if there is none). */
    public Change delete(String namespace, String id, Precondition pre) {
        StateNames.check(namespace, id);
        return change(namespace, id, pre, null, true);
    }

    /** One change under the lock: precondition, new content ({@code edit} null = delete), log append, store update. */
    private Change change(String ns, String id, Precondition pre, UnaryOperator<Object> edit, boolean mustExist) {
        synchronized (lock) {
            StateDoc old = store.get(ns, id);
            boolean live = old != null && !old.deleted();
            if (mustExist && !live) {
                throw new StateRefusal(
                        StateRefusal.Kind.NOT_FOUND, "state document " + ns + "/" + id + " does not exist", null);
            }
            if (pre.ifNoneMatchAny() && live) {
                throw new StateRefusal(
                        StateRefusal.Kind.PRECONDITION_FAILED,
                        "If-None-Match: * but " + ns + "/" + id + " exists at version " + old.version(),
                        "If-None-Match");
            }
            if (pre.ifMatchAny() && !live) {
                throw new StateRefusal(
                        StateRefusal.Kind.PRECONDITION_FAILED,
                        "If-Match: * but " + ns + "/" + id + " does not exist",
                        "If-Match");
            }
            if (pre.ifMatchVersion() != null && (!live || old.version() != pre.ifMatchVersion())) {
                throw new StateRefusal(
                        StateRefusal.Kind.PRECONDITION_FAILED,
                        "If-Match version " + pre.ifMatchVersion() + " but " + ns + "/" + id + " is "
                                + (live ? "at version " + old.version() : "absent"),
                        "If-Match");
            }
            byte[] doc;
            if (edit == null) {
                doc = new byte[0];
            } else {
                Object current = live ? JsonTree.parseStored(old.doc(), 0, old.doc().length) : null;
                Object next = edit.apply(current);
                if (!(next instanceof Map<?, ?>)) {
                    throw new StateRefusal(
                            StateRefusal.Kind.NOT_AN_OBJECT, "a state document must stay a JSON object", null);
                }
                doc = JsonTree.write(next);
                if (doc.length > docBytesMax) {
                    throw new StateRefusal(
                            StateRefusal.Kind.TOO_LARGE,
                            "the document would be " + doc.length + " bytes; state.doc_bytes_max is " + docBytesMax,
                            null);
                }
            }
            long version = old == null ? 1 : old.version() + 1;
            // Refuse before logging: a change the store cannot take must not reach the log either.
            store.checkRoom(new StateDoc(ns, id, version, 0, nodeId, 0, edit == null, doc));
            byte[] event = changeEvent(ns, id, version, edit == null ? "delete" : "put", doc);
            // State changes ride the high lane: retention never drops them unsynced.
            AppendResult r = log.append(Lane.HIGH, List.of(new EventDraft(STREAM, null, null, 0, 1, null, event)));
            long[] history = old == null ? new long[0] : old.historyForNext(historyMax);
            StateDoc next =
                    new StateDoc(ns, id, version, r.firstHlc(), nodeId, r.firstSeq(), edit == null, doc, history);
            store.put(next);
            return new Change(next, !live, r.durable());
        }
    }

    /** What became of a change pulled from the hub. */
    public enum RemoteOutcome {
        /** It was newer (HLC, then node id): it is now the current version. */
        APPLIED,
        /** The current version is newer: the change is kept in the history as lost, and counted. */
        LOST
    }

    /**
     * Applies a change made elsewhere (pulled from the hub): last writer wins by HLC, ties broken by
     * the higher origin node id. The loser is never silently dropped: a losing remote change is
     * logged and listed in the document's history with {@code lost: true}; a local version that a
     * remote change replaces stays in the history as the previous version.
     *
     * @param hlc when the change was made, on its origin's clock
     */
    public RemoteOutcome applyRemote(String ns, String id, boolean delete, byte[] doc, long hlc, String origin) {
        StateNames.check(ns, id);
        Object tree = delete ? null : parseDoc(doc);
        byte[] canonical = delete ? new byte[0] : JsonTree.write(tree);
        synchronized (lock) {
            StateDoc cur = store.get(ns, id);
            boolean remoteWins = cur == null
                    || hlc > cur.updatedAt()
                    || (hlc == cur.updatedAt() && origin.compareTo(cur.origin()) > 0);
            if (!remoteWins) {
                if (hlc == cur.updatedAt() && origin.equals(cur.origin())) {
                    return RemoteOutcome.LOST; // the same change again (a replayed pull): nothing to keep
                }
                byte[] event =
                        changeEvent(ns, id, cur.version(), delete ? "delete" : "put", canonical, origin, hlc, true);
                AppendResult r = log.append(Lane.HIGH, List.of(new EventDraft(STREAM, null, null, 0, 1, null, event)));
                store.put(withLost(cur, r.firstSeq()));
                conflictsLost.increment();
                LOG.info(
                        "state {}/{}: a change from {} at {} lost to version {} from {} at {} (kept in history)",
                        ns,
                        id,
                        origin,
                        hlc,
                        cur.version(),
                        cur.origin(),
                        cur.updatedAt());
                return RemoteOutcome.LOST;
            }
            long version = cur == null ? 1 : cur.version() + 1;
            store.checkRoom(new StateDoc(ns, id, version, 0, origin, 0, delete, canonical));
            byte[] event = changeEvent(ns, id, version, delete ? "delete" : "put", canonical, origin, hlc, false);
            AppendResult r = log.append(Lane.HIGH, List.of(new EventDraft(STREAM, null, null, 0, 1, null, event)));
            long[] history = cur == null ? new long[0] : cur.historyForNext(historyMax);
            store.put(new StateDoc(ns, id, version, hlc, origin, r.firstSeq(), delete, canonical, history));
            if (cur != null && !cur.origin().equals(origin) && cur.origin().equals(nodeId)) {
                conflictsReplaced.increment(); // a local version lost to a newer one from elsewhere
            }
            return RemoteOutcome.APPLIED;
        }
    }

    /** {@code cur} with a lost change's log sequence at the head of its history. */
    private StateDoc withLost(StateDoc cur, long lostSeq) {
        long[] h = cur.history();
        int n = Math.min(Math.max(historyMax, 1), h.length + 1);
        long[] next = new long[n];
        next[0] = lostSeq;
        System.arraycopy(h, 0, next, 1, n - 1);
        return new StateDoc(
                cur.namespace(),
                cur.id(),
                cur.version(),
                cur.updatedAt(),
                cur.origin(),
                cur.logSeq(),
                cur.deleted(),
                cur.doc(),
                next);
    }

    private byte[] changeEvent(String ns, String id, long version, String op, byte[] doc) {
        return changeEvent(ns, id, version, op, doc, nodeId, 0, false);
    }

    /** The state event; {@code hlc} 0 means "the event's own ingest time" (a local change). */
    private byte[] changeEvent(
            String ns, String id, long version, String op, byte[] doc, String origin, long hlc, boolean lost) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(doc.length + 160);
        try (JsonGenerator g = JSON.createGenerator(b)) {
            g.writeStartObject();
            g.writeStringField("stream", STREAM);
            g.writeStringField("key", ns + "/" + id);
            g.writeObjectFieldStart("data");
            g.writeStringField("namespace", ns);
            g.writeStringField("id", id);
            g.writeNumberField("version", version);
            g.writeStringField("op", op);
            g.writeStringField("origin", origin);
            if (hlc != 0) {
                g.writeNumberField("hlc", hlc);
            }
            if (lost) {
                g.writeBooleanField("lost", true);
            }
            g.writeFieldName("doc");
            if (doc.length == 0) {
                g.writeNull();
            } else {
                g.writeRawValue(new String(doc, StandardCharsets.UTF_8)); // checked JSON (validate)
            }
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot fail
        }
        return b.toByteArray();
    }

    /**
     * One entry of a document's history.
     *
     * @param version the version
     * @param deleted true if this version is the delete
     * @param hlc when it was made
     * @param origin the node that made it
     * @param seq its state event's log sequence
     * @param doc the document at that version (empty for a delete)
     */
    public record HistoryEntry(
            long version, boolean deleted, long hlc, String origin, long seq, byte[] doc, boolean lost) {}

    /**
     * The document's last changes, newest first: the current version, then the previous ones read
     * back from the event log (at most state.history_max; versions whose log cycle retention has
     * deleted are left out). Null if the document never existed (or its tombstone was compacted).
     */
    public List<HistoryEntry> history(String namespace, String id, int limit) {
        StateNames.check(namespace, id);
        StateDoc d = store.get(namespace, id);
        if (d == null) {
            return null;
        }
        List<HistoryEntry> out = new java.util.ArrayList<>();
        out.add(new HistoryEntry(d.version(), d.deleted(), d.updatedAt(), d.origin(), d.logSeq(), d.doc(), false));
        for (long seq : d.history()) {
            if (out.size() >= limit) {
                break;
            }
            try (EventCursor c = log.cursorFromSeq(seq)) {
                RecordView v = new RecordView();
                if (!c.next(v) || v.seq() != seq) {
                    break; // retired by retention: older entries are gone too
                }
                Map<?, ?> data = (Map<?, ?>)
                        ((Map<?, ?>) JsonTree.parseStored(v.payloadArray(), v.payloadOffset(), v.payloadLength()))
                                .get("data");
                boolean deleted = "delete".equals(data.get("op"));
                out.add(new HistoryEntry(
                        ((Number) data.get("version")).longValue(),
                        deleted,
                        data.get("hlc") instanceof Number h ? h.longValue() : v.hlc(),
                        (String) data.get("origin"),
                        seq,
                        deleted ? new byte[0] : JsonTree.write(data.get("doc")),
                        Boolean.TRUE.equals(data.get("lost"))));
            }
        }
        return out;
    }

    /**
     * Removes tombstones last changed before {@code beforeHlc} (at most {@code max} per call); returns how many. The
     * delete stays in the event log, so sync already has it.
     */
    public int compactTombstones(long beforeHlc, int max) {
        int removed = 0;
        for (StateDoc t : store.tombstonesBefore(beforeHlc, max)) {
            synchronized (lock) {
                StateDoc now = store.get(t.namespace(), t.id());
                if (now != null
                        && now.deleted()
                        && now.version() == t.version()
                        && store.remove(t.namespace(), t.id())) {
                    removed++;
                }
            }
        }
        if (removed > 0) {
            LOG.info("compacted {} state tombstones older than the tombstone TTL", removed);
        }
        return removed;
    }

    /** Replays state events logged after the store's last applied sequence. */
    public int recover() {
        long from = store.maxLogSeq() + 1;
        if (from > log.lastSeq()) {
            return 0;
        }
        byte[] stream = STREAM.getBytes(StandardCharsets.UTF_8);
        int applied = 0;
        try (EventCursor c = log.cursorFromSeq(from)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                if (!v.streamEquals(stream)) {
                    continue;
                }
                Map<?, ?> e = (Map<?, ?>) JsonTree.parseStored(v.payloadArray(), v.payloadOffset(), v.payloadLength());
                Map<?, ?> data = (Map<?, ?>) e.get("data");
                String ns = (String) data.get("namespace");
                String id = (String) data.get("id");
                long version = ((Number) data.get("version")).longValue();
                boolean deleted = "delete".equals(data.get("op"));
                StateDoc cur = store.get(ns, id);
                if (cur != null && cur.logSeq() >= v.seq()) {
                    continue;
                }
                if (Boolean.TRUE.equals(data.get("lost"))) {
                    if (cur != null && (cur.history().length == 0 || cur.history()[0] != v.seq())) {
                        store.put(withLost(cur, v.seq()));
                        applied++;
                    }
                    continue;
                }
                long hlc = data.get("hlc") instanceof Number h ? h.longValue() : v.hlc();
                byte[] doc = deleted ? new byte[0] : JsonTree.write(data.get("doc"));
                try {
                    long[] history = cur == null ? new long[0] : cur.historyForNext(historyMax);
                    store.put(new StateDoc(
                            ns, id, version, hlc, (String) data.get("origin"), v.seq(), deleted, doc, history));
                    applied++;
                } catch (dev.outpost.store.StateStoreFullException full) {
                    LOG.atError()
                            .addKeyValue(LogFields.ADVICE, "raise state.documents_max; replayed at the next start")
                            .log(
                                    "state change {}/{} v{} at seq {} not replayed: {}",
                                    ns,
                                    id,
                                    version,
                                    v.seq(),
                                    full.getMessage());
                }
            }
        }
        LOG.info("state recovery: replayed {} state changes logged after seq {}", applied, from - 1);
        return applied;
    }

    private Object parseDoc(byte[] json) {
        if (json.length > docBytesMax) {
            throw new StateRefusal(
                    StateRefusal.Kind.TOO_LARGE,
                    "the document is " + json.length + " bytes; state.doc_bytes_max is " + docBytesMax,
                    null);
        }
        Object tree;
        try {
            tree = JsonTree.parse(json, 0, json.length);
        } catch (RuntimeException e) {
            throw new StateRefusal(StateRefusal.Kind.INVALID_DOCUMENT, "malformed JSON: " + e.getMessage(), null);
        }
        if (!(tree instanceof Map<?, ?>)) {
            throw new StateRefusal(StateRefusal.Kind.INVALID_DOCUMENT, "a state document must be a JSON object", null);
        }
        return tree;
    }
}

package dev.outpost.edge.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.ChronicleStateStore;
import dev.outpost.store.EventDraft;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogOptions;
import dev.outpost.store.StateDoc;
import dev.outpost.store.json.JsonPatch;
import dev.outpost.store.json.JsonTree;
import dev.outpost.store.json.MergePatch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * StateService on a real event log and a real Chronicle Map state store in a temp directory:
 * preconditions, patches, tombstones, listing, history, last-writer-wins for pulled changes, and
 * recovery by replay; plus a model-based run against a plain in-memory reference.
 */
class StateServiceTest {
    static final String NODE = "node-m";
    static final int HISTORY_MAX = 3;
    static final long DOC_BYTES_MAX = 4096;

    @TempDir
    Path dir;

    LanedEventLog log;
    ChronicleStateStore store;
    StateService state;

    @BeforeEach
    void open() {
        log = LanedEventLog.open(LogOptions.defaults(dir.resolve("data")), HybridClock.system());
        store = openStore("state.cm3");
        state = new StateService(store, log, NODE, DOC_BYTES_MAX, HISTORY_MAX);
    }

    ChronicleStateStore openStore(String file) {
        return ChronicleStateStore.open(dir.resolve("state").resolve(file), 1000, 256);
    }

    @AfterEach
    void close() {
        store.close();
        log.close();
    }

    /** Why a change was refused (the HTTP layer maps the kind to a status). */
    static StateRefusal.Kind refusal(Executable change) {
        return assertThrows(StateRefusal.class, change).kind();
    }

    static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Object tree(String s) {
        byte[] b = json(s);
        return JsonTree.parse(b, 0, b.length);
    }

    static Object tree(byte[] b) {
        return JsonTree.parse(b, 0, b.length);
    }

    static StateService.Precondition ifMatch(long version) {
        return new StateService.Precondition(version, false, false);
    }

    static final StateService.Precondition IF_MATCH_ANY = new StateService.Precondition(null, true, false);
    static final StateService.Precondition IF_NONE_MATCH_ANY = new StateService.Precondition(null, false, true);
    static final StateService.Precondition NONE = StateService.Precondition.NONE;

    @Test
    void putCreatesThenVersionsAndPreconditionsRefuseWithoutLogging() {
        StateService.Change c = state.put("ns", "d", json("{\"a\":1}"), IF_NONE_MATCH_ANY);
        assertTrue(c.created());
        assertEquals(1, c.doc().version());
        assertEquals(NODE, c.doc().origin());
        assertEquals(c.doc().logSeq(), log.lastSeq(), "the change is an event in the log");

        long seq = log.lastSeq();
        assertEquals(
                StateRefusal.Kind.PRECONDITION_FAILED,
                refusal(() -> state.put("ns", "d", json("{\"a\":2}"), IF_NONE_MATCH_ANY)));
        assertEquals(
                StateRefusal.Kind.PRECONDITION_FAILED,
                refusal(() -> state.put("ns", "d", json("{\"a\":2}"), ifMatch(7))));
        assertEquals(
                StateRefusal.Kind.PRECONDITION_FAILED,
                refusal(() -> state.put("ns", "absent", json("{}"), IF_MATCH_ANY)));
        assertEquals(
                StateRefusal.Kind.PRECONDITION_FAILED,
                refusal(() -> state.put("ns", "absent", json("{}"), ifMatch(1))));
        assertEquals(seq, log.lastSeq(), "a refused change is not logged");
        assertEquals(1, state.get("ns", "d").version());

        StateService.Change c2 = state.put("ns", "d", json("{\"a\":2}"), ifMatch(1));
        assertFalse(c2.created());
        assertEquals(2, c2.doc().version());
        assertEquals(
                3, state.put("ns", "d", json("{\"a\":3}"), IF_MATCH_ANY).doc().version());
        assertEquals(4, state.put("ns", "d", json("{\"a\":4}"), NONE).doc().version());
        assertTrue(JsonTree.equal(tree("{\"a\":4}"), tree(state.get("ns", "d").doc())));
    }

    @Test
    void badInputIsRefusedNamingWhatIsWrongAndNothingIsStored() {
        long seq = log.lastSeq();
        assertEquals(
                StateRefusal.Kind.INVALID_DOCUMENT,
                refusal(() -> state.put("ns", "d", json("[1,2]"), NONE)),
                "not an object");
        assertEquals(
                StateRefusal.Kind.INVALID_DOCUMENT,
                refusal(() -> state.put("ns", "d", json("{\"a\":"), NONE)),
                "malformed");
        assertEquals(StateRefusal.Kind.INVALID_NAMESPACE, refusal(() -> state.put("bad ns", "d", json("{}"), NONE)));
        assertEquals(StateRefusal.Kind.INVALID_ID, refusal(() -> state.put("ns", "bad/id", json("{}"), NONE)));
        assertEquals(
                StateRefusal.Kind.INVALID_ID,
                refusal(() -> state.put("ns", "x".repeat(StateService.ID_CHARS_MAX + 1), json("{}"), NONE)));
        String big = "{\"pad\":\"" + "x".repeat((int) DOC_BYTES_MAX) + "\"}";
        assertEquals(StateRefusal.Kind.TOO_LARGE, refusal(() -> state.put("ns", "d", json(big), NONE)));
        assertEquals(seq, log.lastSeq());
        assertNull(state.get("ns", "d"));
    }

    @Test
    void mergePatchAndJsonPatchApplyToTheCurrentVersionOrChangeNothing() {
        assertEquals(
                StateRefusal.Kind.NOT_FOUND,
                refusal(() -> state.patch("ns", "d", c -> MergePatch.apply(c, tree("{}")), NONE)));
        state.put("ns", "d", json("{\"a\":1,\"b\":{\"c\":2}}"), NONE);

        state.patch("ns", "d", c -> MergePatch.apply(c, tree("{\"a\":null,\"b\":{\"d\":3}}")), ifMatch(1));
        assertTrue(JsonTree.equal(
                tree("{\"b\":{\"c\":2,\"d\":3}}"), tree(state.get("ns", "d").doc())));

        Object ops =
                tree("[{\"op\":\"test\",\"path\":\"/b/c\",\"value\":2},{\"op\":\"add\",\"path\":\"/e\",\"value\":[1]},"
                        + "{\"op\":\"remove\",\"path\":\"/b/d\"}]");
        StateService.Change c = state.patch("ns", "d", cur -> JsonPatch.apply(cur, ops), ifMatch(2));
        assertEquals(3, c.doc().version());
        assertTrue(JsonTree.equal(
                tree("{\"b\":{\"c\":2},\"e\":[1]}"), tree(state.get("ns", "d").doc())));

        long seq = log.lastSeq();
        Object failing =
                tree("[{\"op\":\"add\",\"path\":\"/f\",\"value\":1},{\"op\":\"test\",\"path\":\"/b/c\",\"value\":9}]");
        assertThrows(RuntimeException.class, () -> state.patch("ns", "d", cur -> JsonPatch.apply(cur, failing), NONE));
        assertEquals(
                StateRefusal.Kind.NOT_AN_OBJECT,
                refusal(() -> state.patch("ns", "d", cur -> MergePatch.apply(cur, "text"), NONE)));
        UnaryOperator<Object> grow = cur -> MergePatch.apply(cur, tree("{\"pad\":\"" + "y".repeat(5000) + "\"}"));
        assertEquals(StateRefusal.Kind.TOO_LARGE, refusal(() -> state.patch("ns", "d", grow, NONE)));
        assertEquals(
                StateRefusal.Kind.PRECONDITION_FAILED, refusal(() -> state.patch("ns", "d", cur -> cur, ifMatch(2))));
        assertEquals(seq, log.lastSeq(), "a failed patch changes nothing");
        assertEquals(3, state.get("ns", "d").version());
    }

    @Test
    void deleteLeavesATombstoneThatCompactionRemoves() {
        assertEquals(StateRefusal.Kind.NOT_FOUND, refusal(() -> state.delete("ns", "d", NONE)));
        state.put("ns", "d", json("{\"v\":1}"), NONE);
        StateService.Change del = state.delete("ns", "d", ifMatch(1));
        assertTrue(del.doc().deleted());
        assertEquals(2, del.doc().version());
        assertNull(state.get("ns", "d"));
        assertEquals(StateRefusal.Kind.NOT_FOUND, refusal(() -> state.delete("ns", "d", NONE)));
        assertEquals(List.of(), state.list("ns", "", null, 10).docs());
        List<StateService.HistoryEntry> h = state.history("ns", "d", 10);
        assertTrue(h.getFirst().deleted(), "the tombstone heads the history");

        // Re-created over its tombstone: versions go on.
        StateService.Change again = state.put("ns", "d", json("{\"v\":3}"), IF_NONE_MATCH_ANY);
        assertTrue(again.created());
        assertEquals(3, again.doc().version());
        state.delete("ns", "d", NONE);

        // Compaction takes tombstones older than the cutoff only, and only tombstones.
        state.put("ns", "live", json("{}"), NONE);
        assertEquals(0, state.compactTombstones(1, 100), "nothing older than the cutoff");
        assertEquals(1, state.compactTombstones(Long.MAX_VALUE, 100));
        assertNull(state.history("ns", "d", 10), "gone with its tombstone");
        assertNotNull(state.get("ns", "live"));
        StateService.Change fresh = state.put("ns", "d", json("{}"), IF_NONE_MATCH_ANY);
        assertEquals(1, fresh.doc().version(), "the id starts over");
    }

    @Test
    void historyIsNewestFirstFromTheLogUpToHistoryMax() {
        for (int i = 1; i <= 6; i++) {
            state.put("ns", "d", json("{\"i\":" + i + "}"), NONE);
        }
        List<StateService.HistoryEntry> h = state.history("ns", "d", 100);
        assertEquals(HISTORY_MAX + 1, h.size(), "the current version and history_max before it");
        for (int k = 0; k < h.size(); k++) {
            StateService.HistoryEntry e = h.get(k);
            assertEquals(6 - k, e.version());
            assertTrue(JsonTree.equal(tree("{\"i\":" + (6 - k) + "}"), tree(e.doc())), "version " + e.version());
            assertEquals(NODE, e.origin());
            assertFalse(e.lost());
        }
        assertEquals(2, state.history("ns", "d", 2).size(), "the limit");
        assertNull(state.history("ns", "never", 10));
    }

    @Test
    void listPagesByPrefixInIdOrderSkippingTombstones() {
        for (String id : List.of("a-3", "b-1", "a-1", "a-2", "a-4", "a-5")) {
            state.put("ns", id, json("{}"), NONE);
        }
        state.put("other", "a-9", json("{}"), NONE);
        state.delete("ns", "a-2", NONE);
        state.delete("ns", "a-3", NONE);
        assertEquals(List.of("a-1", "a-4"), ids(state.list("ns", "a-", null, 2).docs()));
        assertEquals(List.of("a-5"), ids(state.list("ns", "a-", "a-4", 2).docs()));
        assertEquals(List.of(), ids(state.list("ns", "a-", "a-5", 2).docs()));
        assertEquals(
                List.of("a-1", "a-4", "a-5", "b-1"),
                ids(state.list("ns", null, null, 100).docs()));
    }

    static List<String> ids(List<StateDoc> docs) {
        return docs.stream().map(StateDoc::id).toList();
    }

    @Test
    void pulledChangesResolveByLastWriterWinsWithTiesToTheHigherNode() {
        StateDoc local = state.put("ns", "d", json("{\"by\":\"local\"}"), NONE).doc();
        long t = local.updatedAt();

        // Older than the local version: lost, kept in history, counted, logged.
        long seq = log.lastSeq();
        assertEquals(
                StateService.RemoteOutcome.LOST,
                state.applyRemote("ns", "d", false, json("{\"by\":\"old\"}"), t - 1, "hq"));
        assertEquals(1, state.conflictsLost());
        assertEquals(seq + 1, log.lastSeq(), "the loser is logged");
        assertEquals(1, state.get("ns", "d").version());
        List<StateService.HistoryEntry> h = state.history("ns", "d", 10);
        assertTrue(h.get(1).lost() && h.get(1).origin().equals("hq"), "the loser is in the history");
        assertTrue(JsonTree.equal(tree("{\"by\":\"old\"}"), tree(h.get(1).doc())));
        // Not checked here: the same losing change pulled again is logged and counted again
        // (applyRemote only recognises a replay of the current version).

        // Same time: the higher node id wins ("node-a" < "node-m" < "node-z").
        assertEquals(
                StateService.RemoteOutcome.LOST,
                state.applyRemote("ns", "d", false, json("{\"by\":\"a\"}"), t, "node-a"));
        assertEquals(
                StateService.RemoteOutcome.APPLIED,
                state.applyRemote("ns", "d", false, json("{\"by\":\"z\"}"), t, "node-z"));
        StateDoc now = state.get("ns", "d");
        assertEquals(2, now.version());
        assertEquals("node-z", now.origin());
        assertEquals(t, now.updatedAt(), "the change keeps its origin's time");
        assertEquals(1, state.conflictsReplaced(), "a local version replaced from elsewhere");

        // Newer: applied, the previous version stays in history; a remote delete leaves a tombstone.
        assertEquals(StateService.RemoteOutcome.APPLIED, state.applyRemote("ns", "d", true, null, t + 5, "hq"));
        assertNull(state.get("ns", "d"));
        assertEquals(3, state.history("ns", "d", 10).getFirst().version());
        assertEquals(1, state.conflictsReplaced(), "replacing another node's version is no conflict");
        // A document this node never had.
        assertEquals(
                StateService.RemoteOutcome.APPLIED, state.applyRemote("ns", "new", false, json("{\"x\":1}"), 1, "hq"));
        assertEquals(1, state.get("ns", "new").version());
    }

    @Test
    void recoveryReplaysTheLogIntoAStoreThatMissedChanges() {
        state.put("ns", "a", json("{\"n\":1}"), NONE);
        state.put("ns", "a", json("{\"n\":2}"), NONE);
        state.put("ns", "b", json("{\"n\":1}"), NONE);
        log.append(Lane.NORMAL, List.of(EventDraft.of("sensors", json("{\"t\":1}")))); // not a state event
        state.delete("ns", "b", NONE);
        state.patch("ns", "a", c -> MergePatch.apply(c, tree("{\"m\":true}")), NONE);
        long t = state.get("ns", "a").updatedAt();
        state.applyRemote("ns", "a", false, json("{\"n\":0}"), t - 1, "hq"); // lost
        state.applyRemote("ns", "c", false, json("{\"r\":1}"), 42, "hq");

        // A store that saw none of it (as after a crash between the log append and the store update).
        try (ChronicleStateStore empty = openStore("empty.cm3")) {
            StateService replayed = new StateService(empty, log, NODE, DOC_BYTES_MAX, HISTORY_MAX);
            assertEquals(7, replayed.recover(), "every state change, the lost one included");
            assertEquals(0, replayed.recover(), "replay is idempotent");
            for (String id : List.of("a", "b", "c")) {
                StateDoc want = store.get("ns", id);
                StateDoc got = empty.get("ns", id);
                assertEquals(want.version(), got.version(), id);
                assertEquals(want.deleted(), got.deleted(), id);
                assertEquals(want.logSeq(), got.logSeq(), id);
                assertEquals(want.origin(), got.origin(), id);
                assertEquals(want.updatedAt(), got.updatedAt(), id);
                assertArrayEquals(want.doc(), got.doc(), id);
                assertArrayEquals(want.history(), got.history(), id + ": the history, lost changes included");
            }
            List<StateService.HistoryEntry> want = state.history("ns", "a", 10);
            List<StateService.HistoryEntry> got = replayed.history("ns", "a", 10);
            assertEquals(want.size(), got.size());
            for (int i = 0; i < want.size(); i++) {
                assertEquals(want.get(i).seq(), got.get(i).seq());
                assertEquals(want.get(i).lost(), got.get(i).lost());
                assertArrayEquals(want.get(i).doc(), got.get(i).doc());
            }
        }
    }

    /** The reference: what a document is, in plain Java. */
    record Model(long version, boolean deleted, Map<String, Long> content) {}

    /**
     * Random puts, merge patches and deletes with random preconditions, against an in-memory
     * reference: the same outcome (stored, 404, 412), versions, contents, listings and history heads.
     * Seed printed; -Doutpost.state.seed replays.
     */
    @Test
    void behavesLikeAnInMemoryReferenceOverRandomOperations() {
        long seed = Long.getLong("outpost.state.seed", System.nanoTime());
        Random rnd = new Random(seed);
        TreeMap<String, Model> model = new TreeMap<>();
        List<String> idPool = List.of("a1", "a2", "a3", "b1", "b2", "c");
        for (int step = 0; step < 400; step++) {
            String id = idPool.get(rnd.nextInt(idPool.size()));
            String where = "seed " + seed + " step " + step + " id " + id;
            Model cur = model.get(id);
            boolean live = cur != null && !cur.deleted();
            StateService.Precondition pre = switch (rnd.nextInt(5)) {
                case 0 -> IF_NONE_MATCH_ANY;
                case 1 -> IF_MATCH_ANY;
                case 2 -> ifMatch(cur == null ? 1 : cur.version() + (rnd.nextInt(4) == 0 ? 1 : 0));
                default -> NONE;
            };
            int op = rnd.nextInt(10);
            boolean mustExist = op >= 5;
            StateRefusal.Kind expected = mustExist && !live
                    ? StateRefusal.Kind.NOT_FOUND
                    : preconditionFails(pre, cur) ? StateRefusal.Kind.PRECONDITION_FAILED : null;
            Map<String, Long> next = live ? new TreeMap<>(cur.content()) : new TreeMap<>();
            Executable change;
            if (op < 5) {
                next = new TreeMap<>();
                for (int k = rnd.nextInt(3); k > 0; k--) {
                    next.put("k" + rnd.nextInt(3), (long) rnd.nextInt(100));
                }
                byte[] body = JsonTree.write(next);
                change = () -> state.put("m", id, body, pre);
            } else if (op < 8) {
                String key = "k" + rnd.nextInt(3);
                Long value = rnd.nextBoolean() ? null : Long.valueOf(rnd.nextInt(100));
                if (value == null) {
                    next.remove(key);
                } else {
                    next.put(key, value);
                }
                Object patch = tree("{\"" + key + "\":" + value + "}");
                change = () -> state.patch("m", id, c -> MergePatch.apply(c, patch), pre);
            } else {
                change = () -> state.delete("m", id, pre);
            }
            if (expected != null) {
                assertEquals(expected, refusal(change), where);
            } else {
                try {
                    change.execute();
                } catch (Throwable e) {
                    throw new AssertionError(where, e);
                }
                model.put(id, new Model(cur == null ? 1 : cur.version() + 1, op >= 8, op >= 8 ? Map.of() : next));
            }
            check(model, id, where);
            if (step % 100 == 99) {
                for (String any : model.keySet()) {
                    check(model, any, where);
                }
            }
        }
        System.out.println("StateServiceTest model run, seed " + seed + ": " + model);
    }

    static boolean preconditionFails(StateService.Precondition pre, Model cur) {
        boolean live = cur != null && !cur.deleted();
        return pre.ifNoneMatchAny() && live
                || pre.ifMatchAny() && !live
                || pre.ifMatchVersion() != null && (!live || cur.version() != pre.ifMatchVersion());
    }

    /** Every document's version and content, the listing, and {@code id}'s history agree with the model. */
    void check(TreeMap<String, Model> model, String id, String where) {
        TreeSet<String> liveIds = new TreeSet<>();
        for (Map.Entry<String, Model> e : model.entrySet()) {
            Model m = e.getValue();
            StateDoc d = state.get("m", e.getKey());
            if (m.deleted()) {
                assertNull(d, where);
            } else {
                liveIds.add(e.getKey());
                assertNotNull(d, where);
                assertEquals(m.version(), d.version(), where);
                assertTrue(JsonTree.equal(tree(JsonTree.write(m.content())), tree(d.doc())), where);
            }
            if (!e.getKey().equals(id)) {
                continue; // histories are read from the log: the changed document's each step, all now and then
            }
            List<StateService.HistoryEntry> h = state.history("m", e.getKey(), 100);
            assertEquals(m.version(), h.getFirst().version(), where);
            assertEquals(Math.min(m.version(), HISTORY_MAX + 1), h.size(), where);
            for (int k = 1; k < h.size(); k++) {
                assertEquals(h.get(k - 1).version() - 1, h.get(k).version(), where + ": consecutive versions");
            }
        }
        List<String> paged = new ArrayList<>();
        String after = null;
        for (List<StateDoc> page; !(page = state.list("m", "a", after, 2).docs()).isEmpty(); ) {
            paged.addAll(ids(page));
            after = page.getLast().id();
        }
        assertEquals(liveIds.stream().filter(i -> i.startsWith("a")).toList(), paged, where + ": list by prefix");
    }
}

package dev.outpost.edge.engine.rollup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.EventDraft;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub's rollup windows on real SQLite files: windows come from two real node rollups (their final windows as
 * emitted), are upserted idempotently, answered per node as the node answers, merged across nodes exactly as one
 * rollup over all the raw events answers, pruned after the retention, and bad parameters are refused by name.
 */
class HubRollupsTest {
    static final long MINUTE = 60_000L;
    static final long HOUR = 60 * MINUTE;
    static final long T0 = TestEvent.BASE_MILLIS;
    static final long RETENTION = 24 * HOUR;

    static final RollupSpec SPEC = RollupsTest.spec("by_source", """
            stream: traffic
            group_by: [source_ip]
            window: 1m
            aggregates: [count, sum(bytes), min(bytes), max(bytes), mean(bytes), quantiles(bytes)]
            allowed_lateness: 10s
            """);

    @TempDir
    Path dir;

    long hubNow = T0;
    Rollups nodeA;
    Rollups nodeB;
    Rollups reference; // one rollup that saw every event of both nodes
    FleetRollups hub;
    List<Rollups> closing = new ArrayList<>();

    Rollups rollups(String name) {
        Rollups r = Rollups.open(dir.resolve(name + ".db"), () -> T0, Limits.DEFAULT);
        r.define(List.of(SPEC), 0);
        closing.add(r);
        return r;
    }

    FleetRollups openHub() {
        return FleetRollups.open(dir.resolve("hub-rollups.db"), RETENTION, () -> hubNow);
    }

    @BeforeEach
    void feed() {
        nodeA = rollups("a");
        nodeB = rollups("b");
        reference = rollups("all");
        List<TestEvent> events = TestEvent.traffic(7, 3_000, 6, 30 * MINUTE, 0);
        for (TestEvent e : events) {
            (e.seq() % 3 == 0 ? nodeB : nodeA)
                    .apply(e.seq(), e.ingestMillis(), e.stream(), e.json(), 0, e.json().length);
            e.applyTo(reference);
        }
        long end = T0 + 2 * HOUR; // one late-coming event on each closes every window of the data
        for (Rollups r : List.of(nodeA, nodeB, reference)) {
            TestEvent close = new TestEvent(10_000, end, "traffic", null, end, Map.of("source_ip", "closer"));
            close.applyTo(r);
            r.flush();
        }
        hub = openHub();
    }

    @AfterEach
    void close() {
        closing.forEach(Rollups::close);
        if (hub != null) {
            hub.close();
        }
    }

    /** The final windows a node emits, as the hub parses them from the events, at node seqs from {@code firstSeq}. */
    static List<FleetRollups.Received> emitted(Rollups node, long firstSeq) {
        List<EventDraft> drafts = new ArrayList<>();
        node.emitFinal(drafts::addAll, TimeUnit.SECONDS.toNanos(10));
        List<FleetRollups.Received> out = new ArrayList<>();
        for (EventDraft d : drafts) {
            out.add(new FleetRollups.Received(
                    firstSeq + out.size(), FinalWindow.parse(d.payload(), 0, d.payload().length)));
        }
        return out;
    }

    /** Every row of a hub answer, page by page. */
    List<Row> hubRows(String node, Map<String, String> filters, int limit) {
        List<Row> all = new ArrayList<>();
        String cursor = null;
        do {
            FleetRollups.Answer a = hub.query(node, "by_source", 0, T0 + HOUR, filters, limit, cursor);
            all.addAll(a.page().rows());
            cursor = a.page().nextCursor();
        } while (cursor != null);
        return all;
    }

    static List<Row> nodeRows(Rollups r, Map<String, String> filters) {
        return RollupsTest.rows(r, "by_source", filters, 10_000).stream()
                .filter(row -> row.windowStartMillis() < T0 + HOUR)
                .toList();
    }

    static void assertSameRows(List<Row> expected, List<Row> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            Row e = expected.get(i);
            Row a = actual.get(i);
            assertEquals(e.windowStartMillis(), a.windowStartMillis());
            assertEquals(e.windowEndMillis(), a.windowEndMillis());
            assertEquals(e.group(), a.group());
            assertEquals(e.values(), a.values(), "window " + e.windowStartMillis() + " group " + e.group());
        }
    }

    @Test
    void mergedAcrossTwoNodesEqualsOneRollupOverAllTheRawEventsPageByPage() {
        hub.upsert("a", emitted(nodeA, 1_000));
        hub.upsert("b", emitted(nodeB, 1_000));
        List<Row> expected = nodeRows(reference, Map.of());
        assertTrue(expected.size() > 100, "rows: " + expected.size());
        assertSameRows(expected, hubRows(null, Map.of(), 10_000));
        assertSameRows(expected, hubRows(null, Map.of(), 7)); // pages cut anywhere merge the same
        assertSameRows(
                nodeRows(reference, Map.of("source_ip", "10.0.0.3")),
                hubRows(null, Map.of("source_ip", "10.0.0.3"), 5));
        FleetRollups.Answer a = hub.query(null, "by_source", 0, T0 + HOUR, Map.of(), 10, null);
        assertEquals(List.of("a", "b"), a.nodes());
        assertEquals(SPEC, a.spec());
    }

    @Test
    void aMergedPageReadsABoundedNumberOfRowsAndStillMergesEverything() {
        hub.close();
        hub = FleetRollups.open(dir.resolve("hub-rollups.db"), RETENTION, () -> hubNow, 20); // 10 rows a node
        hub.upsert("a", emitted(nodeA, 1_000));
        hub.upsert("b", emitted(nodeB, 1_000));
        FleetRollups.Answer first = hub.query(null, "by_source", 0, T0 + HOUR, Map.of(), 10_000, null);
        assertTrue(first.page().rows().size() <= 10 && first.page().nextCursor() != null);
        assertSameRows(nodeRows(reference, Map.of()), hubRows(null, Map.of(), 10_000));
        assertSameRows(nodeRows(reference, Map.of()), hubRows(null, Map.of(), 3));
    }

    @Test
    void nodeFilterAnswersOneNodesWindowsAsTheNodeDoes() {
        hub.upsert("a", emitted(nodeA, 1_000));
        hub.upsert("b", emitted(nodeB, 1_000));
        assertSameRows(nodeRows(nodeA, Map.of()), hubRows("a", Map.of(), 10_000));
        assertSameRows(nodeRows(nodeB, Map.of()), hubRows("b", Map.of(), 13));
        long countB = hubRows("b", Map.of(), 10_000).stream()
                .mapToLong(r -> (Long) r.values().get("count"))
                .sum();
        long countAll = hubRows(null, Map.of(), 10_000).stream()
                .mapToLong(r -> (Long) r.values().get("count"))
                .sum();
        assertTrue(countB > 0 && countB < countAll, countB + " of " + countAll);
    }

    @Test
    void upsertIsIdempotentAcrossResendsAndARestartOfTheHub() {
        List<FleetRollups.Received> a = emitted(nodeA, 1_000);
        List<FleetRollups.Received> b = emitted(nodeB, 1_000);
        hub.upsert("a", a);
        hub.upsert("b", b);
        hub.upsert("a", a); // a node killed before marking sends its windows again
        hub.upsert("b", b.subList(0, b.size() / 2));
        hub.close();
        hub = openHub();
        hub.upsert("b", b);
        assertSameRows(nodeRows(reference, Map.of()), hubRows(null, Map.of(), 10_000));
    }

    @Test
    void anOlderCopyArrivingAfterANewerOneChangesNothing() {
        List<FleetRollups.Received> newer = emitted(nodeA, 2_000);
        hub.upsert("a", newer);
        // Older versions of the same windows (other content: the reference saw more events), sent earlier by the
        // node but arriving later (sync sends the newest first after an outage).
        Set<String> keys = new HashSet<>();
        newer.forEach(r -> keys.add(r.window().windowStart() + r.window().groupKey()));
        List<FleetRollups.Received> older = emitted(reference, 1).stream()
                .filter(r -> keys.contains(r.window().windowStart() + r.window().groupKey()))
                .toList();
        assertTrue(older.size() > 50, "older: " + older.size());
        hub.upsert("a", older);
        assertSameRows(nodeRows(nodeA, Map.of()), hubRows("a", Map.of(), 10_000));
        // The same copies from later events (a higher seq) do replace them: the guard is the seq alone.
        hub.upsert(
                "a",
                older.stream()
                        .map(r -> new FleetRollups.Received(r.nodeSeq() + 10_000, r.window()))
                        .toList());
        assertSameRows(nodeRows(reference, Map.of()), hubRows("a", Map.of(), 10_000));
    }

    @Test
    void retentionPrunesWindowsThatEndedLongerAgoThanItKeepsThem() {
        hub.upsert("a", emitted(nodeA, 1_000));
        int rows = hubRows("a", Map.of(), 10_000).size();
        hubNow = T0 + 10 * MINUTE + RETENTION; // windows that ended before T0 + 10 min are past the retention
        int deleted = hub.prune();
        List<Row> left = hubRows("a", Map.of(), 10_000);
        assertEquals(rows, deleted + left.size());
        assertTrue(deleted > 0 && !left.isEmpty(), deleted + " deleted, " + left.size() + " left");
        assertTrue(left.stream().allMatch(r -> r.windowEndMillis() > T0 + 10 * MINUTE));
        hubNow = T0 + 3 * HOUR + RETENTION;
        hub.prune();
        assertEquals(0, hubRows(null, Map.of(), 10_000).size());
    }

    @Test
    void unknownRollupsAndNodesAreNotFoundAndBadParametersAreNamed() {
        hub.upsert("a", emitted(nodeA, 1_000));
        RollupRefusal r =
                assertThrows(RollupRefusal.class, () -> hub.query(null, "nope", 0, Long.MAX_VALUE, Map.of(), 10, null));
        assertEquals(RollupRefusal.Kind.NOT_FOUND, r.kind());
        r = assertThrows(RollupRefusal.class, () -> hub.query("b", "by_source", 0, Long.MAX_VALUE, Map.of(), 10, null));
        assertEquals(RollupRefusal.Kind.NOT_FOUND, r.kind());
        r = assertThrows(
                RollupRefusal.class,
                () -> hub.query(null, "by_source", 0, Long.MAX_VALUE, Map.of("protocol", "TCP"), 10, null));
        assertEquals("protocol", r.field());
        r = assertThrows(RollupRefusal.class, () -> hub.query(null, "by_source", 0, Long.MAX_VALUE, Map.of(), 0, null));
        assertEquals("limit", r.field());
        r = assertThrows(
                RollupRefusal.class, () -> hub.query("a", "by_source", 0, Long.MAX_VALUE, Map.of(), 10, "%%%"));
        assertEquals("cursor", r.field());
        assertNull(hub.query("a", "by_source", 0, 1, Map.of(), 10, null).page().nextCursor());
    }

    @Test
    void aChangedDefinitionReplacesTheNodesWindowsAndIsNotMergedWithOthers() {
        hub.upsert("a", emitted(nodeA, 1_000));
        List<FleetRollups.Received> oldB = emitted(nodeB, 1_000);
        hub.upsert("b", oldB);
        RollupSpec wider = RollupsTest.spec("by_source", """
                stream: traffic
                group_by: [source_ip]
                window: 5m
                aggregates: [count]
                """);
        Rollups b2 = Rollups.open(dir.resolve("b2.db"), () -> T0, Limits.DEFAULT);
        closing.add(b2);
        b2.define(List.of(wider), 0);
        for (TestEvent e : TestEvent.traffic(7, 300, 6, 30 * MINUTE, 0)) {
            e.applyTo(b2);
        }
        new TestEvent(10_000, T0 + 2 * HOUR, "traffic", null, T0 + 2 * HOUR, Map.of()).applyTo(b2);
        b2.flush();
        hubNow = T0 + 1;
        hub.upsert("b", emitted(b2, 5_000));
        FleetRollups.Answer merged = hub.query(null, "by_source", 0, T0 + HOUR, Map.of(), 10_000, null);
        assertEquals(wider, merged.spec()); // the newest declaration
        assertEquals(List.of("b"), merged.nodes());
        assertEquals(List.of("a"), merged.otherDefinitions());
        assertTrue(merged.page().rows().stream()
                .allMatch(row -> row.windowEndMillis() - row.windowStartMillis() == 5 * MINUTE));
        // Windows of the replaced declaration resent after it are skipped, and change nothing.
        assertEquals(oldB.size(), hub.upsert("b", oldB));
        FleetRollups.Answer again = hub.query(null, "by_source", 0, T0 + HOUR, Map.of(), 10_000, null);
        assertEquals(wider, again.spec());
        assertEquals(merged.page().rows().size(), again.page().rows().size());
    }
}

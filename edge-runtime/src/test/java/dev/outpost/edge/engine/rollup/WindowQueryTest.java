package dev.outpost.edge.engine.rollup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Query pages: order, cursors, time bounds, filters on some or all group-by fields, the scan cap, refusals. */
class WindowQueryTest {
    static final RollupSpec TWO = RollupsTest.spec("two", """
            {stream: traffic, group_by: [source_ip, /key], window: 1m, aggregates: [count, sum(bytes), p90(bytes)]}
            """);
    static final RollupSpec NONE = RollupsTest.spec("none", "{stream: traffic, window: 5m, aggregates: [count]}");

    @TempDir
    Path dir;

    Rollups rollups;
    List<TestEvent> log;

    @BeforeEach
    void fill() {
        rollups = Rollups.open(dir.resolve("r.db"), () -> 0L, Limits.DEFAULT);
        rollups.define(List.of(TWO, NONE));
        log = TestEvent.traffic(21, 3_000, 5, 30 * RollupsTest.MINUTE, 0);
        log.forEach(e -> e.applyTo(rollups));
        rollups.flush();
    }

    @AfterEach
    void close() {
        rollups.close();
    }

    ReferenceRollup reference(RollupSpec spec, Map<String, String> filter, long from, long to) {
        ReferenceRollup ref = ReferenceRollup.of(spec, log);
        ref.cells
                .values()
                .removeIf(c -> c.window < from
                        || c.window >= to
                        || (filter.containsKey("source_ip")
                                && !filter.get("source_ip").equals(c.group.get(0)))
                        || (filter.containsKey("/key") && !filter.get("/key").equals(c.group.get(1))));
        return ref;
    }

    List<Row> all(String name, long from, long to, Map<String, String> filter, int limit) {
        List<Row> rows = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Page p = rollups.query(name, from, to, filter, limit, cursor);
            assertTrue(p.rows().size() <= limit);
            rows.addAll(p.rows());
            cursor = p.nextCursor();
            assertTrue(++pages < 10_000, "the cursor must advance");
        } while (cursor != null);
        return rows;
    }

    @Test
    void pagesWithACursorGiveEveryRowOnceInWindowAndGroupOrder() {
        reference(TWO, Map.of(), 0, Long.MAX_VALUE).assertRows(all("two", 0, Long.MAX_VALUE, Map.of(), 7));
        reference(NONE, Map.of(), 0, Long.MAX_VALUE).assertRows(all("none", 0, Long.MAX_VALUE, Map.of(), 2));
        Page first = rollups.query("two", 0, Long.MAX_VALUE, Map.of(), 10, null);
        assertEquals(10, first.rows().size());
        assertNotNull(first.nextCursor());
    }

    @Test
    void fromIsInclusiveToIsExclusiveOnTheWindowStart() {
        long from = TestEvent.BASE_MILLIS + 5 * RollupsTest.MINUTE;
        long to = TestEvent.BASE_MILLIS + 9 * RollupsTest.MINUTE;
        List<Row> rows = all("two", from, to, Map.of(), 4);
        reference(TWO, Map.of(), from, to).assertRows(rows);
        assertEquals(from, rows.getFirst().windowStartMillis());
        assertEquals(to - RollupsTest.MINUTE, rows.getLast().windowStartMillis());
    }

    @Test
    void filtersOnSomeOrAllGroupByFields() {
        Map<String, String> some = Map.of("source_ip", "10.0.0.3");
        reference(TWO, some, 0, Long.MAX_VALUE).assertRows(all("two", 0, Long.MAX_VALUE, some, 5));
        Map<String, String> one = Map.of("source_ip", "10.0.0.3", "/key", "k1");
        List<Row> rows = all("two", 0, Long.MAX_VALUE, one, 3);
        reference(TWO, one, 0, Long.MAX_VALUE).assertRows(rows);
        assertTrue(rows.size() >= 20, "one group in most of 30 windows: " + rows.size());
        assertEquals(List.of(), all("two", 0, Long.MAX_VALUE, Map.of("source_ip", "10.9.9.9"), 5));
    }

    @Test
    void aSelectiveFilterAnswersShortPagesWithACursorAfterTheScanCap() {
        rollups.define(
                List.of(RollupsTest.spec("wide", "{stream: w, group_by: [a, b], window: 1s, aggregates: [count]}")));
        long seq = 10_000;
        for (int w = 0; w < 120; w++) {
            for (int g = 0; g < 100; g++) {
                long t = TestEvent.BASE_MILLIS + w * 1_000L;
                new TestEvent(++seq, t, "w", null, t, Map.of("a", "a" + g, "b", g == 99 && w == 119 ? "y" : "x"))
                        .applyTo(rollups);
            }
        }
        rollups.flush();
        Page p = rollups.query("wide", 0, Long.MAX_VALUE, Map.of("b", "y"), 10, null);
        assertEquals(0, p.rows().size());
        assertNotNull(p.nextCursor(), "10,000 rows read, 2,000 left");
        p = rollups.query("wide", 0, Long.MAX_VALUE, Map.of("b", "y"), 10, p.nextCursor());
        assertEquals(1, p.rows().size());
        assertNull(p.nextCursor());
        assertEquals(12_000, rollups.status("wide", seq).rows());
        assertEquals(120, rollups.status("wide", seq).windows());
        assertEquals(101, rollups.status("wide", seq).groups(), "a99 with b=y is a group of its own");
    }

    @Test
    void badParametersAreRefusedNamingThem() {
        assertEquals(
                "limit",
                refusal(() -> rollups.query("two", 0, 1, Map.of(), 0, null)).field());
        assertEquals(
                "limit",
                refusal(() -> rollups.query("two", 0, 1, Map.of(), WindowQuery.LIMIT_MAX + 1, null))
                        .field());
        assertEquals(
                "protocol",
                refusal(() -> rollups.query("two", 0, 1, Map.of("protocol", "UDP"), 5, null))
                        .field());
        assertEquals(
                "cursor",
                refusal(() -> rollups.query("two", 0, 1, Map.of(), 5, "not-a-cursor"))
                        .field());
        assertEquals(
                "cursor",
                refusal(() -> rollups.query("two", 0, 1, Map.of(), 5, "AAAAAAAAAAA"))
                        .field());
        RollupRefusal missing = refusal(() -> rollups.query("nope", 0, 1, Map.of(), 5, null));
        assertEquals(RollupRefusal.Kind.NOT_FOUND, missing.kind());
        assertEquals("nope", missing.rollup());
    }

    static RollupRefusal refusal(Executable call) {
        return assertThrows(RollupRefusal.class, call);
    }

    @Test
    void aRowWritesAsOneNdjsonLine() throws Exception {
        Row row = rollups.query("two", 0, Long.MAX_VALUE, Map.of(), 1, null)
                .rows()
                .getFirst();
        StringWriter w = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(w)) {
            row.writeJson(g);
        }
        String line = w.toString();
        assertTrue(line.startsWith("{\"window_start\":" + row.windowStartMillis() + ",\"window_end\":"), line);
        assertTrue(line.contains("\"group\":{\"source_ip\":\"" + row.group().get("source_ip") + "\",\"/key\":"), line);
        assertTrue(line.contains("\"values\":{\"count\":" + row.values().get("count") + ",\"sum(bytes)\":"), line);
        assertTrue(!line.contains("\n"));
    }
}

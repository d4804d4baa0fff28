package dev.outpost.edge.engine.rollup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mergeable window state: encode and decode, quantiles within the sketch's accuracy, and the hub's case:
 * the rows of two nodes merged equal the rows of one node that saw all the events.
 */
class WindowSummaryTest {
    @TempDir
    Path dir;

    static final RollupSpec SPEC = RollupsTest.spec("lat", """
            {stream: s, group_by: [g], window: 1m, aggregates: [count, sum(v), min(v), max(v), mean(v), p50(v), p99(v), max(w)]}
            """);

    @Test
    void encodeDecodeKeepsEveryValueAndQuantilesStayWithinOnePercent() {
        WindowSummary s = new WindowSummary(new boolean[] {true, false});
        SplittableRandom rnd = new SplittableRandom(7);
        List<Double> vs = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            double v = Math.exp(rnd.nextDouble(-3, 12)) * (rnd.nextInt(10) == 0 ? -1 : 1);
            vs.add(v);
            s.addEvent();
            s.addValue(0, v);
        }
        s.addValue(1, 3.0);
        WindowSummary back = WindowSummary.decode(s.encode());
        assertArrayEquals(s.encode(), back.encode());
        assertEquals(s.values(SPEC), back.values(SPEC));
        double[] sorted = vs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        Map<String, Object> values = back.values(SPEC);
        for (String q : List.of("p50", "p99")) {
            double exact = sorted[(int) Math.floor(Aggregate.QUANTILES.get(q) * (sorted.length - 1))];
            double got = (Double) values.get(q + "(v)");
            assertTrue(Math.abs(got - exact) <= 0.01 * Math.abs(exact), q + ": " + got + " vs " + exact);
        }
        assertEquals(3.0, values.get("max(w)"));
        assertEquals(5_000L, values.get("count"));
    }

    @Test
    void badBytesAreRefusedAndSummariesOfOtherAggregatesDoNotMerge() {
        assertThrows(IllegalArgumentException.class, () -> WindowSummary.decode(new byte[] {9, 1, 2}));
        assertThrows(IllegalArgumentException.class, () -> WindowSummary.decode(new byte[] {1, 0}));
        WindowSummary a = new WindowSummary(new boolean[] {true});
        assertThrows(IllegalArgumentException.class, () -> a.mergeWith(new WindowSummary(new boolean[] {false})));
        assertThrows(IllegalArgumentException.class, () -> a.mergeWith(new WindowSummary(new boolean[] {true, true})));
    }

    @Test
    void rowsOfTwoNodesMergeIntoTheRowsOfOneThatSawEverything() {
        SplittableRandom rnd = new SplittableRandom(11);
        List<TestEvent> all = new ArrayList<>();
        List<TestEvent> nodeA = new ArrayList<>();
        List<TestEvent> nodeB = new ArrayList<>();
        for (int i = 1; i <= 4_000; i++) {
            long t = TestEvent.BASE_MILLIS + i * 50L;
            Map<String, Object> data = Map.of("g", "g" + rnd.nextInt(5), "v", (long) rnd.nextInt(1, 100_000), "w", 1L);
            TestEvent e = new TestEvent(i, t, "s", null, t, data);
            all.add(e);
            List<TestEvent> node = rnd.nextBoolean() ? nodeA : nodeB;
            node.add(new TestEvent(node.size() + 1, t, "s", null, t, data));
        }
        Map<String, WindowSummary> merged = new HashMap<>();
        Map<String, List<Row>> byKey = new HashMap<>();
        for (List<TestEvent> node : List.of(nodeA, nodeB)) {
            for (Row row : summaries(node, "node" + merged.size())) {
                byKey.computeIfAbsent(row.windowStartMillis() + "/" + row.group(), k -> new ArrayList<>())
                        .add(row);
                String k = row.windowStartMillis() + "/" + row.group();
                WindowSummary s = WindowSummary.decode(row.summary());
                WindowSummary prior = merged.putIfAbsent(k, s);
                if (prior != null) {
                    prior.mergeWith(s);
                }
            }
        }
        List<Row> one = summaries(all, "all");
        assertEquals(one.size(), merged.size());
        for (Row row : one) {
            Map<String, Object> m =
                    merged.get(row.windowStartMillis() + "/" + row.group()).values(SPEC);
            Map<String, Object> expected = WindowSummary.decode(row.summary()).values(SPEC);
            for (String label : List.of("count", "min(v)", "max(v)", "max(w)")) {
                assertEquals(expected.get(label), m.get(label), label);
            }
            assertEquals((Double) expected.get("sum(v)"), (Double) m.get("sum(v)"), 1e-6, "sum: rounding only");
            // Sketches merge bin by bin: the same bins, so the same quantiles, whatever the split.
            assertEquals(expected.get("p99(v)"), m.get("p99(v)"));
            assertEquals(expected.get("p50(v)"), m.get("p50(v)"));
            Row mergedRow = Row.merge(SPEC, byKey.get(row.windowStartMillis() + "/" + row.group()));
            assertEquals(m, mergedRow.values());
            assertEquals(row.group(), mergedRow.group());
            byte[] pair = WindowSummary.merge(row.summary(), row.summary());
            assertEquals(
                    2 * (Long) expected.get("count"), WindowSummary.decode(pair).count());
        }
    }

    /** A node's rows with their summaries, from its own rollups file. */
    List<Row> summaries(List<TestEvent> log, String node) {
        try (Rollups r = Rollups.open(dir.resolve(node + ".db"), () -> 0L, Limits.DEFAULT)) {
            r.define(List.of(SPEC));
            log.forEach(e -> e.applyTo(r));
            r.flush();
            List<Row> rows = new ArrayList<>();
            String cursor = null;
            do {
                Page p = r.querySummaries("lat", 0, Long.MAX_VALUE, Map.of(), 100, cursor);
                rows.addAll(p.rows());
                cursor = p.nextCursor();
            } while (cursor != null);
            return rows;
        }
    }
}

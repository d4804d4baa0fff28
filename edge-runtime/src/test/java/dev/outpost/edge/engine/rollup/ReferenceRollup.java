package dev.outpost.edge.engine.rollup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A rollup computed the plain way, for comparison: every value kept, sorted for quantiles, rows in (window,
 * group key) order. It shares no code with the rollups under test but {@link GroupKey#json} for the order.
 */
final class ReferenceRollup {
    /** One window and group: its events' count and every value of each field, in log order. */
    static final class Cell {
        final long window;
        final List<String> group;
        long count;
        final Map<String, List<Double>> values = new TreeMap<>();

        Cell(long window, List<String> group) {
            this.window = window;
            this.group = group;
        }
    }

    final RollupSpec spec;
    final TreeMap<String, Cell> cells = new TreeMap<>();
    long watermark;
    long late;
    long skipped;
    long events;

    ReferenceRollup(RollupSpec spec) {
        this.spec = spec;
    }

    static ReferenceRollup of(RollupSpec spec, List<TestEvent> log) {
        ReferenceRollup r = new ReferenceRollup(spec);
        log.forEach(r::apply);
        return r;
    }

    void apply(TestEvent e) {
        if (!e.stream().equals(spec.stream())) {
            return;
        }
        long t = e.ts() != null ? e.ts() : e.ingestMillis();
        watermark = Math.max(watermark, Math.min(t, e.ingestMillis() + Rollup.FUTURE_SKEW_MILLIS_MAX));
        long w = spec.windowMillis();
        long start = t / w * w;
        if (start + w + spec.allowedLatenessMillis() <= watermark) {
            late++;
            return;
        }
        events++;
        List<String> group = new ArrayList<>();
        for (String f : spec.groupBy()) {
            Object v = field(e, f);
            group.add(v instanceof String || v instanceof Number ? String.valueOf(v) : null);
        }
        String order = String.format("%020d", start) + GroupKey.json(group);
        Cell cell = cells.computeIfAbsent(order, k -> new Cell(start, group));
        cell.count++;
        for (String f : spec.valueFields()) {
            Object v = field(e, f);
            if (v instanceof Number n) {
                cell.values.computeIfAbsent(f, k -> new ArrayList<>()).add(n.doubleValue());
            } else {
                skipped++;
            }
        }
    }

    private static Object field(TestEvent e, String f) {
        if (f.equals("/key")) {
            return e.key();
        }
        Object node = e.data();
        for (String part : f.split("\\.")) {
            node = node instanceof Map<?, ?> m ? m.get(part) : null;
        }
        return node;
    }

    /** Asserts that {@code rows} are exactly this rollup's cells: same order, exact statistics, quantiles within accuracy. */
    void assertRows(List<Row> rows) {
        List<Cell> expected = new ArrayList<>(cells.values());
        assertEquals(expected.size(), rows.size(), spec.name() + ": rows");
        for (int i = 0; i < rows.size(); i++) {
            assertCell(expected.get(i), rows.get(i));
        }
    }

    void assertCell(Cell c, Row row) {
        String where = spec.name() + " window " + c.window + " group " + c.group;
        assertEquals(c.window, row.windowStartMillis(), where);
        assertEquals(c.window + spec.windowMillis(), row.windowEndMillis(), where);
        assertEquals(c.group, new ArrayList<>(row.group().values()), where);
        for (Aggregate a : spec.aggregates()) {
            Object actual = row.values().get(a.label());
            if (a.field() == null) {
                assertEquals(c.count, actual, where + " count");
                continue;
            }
            List<Double> vs = c.values.getOrDefault(a.field(), List.of());
            if (vs.isEmpty()) {
                assertEquals(null, actual, where + " " + a.label());
                continue;
            }
            double[] sorted =
                    vs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double sum = 0;
            for (double v : vs) {
                sum += v; // in log order, as the rollup adds them
            }
            double got = (Double) actual;
            switch (a.function()) {
                case "sum" -> assertEquals(sum, got, 0.0, where + " sum");
                case "min" -> assertEquals(sorted[0], got, 0.0, where + " min");
                case "max" -> assertEquals(sorted[sorted.length - 1], got, 0.0, where + " max");
                case "mean" -> assertEquals(sum / vs.size(), got, 0.0, where + " mean");
                default -> {
                    double exact = sorted[(int) Math.floor(a.quantile() * (sorted.length - 1))];
                    double tolerance = WindowSummary.RELATIVE_ACCURACY * Math.abs(exact) + 1e-9;
                    assertTrue(
                            Math.abs(got - exact) <= tolerance,
                            where + " " + a.label() + ": " + got + " vs exact " + exact + " of "
                                    + Arrays.toString(sorted));
                }
            }
        }
    }
}

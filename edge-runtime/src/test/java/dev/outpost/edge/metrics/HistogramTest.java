package dev.outpost.edge.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HistogramTest {
    static final long MS = 1_000_000;

    /** The p95 of a window ignores what came before it and lands in the right bucket, interpolated. */
    @Test
    void p95OfAWindowBetweenTwoSnapshots() {
        Histogram h = new Metrics().histogram("t_seconds", "test");
        for (int i = 0; i < 1000; i++) {
            h.recordNanos(5_000 * MS); // before the window: 5 s each
        }
        long[] from = h.counts();
        assertEquals(-1, Histogram.quantileNanos(from, h.counts(), 0.95), "no observation in the window");
        for (int i = 0; i < 90; i++) {
            h.recordNanos(MS / 3); // 0.33 ms: bucket (0.25 ms, 0.5 ms]
        }
        for (int i = 0; i < 10; i++) {
            h.recordNanos(80 * MS); // bucket (50 ms, 100 ms]
        }
        long[] to = h.counts();
        assertEquals(100, Histogram.count(from, to));
        // rank 95 of 100: the 5th of the 10 in (50, 100] ms -> 50 + 50 x 5/10 = 75 ms
        assertEquals(75 * MS, Histogram.quantileNanos(from, to, 0.95));
        // rank 50: the 50th of the 90 in (0.25, 0.5] ms
        long p50 = Histogram.quantileNanos(from, to, 0.50);
        assertTrue(p50 > MS / 4 && p50 <= MS / 2, "p50 " + p50);
        // everything in +Inf: the largest finite bound
        long[] before = h.counts();
        h.recordNanos(60_000 * MS);
        assertEquals(10_000 * MS, Histogram.quantileNanos(before, h.counts(), 0.95));
    }

    /** A labelled family renders HELP and TYPE once, its series together. */
    @Test
    void labelledCountersRenderAsOneFamily() {
        Metrics m = new Metrics();
        m.counterFn("runs_total", "action", "a", "Runs.", () -> 1);
        m.counter("other_total", "Other.");
        m.counterFn("runs_total", "action", "b", "Runs.", () -> 2);
        String text = m.render();
        assertTrue(
                text.contains("# HELP runs_total Runs.\n# TYPE runs_total counter\nruns_total{action=\"a\"} 1\n"
                        + "runs_total{action=\"b\"} 2\n"),
                text);
        assertEquals(1, text.split("# TYPE runs_total", -1).length - 1, text);
    }
}

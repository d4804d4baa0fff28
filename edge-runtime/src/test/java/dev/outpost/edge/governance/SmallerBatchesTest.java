package dev.outpost.edge.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.metrics.Histogram;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.governor.BatchScale;
import dev.outpost.governor.Level;
import dev.outpost.governor.Snapshot;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SmallerBatchesTest {
    static final long MS = 1_000_000;

    final Histogram latency = new Metrics().histogram("t_seconds", "test");
    final BatchScale scale = new BatchScale();
    final SmallerBatches action = new SmallerBatches(latency, scale, () -> 50, () -> "sizes");

    String sampleAt(long atMillis) {
        return action.onLevel(Level.LOW, new Snapshot(atMillis, Level.LOW, Map.of(), 60_000));
    }

    void requests(int n, long nanos) {
        for (int i = 0; i < n; i++) {
            latency.recordNanos(nanos);
        }
    }

    @Test
    void halvesWhileP95IsOverTargetAndRestoresStepwiseUnderIt() {
        assertNull(sampleAt(0), "the first window starts empty");
        requests(SmallerBatches.REQUESTS_MIN, 80 * MS);
        String halved = sampleAt(1_000);
        assertTrue(halved.contains("> target 50 ms: batches at 1/2"), halved);
        assertEquals(1, scale.halvings());
        requests(SmallerBatches.REQUESTS_MIN - 1, 80 * MS);
        assertNull(sampleAt(2_000), "too few requests to decide: the window keeps gathering");
        requests(1, 80 * MS);
        assertTrue(sampleAt(3_000).contains("batches at 1/4"));
        requests(100, 45 * MS); // p95 between 80 % and 100 % of the target: hold
        assertNull(sampleAt(4_000));
        assertEquals(2, scale.halvings());
        requests(100, MS);
        String restored = sampleAt(5_000);
        assertTrue(restored.contains("batches back to 1/2"), restored);
        requests(100, MS);
        assertTrue(sampleAt(6_000).contains("batches back to 1/1"));
        requests(100, MS);
        assertNull(sampleAt(7_000), "at full size: nothing to report");
    }

    @Test
    void aQuietAgentGetsItsBatchesBack() {
        sampleAt(0);
        requests(SmallerBatches.REQUESTS_MIN, 200 * MS);
        sampleAt(1_000);
        assertEquals(1, scale.halvings());
        requests(3, 200 * MS); // a few slow ones: no trend
        assertNull(sampleAt(1_000 + SmallerBatches.WINDOW_MILLIS_MAX - 1));
        String quiet = sampleAt(1_000 + SmallerBatches.WINDOW_MILLIS_MAX);
        assertTrue(quiet.startsWith("fewer than 20 requests in 60 s"), quiet);
        assertEquals(0, scale.halvings());
    }

    @Test
    void neverBelowOneSixteenth() {
        sampleAt(0);
        for (int i = 1; i <= BatchScale.HALVINGS_MAX + 2; i++) {
            requests(SmallerBatches.REQUESTS_MIN, 500 * MS);
            String r = sampleAt(i * 1_000L);
            assertEquals(i <= BatchScale.HALVINGS_MAX, r != null, "sample " + i + ": " + r);
        }
        assertEquals(BatchScale.HALVINGS_MAX, scale.halvings());
    }
}

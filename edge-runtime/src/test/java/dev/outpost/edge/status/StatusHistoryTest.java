package dev.outpost.edge.status;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The status page's ring and its sampling, on the test's own clock. */
class StatusHistoryTest {
    private static final double[] PRESSURE = {0.5, 0.1, Double.NaN, 0, Double.NaN};

    private static StatusHistory.Sample sample(long at) {
        return new StatusHistory.Sample(at, "low", PRESSURE, StatusHistory.Rates.NONE, 0, 0);
    }

    private static StatusSampler.Reading reading(long at, long ingest, long synced, long wire) {
        return new StatusSampler.Reading(at, "medium", PRESSURE, ingest, synced, wire, 0, ingest - synced, 0);
    }

    private static List<Long> times(List<StatusHistory.Sample> samples) {
        return samples.stream().map(StatusHistory.Sample::atMillis).toList();
    }

    @Test
    void keepsAtMostItsCapacityTheNewestOldestFirst() {
        StatusHistory h = new StatusHistory(4);
        assertEquals(List.of(), h.since(0));
        for (long t = 1; t <= 10; t++) {
            assertTrue(h.add(sample(t * 1000)));
            assertEquals(Math.min(t, 4), h.size());
        }
        assertEquals(List.of(7000L, 8000L, 9000L, 10000L), times(h.since(0)));
        assertEquals(4, h.capacity());
    }

    @Test
    void sinceIsExclusiveAndKeepsTheOrder() {
        StatusHistory h = new StatusHistory(720);
        LongStream.range(0, 1000).forEach(i -> h.add(sample(1_000_000 + i * 5000)));
        List<StatusHistory.Sample> all = h.since(0);
        assertEquals(720, all.size());
        assertEquals(1_000_000 + 280 * 5000L, all.getFirst().atMillis(), "the oldest 280 were overwritten");
        long last = 1_000_000 + 999 * 5000L;
        assertEquals(List.of(last - 5000, last), times(h.since(last - 10_000)));
        assertEquals(List.of(), h.since(last));
    }

    @Test
    void aSampleFromBeforeTheNewestIsDroppedSoTimeNeverRunsBackwards() {
        StatusHistory h = new StatusHistory(8);
        h.add(sample(5000));
        h.add(sample(9000));
        assertFalse(h.add(sample(7000)), "the wall clock stepped back");
        assertTrue(h.add(sample(9000)), "the same time is not before");
        assertEquals(List.of(5000L, 9000L, 9000L), times(h.since(0)));
    }

    @Test
    void aSampleOwnsItsPressures() {
        double[] p = {0.25, 0, 0, 0, 0};
        StatusHistory.Sample s = new StatusHistory.Sample(1, "low", p, StatusHistory.Rates.NONE, 0, 0);
        p[0] = 0.99;
        s.pressure()[0] = 0.98;
        assertArrayEquals(new double[] {0.25, 0, 0, 0, 0}, s.pressure());
    }

    @Test
    void capacityMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new StatusHistory(0));
    }

    @Test
    void ratesAreTheCountersChangeOverTheTimeBetweenReadings() {
        StatusHistory h = new StatusHistory(10);
        StatusSampler s = new StatusSampler(h);
        s.take(reading(10_000, 100, 0, 0));
        s.take(reading(15_000, 600, 250, 5_000));
        s.take(reading(17_000, 600, 150, 5_000)); // the push counters restarted: no negative rate
        List<StatusHistory.Sample> samples = h.since(0);
        assertEquals(StatusHistory.Rates.NONE, samples.get(0).rates(), "the first reading has nothing before it");
        assertEquals(new StatusHistory.Rates(100, 50, 1000, 0), samples.get(1).rates());
        assertEquals(new StatusHistory.Rates(0, 0, 0, 0), samples.get(2).rates());
        assertEquals("medium", samples.get(1).level());
        assertEquals(350, samples.get(1).atRiskEvents());
    }

    @Test
    void aReadingAtTheSameTimeOrEarlierHasNoRateAndAnEarlierOneIsNotKept() {
        StatusHistory h = new StatusHistory(10);
        StatusSampler s = new StatusSampler(h);
        s.take(reading(10_000, 100, 0, 0));
        assertTrue(s.take(reading(10_000, 200, 0, 0)));
        assertFalse(s.take(reading(9_000, 300, 0, 0)));
        assertTrue(s.take(reading(12_000, 400, 0, 0)));
        List<StatusHistory.Sample> samples = h.since(0);
        assertEquals(StatusHistory.Rates.NONE, samples.get(1).rates(), "no division by zero time");
        assertEquals(100, samples.get(2).rates().ingestEvents(), "against the last kept reading: 200 in 2 s");
    }
}

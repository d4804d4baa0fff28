package dev.outpost.edge.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.outpost.edge.ingest.IngestOutcome;
import dev.outpost.edge.ingest.IngestStage;
import dev.outpost.edge.ingest.ParsedEvent;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.governor.Budget;
import dev.outpost.governor.Dimension;
import dev.outpost.governor.Governor;
import dev.outpost.governor.Level;
import dev.outpost.governor.Probe;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Shedding decides on the governor's own level over memory, disk (read live) and ingest rate, by priority, and its
 * announcement follows the same level. The governor is never started: {@link Governor#sampleNow()} samples on the
 * test's thread, so nothing here depends on timing.
 */
class SheddingTest {
    /** Every limit is 1000 in its unit, so usage is per mille of the budget. */
    static final Budget BUDGET = new Budget(1000, 1, 1000, 1000, 1000);

    final Map<Dimension, AtomicLong> usage = new EnumMap<>(Dimension.class);
    final Metrics metrics = new Metrics();
    final Governor governor;
    final Shedding shedding;

    SheddingTest() {
        Map<Dimension, Probe> probes = new EnumMap<>(Dimension.class);
        for (Dimension d : Dimension.values()) {
            AtomicLong value = new AtomicLong();
            usage.put(d, value);
            probes.put(d, value::get);
        }
        governor = new Governor(BUDGET, probes);
        Map<String, String> priorities = Map.of("b", "bulk", "n", "normal", "c", "critical");
        shedding = new Shedding(governor, s -> priorities.getOrDefault(s, "normal"), metrics);
    }

    @AfterEach
    void close() {
        governor.close();
    }

    void set(Dimension d, long perMille) {
        usage.get(d).set(perMille);
    }

    IngestOutcome.Rejection write(String... streams) {
        List<ParsedEvent> events = java.util.Arrays.stream(streams)
                .map(s -> new ParsedEvent(s, null, new byte[] {'{', '}'}))
                .toList();
        return shedding.check(new IngestStage.Batch(events, true, null));
    }

    @Test
    void cpuPressureNeverShedsWrites() {
        set(Dimension.CPU, 990);
        assertEquals(Level.CRITICAL, governor.sampleNow().level());
        assertNull(write("b", "n"), "CPU lowers effort and concurrency, it does not refuse data");
        assertNull(shedding.onLevel(Level.CRITICAL, governor.snapshot()), "nothing to announce");
    }

    @Test
    void highMemoryShedsBulkThenEverythingButCritical() {
        set(Dimension.MEMORY, 900);
        governor.sampleNow();
        assertNull(write("n", "c"));
        IngestOutcome.Refused bulk = assertInstanceOf(IngestOutcome.Refused.class, write("n", "b", "n"));
        assertEquals(IngestOutcome.Reason.OVERLOADED, bulk.reason());
        assertEquals(3, metrics.value("outpost_ingest_shed_total"), "the whole request is counted");
        assertEquals("refusing bulk writes", shedding.onLevel(Level.HIGH, governor.snapshot()));
        assertNull(shedding.onLevel(Level.HIGH, governor.snapshot()), "announced once");
        set(Dimension.MEMORY, 960);
        governor.sampleNow();
        assertInstanceOf(IngestOutcome.Refused.class, write("n"));
        assertNull(write("c"), "critical writes go on while the disk has room");
        set(Dimension.MEMORY, 100);
        governor.sampleNow();
        assertNull(write("b"));
        assertEquals("stopped shedding", shedding.onLevel(Level.LOW, governor.snapshot()));
    }

    @Test
    void diskIsReadLiveAndRefusesCriticalOnlyWhenFull() {
        governor.sampleNow(); // disk sampled at 0
        set(Dimension.DISK, 960); // written since: no sample yet
        IngestOutcome.Refused normal = assertInstanceOf(IngestOutcome.Refused.class, write("n"));
        assertEquals(IngestOutcome.Reason.DISK_BUDGET, normal.reason());
        assertEquals(Level.LOW, governor.level(), "the governor's own level waits for its sample");
        assertNull(write("c"));
        set(Dimension.DISK, 1000);
        assertInstanceOf(IngestOutcome.Refused.class, write("c"), "critical writes are refused last");
    }
}

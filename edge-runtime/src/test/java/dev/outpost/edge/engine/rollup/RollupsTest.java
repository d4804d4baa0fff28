package dev.outpost.edge.engine.rollup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * Rollups on a real SQLite file in a temp directory, checked against {@link ReferenceRollup}: window
 * assignment, every aggregate, late events, flush and reopen, a crash before a flush, backfill of a rollup
 * defined after the fact, redefinition, and the memory bound.
 */
class RollupsTest {
    static final long HOUR = 3_600_000L;
    static final long MINUTE = 60_000L;

    @TempDir
    Path dir;

    long nowMillis = TestEvent.BASE_MILLIS;
    Rollups rollups;

    Rollups open(Limits limits) {
        return Rollups.open(dir.resolve("rollups.db"), () -> nowMillis, limits);
    }

    @AfterEach
    void close() {
        if (rollups != null) {
            rollups.close();
        }
    }

    static RollupSpec spec(String name, String yaml) {
        return RollupSpec.parse(name, new Yaml().load(yaml));
    }

    static final RollupSpec BY_SOURCE = spec("by_source", """
            stream: traffic
            group_by: [source_ip]
            window: 1m
            aggregates: [count, sum(bytes), min(bytes), max(bytes), mean(bytes), quantiles(bytes), p99(http.latency_ms)]
            allowed_lateness: 30s
            """);
    static final RollupSpec BY_SOURCE_AND_KEY = spec("by_source_and_key", """
            stream: traffic
            group_by: [source_ip, /key]
            window: 5m
            aggregates: [count, max(http.latency_ms), p50(http.latency_ms)]
            """);
    static final RollupSpec ALL = spec("all", """
            stream: traffic
            window: 1h
            aggregates: [count, sum(http.latency_ms), p90(bytes)]
            allowed_lateness: 1h
            """);
    static final List<RollupSpec> SPECS = List.of(BY_SOURCE, BY_SOURCE_AND_KEY, ALL);

    /** Every row of a rollup, read page by page. */
    static List<Row> rows(Rollups r, String name, Map<String, String> filters, int limit) {
        List<Row> all = new ArrayList<>();
        String cursor = null;
        do {
            Page p = r.query(name, 0, Long.MAX_VALUE, filters, limit, cursor);
            all.addAll(p.rows());
            cursor = p.nextCursor();
        } while (cursor != null);
        return all;
    }

    void assertMatches(List<TestEvent> log) {
        for (RollupSpec s : rollups.specs()) {
            ReferenceRollup ref = ReferenceRollup.of(s, log);
            ref.assertRows(rows(rollups, s.name(), Map.of(), WindowQuery.LIMIT_MAX));
            Status st = rollups.status(s.name(), log.getLast().seq());
            assertEquals(ref.late, st.lateEvents(), s.name() + " late");
            assertEquals(ref.skipped, st.skippedValues(), s.name() + " skipped");
            assertEquals(ref.events, st.events(), s.name() + " events");
            assertEquals(ref.cells.size(), st.rows(), s.name() + " rows");
        }
    }

    static void apply(Rollups r, List<TestEvent> log, long fromSeq, long toSeq) {
        for (TestEvent e : log) {
            if (e.seq() >= fromSeq && e.seq() <= toSeq) {
                e.applyTo(r);
            }
        }
    }

    @Test
    void windowsAreTumblingAndAlignedToTheEpoch() {
        rollups = open(Limits.DEFAULT);
        rollups.define(List.of(spec("m", "{stream: s, window: 1m, aggregates: [count]}")));
        long[] times = {0, 59_999, 60_000, 119_999, 120_000};
        for (int i = 0; i < times.length; i++) {
            new TestEvent(i + 1, times[i], "s", null, times[i], Map.of()).applyTo(rollups);
        }
        rollups.flush();
        List<Row> rows = rows(rollups, "m", Map.of(), 100);
        assertEquals(
                List.of(0L, 60_000L, 120_000L),
                rows.stream().map(Row::windowStartMillis).toList());
        assertEquals(
                List.of(2L, 2L, 1L),
                rows.stream().map(r -> r.values().get("count")).toList());
        assertEquals(120_000L, rows.get(1).windowEndMillis());
    }

    @Test
    void everyAggregateMatchesAReferenceComputedDirectly() {
        rollups = open(Limits.DEFAULT);
        rollups.define(SPECS);
        List<TestEvent> log = TestEvent.traffic(1, 6_000, 12, 3 * HOUR, 2 * MINUTE);
        apply(rollups, log, 1, log.size());
        rollups.flush();
        assertMatches(log);
        Status s = rollups.status("by_source", log.size());
        assertTrue(s.lateEvents() > 0, "the disorder makes some events late for a 30 s lateness");
        assertTrue(s.skippedValues() > 0, "some events lack bytes or carry a string");
        assertEquals(log.size(), s.coveredSeq());
        long rowBytes = 60; // at the very least, per row: key, values, summary
        assertTrue(rollups.diskBytes() > rowBytes * s.rows(), rollups.diskBytes() + " bytes");
    }

    @Test
    void lateEventsWithinTheAllowedLatenessUpdateTheirWindowLaterOnesAreCounted() {
        rollups = open(Limits.DEFAULT);
        rollups.define(List.of(spec("late", "{stream: s, window: 1m, aggregates: [count], allowed_lateness: 30s}")));
        long t0 = TestEvent.BASE_MILLIS;
        long[] times = {t0 + 10_000, t0 + MINUTE + 20_000, t0 + 5_000, t0 + MINUTE + 31_000, t0 + 6_000};
        for (int i = 0; i < times.length; i++) {
            new TestEvent(i + 1, times[i], "s", null, times[i], Map.of()).applyTo(rollups);
        }
        rollups.flush();
        // The third event came 1m20s after the first, within the 30 s after its window's end: it counts. The
        // fourth moves the watermark to 1m31s: the first window closed at 1m30s, so the fifth is late.
        List<Row> rows = rows(rollups, "late", Map.of(), 10);
        assertEquals(
                List.of(2L, 2L), rows.stream().map(r -> r.values().get("count")).toList());
        assertEquals(1, rollups.status("late", 5).lateEvents());
        assertEquals(t0 + MINUTE + 31_000, rollups.status("late", 5).watermarkMillis());
    }

    @Test
    void anEventDatedFarAheadOfItsIngestTimeDoesNotCloseEveryWindow() {
        rollups = open(Limits.DEFAULT);
        rollups.define(List.of(spec("skew", "{stream: s, window: 1m, aggregates: [count], allowed_lateness: 5m}")));
        long t0 = TestEvent.BASE_MILLIS;
        // Year 9999 would close every window; the watermark moves only to ingest + 5 min, so a 5 min lateness holds.
        new TestEvent(1, t0, "s", null, 253_402_300_799_999L, Map.of()).applyTo(rollups);
        new TestEvent(2, t0 + 1_000, "s", null, t0 + 1_000, Map.of()).applyTo(rollups);
        rollups.flush();
        assertEquals(0, rollups.status("skew", 2).lateEvents());
        assertEquals(
                t0 + Rollup.FUTURE_SKEW_MILLIS_MAX, rollups.status("skew", 2).watermarkMillis());
        assertEquals(2, rows(rollups, "skew", Map.of(), 10).size());
    }

    @Test
    void aFlushedRollupResumesAtItsCoveredSeqAndAReplayCountsNothingTwice() {
        List<TestEvent> log = TestEvent.traffic(2, 3_000, 8, 2 * HOUR, MINUTE);
        rollups = open(Limits.DEFAULT);
        rollups.define(SPECS);
        apply(rollups, log, 1, 1_700);
        rollups.flush();
        rollups.close();

        rollups = open(Limits.DEFAULT);
        assertEquals(1_700, rollups.lowestCoveredSeq());
        apply(rollups, log, 1, log.size()); // the engine re-reads from an earlier position: 1..1700 are ignored
        rollups.flush();
        assertMatches(log);

        rollups.close();
        rollups = open(Limits.DEFAULT);
        apply(rollups, log, 1, log.size());
        rollups.flush();
        assertMatches(log);
    }

    @Test
    void aCrashBeforeAFlushLosesOnlyTheUnflushedWorkWhichTheReplayRestores() {
        List<TestEvent> log = TestEvent.traffic(3, 4_000, 10, 2 * HOUR, 3 * MINUTE);
        rollups = open(Limits.DEFAULT);
        rollups.define(SPECS);
        apply(rollups, log, 1, 1_000);
        rollups.flush();
        apply(rollups, log, 1_001, 2_500); // applied, never flushed
        rollups.abandon();

        rollups = open(Limits.DEFAULT);
        assertEquals(1_000, rollups.lowestCoveredSeq());
        assertMatches(log.subList(0, 1_000));
        for (long from = rollups.lowestCoveredSeq() + 1; from <= log.size(); from += 700) {
            apply(rollups, log, from, Math.min(from + 699, log.size()));
            rollups.flush();
        }
        assertMatches(log);
    }

    @Test
    void aRollupDefinedAfterTheFactIsBackfilledWithItsProgressVisible() throws IOException {
        List<TestEvent> log = TestEvent.traffic(4, 2_000, 6, HOUR, MINUTE);
        rollups = open(Limits.DEFAULT);
        rollups.define(List.of(BY_SOURCE));
        apply(rollups, log, 1, log.size());
        rollups.flush();

        rollups.define(List.of(BY_SOURCE, ALL), log.size());
        assertEquals(0, rollups.lowestCoveredSeq());
        Status s = rollups.status("all", log.size());
        assertTrue(s.backfilling());
        assertEquals(0, s.coveredSeq());
        assertEquals(0.0, s.backfillProgress());
        StringWriter json = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(json)) {
            s.writeJson(g);
        }
        assertTrue(json.toString().startsWith("{\"name\":\"all\",\"spec\":{\"stream\":\"traffic\""), json.toString());
        assertTrue(
                json.toString()
                        .contains("\"covered_seq\":0,\"log_last_seq\":2000,\"lag_events\":2000,"
                                + "\"backfilling\":true,"),
                json.toString());
        assertEquals(log.size(), rollups.status("by_source", log.size()).coveredSeq());
        assertFalse(rollups.status("by_source", log.size()).backfilling());

        apply(rollups, log, 1, 1_000);
        rollups.flush();
        s = rollups.status("all", log.size());
        assertTrue(s.backfilling());
        assertEquals(0.5, s.backfillProgress(), 1e-9);
        apply(rollups, log, 1_001, log.size());
        rollups.flush();
        assertFalse(rollups.status("all", log.size()).backfilling());
        assertMatches(log);
    }

    @Test
    void aChangedDefinitionStartsAgainALatenessChangeKeepsItsRowsARemovedOneGoes() {
        List<TestEvent> log = TestEvent.traffic(5, 1_000, 4, HOUR, 0);
        rollups = open(Limits.DEFAULT);
        rollups.define(SPECS);
        apply(rollups, log, 1, log.size());
        rollups.flush();

        RollupSpec widened = spec("by_source", """
                {stream: traffic, group_by: [source_ip], window: 1m, allowed_lateness: 2m,
                 aggregates: [count, sum(bytes), min(bytes), max(bytes), mean(bytes), quantiles(bytes), p99(http.latency_ms)]}
                """);
        RollupSpec rewindowed = spec("all", "{stream: traffic, window: 30m, aggregates: [count]}");
        rollups.define(List.of(widened, rewindowed));
        assertEquals(
                List.of("all", "by_source"),
                rollups.specs().stream().map(RollupSpec::name).toList());
        assertEquals(log.size(), rollups.status("by_source", log.size()).coveredSeq());
        assertEquals(0, rollups.status("all", log.size()).coveredSeq());
        assertEquals(0, rollups.status("all", log.size()).rows());
        RollupRefusal gone = assertThrows(RollupRefusal.class, () -> rollups.status("by_source_and_key", 1));
        assertEquals(RollupRefusal.Kind.NOT_FOUND, gone.kind());

        apply(rollups, log, 1, log.size());
        rollups.flush();
        rollups.close();
        rollups = open(Limits.DEFAULT);
        assertMatches(log);
    }

    @Test
    void memoryStaysWithinGroupsMaxAndEvictionLosesNoCounts() {
        Limits small = new Limits(Limits.GROUPS_MAX_MIN, 4);
        rollups = open(small);
        rollups.define(SPECS);
        // 300 sources x 1-minute windows with 2 minutes of disorder and 30 s lateness: far more open groups than fit.
        List<TestEvent> log = TestEvent.traffic(6, 8_000, 300, HOUR, 2 * MINUTE);
        int most = 0;
        for (TestEvent e : log) {
            e.applyTo(rollups);
            most = Math.max(most, rollups.groupsInMemory());
            if (e.seq() % 2_000 == 0) {
                rollups.flush();
            }
        }
        rollups.flush();
        assertTrue(most <= small.groupsMax(), "held " + most + " summaries");
        assertMatches(log);
    }

    @Test
    void aBadEventNeverThrowsItCountsWithItsFieldsMissing() {
        rollups = open(Limits.DEFAULT);
        rollups.define(List.of(spec("bad", "{stream: s, group_by: [a], window: 1m, aggregates: [count, sum(v)]}")));
        byte[] garbage = "{not json".getBytes(StandardCharsets.UTF_8);
        rollups.apply(1, TestEvent.BASE_MILLIS, "s", garbage, 0, garbage.length);
        new TestEvent(2, TestEvent.BASE_MILLIS, "s", null, null, Map.of("a", Map.of("x", 1), "v", "7"))
                .applyTo(rollups);
        new TestEvent(3, TestEvent.BASE_MILLIS, "s", null, null, Map.of("a", 5L, "v", 1e308)).applyTo(rollups);
        rollups.flush();
        List<Row> rows = rows(rollups, "bad", Map.of(), 10);
        assertEquals(2, rows.size());
        assertNull(rows.get(1).group().get("a")); // ["5"] sorts before [null]
        assertEquals(2L, rows.get(1).values().get("count"));
        assertNull(rows.get(1).values().get("sum(v)"));
        assertEquals("5", rows.get(0).group().get("a"));
        assertEquals(1e308, rows.get(0).values().get("sum(v)"));
        assertEquals(2, rollups.status("bad", 3).skippedValues());
    }

    @Test
    void queriesFromAnotherThreadSeeWholeFlushesWhileTheEngineWrites() throws Exception {
        rollups = open(Limits.DEFAULT);
        rollups.define(List.of(ALL));
        List<TestEvent> log = TestEvent.traffic(7, 20_000, 5, HOUR, 0);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean done = new AtomicBoolean();
        Thread reader = new Thread(() -> {
            long seen = 0;
            try {
                while (!done.get()) {
                    Status s = rollups.status("all", 0);
                    long counted = 0;
                    for (Row r : rows(rollups, "all", Map.of(), 1)) {
                        counted += (Long) r.values().get("count");
                    }
                    // Each page reads one committed flush: counts never go back, and never pass what is covered.
                    assertTrue(counted >= seen, counted + " after " + seen);
                    assertTrue(s.events() <= s.coveredSeq());
                    seen = counted;
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        reader.start();
        for (TestEvent e : log) {
            e.applyTo(rollups);
            if (e.seq() % 500 == 0) {
                rollups.flush();
            }
        }
        rollups.flush();
        done.set(true);
        reader.join();
        if (failure.get() != null) {
            throw new AssertionError("reader failed", failure.get());
        }
        assertMatches(log);
    }

    @Test
    void rowsOfWindowsPastTheRetentionAreDeletedByEventTime() {
        rollups = open(Limits.DEFAULT);
        rollups.define(List.of(spec("kept", "{stream: s, window: 1m, aggregates: [count], retention: 1h}")));
        long t0 = TestEvent.BASE_MILLIS;
        for (int i = 0; i < 180; i++) {
            long t = t0 + i * MINUTE;
            new TestEvent(i + 1, t, "s", null, t, Map.of()).applyTo(rollups);
        }
        rollups.flush();
        // The watermark is 2h59m: windows that ended 1h before it or earlier (starting at 1h58m or before) go.
        List<Row> rows = rows(rollups, "kept", Map.of(), 1_000);
        assertEquals(t0 + HOUR + 59 * MINUTE, rows.getFirst().windowStartMillis());
        assertEquals(61, rows.size());

        new TestEvent(181, t0 + 5 * HOUR, "s", null, t0 + 5 * HOUR, Map.of()).applyTo(rollups);
        rollups.flush();
        assertEquals(
                List.of(t0 + 5 * HOUR),
                rows(rollups, "kept", Map.of(), 1_000).stream()
                        .map(Row::windowStartMillis)
                        .toList());
        assertEquals(1, rollups.status("kept", 181).windows());
    }

    @Test
    void aLongerLatenessReopensAWindowFromItsRowNotFromNothing() {
        rollups = open(Limits.DEFAULT);
        rollups.define(List.of(spec("r", "{stream: s, window: 1m, aggregates: [count]}")));
        long t0 = TestEvent.BASE_MILLIS;
        new TestEvent(1, t0 + 10_000, "s", null, t0 + 10_000, Map.of()).applyTo(rollups);
        new TestEvent(2, t0 + 70_000, "s", null, t0 + 70_000, Map.of()).applyTo(rollups);
        rollups.flush(); // the first window is closed: written, and dropped from memory
        rollups.define(List.of(spec("r", "{stream: s, window: 1m, aggregates: [count], allowed_lateness: 5m}")));
        new TestEvent(3, t0 + 20_000, "s", null, t0 + 20_000, Map.of()).applyTo(rollups);
        rollups.flush();
        assertEquals(
                List.of(2L, 1L),
                rows(rollups, "r", Map.of(), 10).stream()
                        .map(r -> r.values().get("count"))
                        .toList());
        assertEquals(0, rollups.status("r", 3).lateEvents());
    }

    @Test
    void definitionsAreRefusedAllOrNothing() {
        rollups = open(new Limits(Limits.GROUPS_MAX_MIN, 2));
        rollups.define(List.of(BY_SOURCE));
        RollupRefusal twice = assertThrows(RollupRefusal.class, () -> rollups.define(List.of(ALL, ALL)));
        assertEquals("all", twice.rollup());
        assertThrows(RollupRefusal.class, () -> rollups.define(SPECS));
        assertEquals(List.of(BY_SOURCE), rollups.specs());
    }
}

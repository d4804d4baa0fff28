package dev.outpost.edge.engine.rollup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.EventCursor;
import dev.outpost.store.EventDraft;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogOptions;
import dev.outpost.store.RecordView;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Final windows on a real rollups file and a real laned log: a window is emitted only once its end plus the allowed
 * lateness passed on the watermark, each once, marked only after the log made it durable, and not again after a
 * restart.
 */
class FinalWindowsTest {
    static final long MINUTE = 60_000L;
    static final long T0 = TestEvent.BASE_MILLIS;
    static final long BUDGET = TimeUnit.SECONDS.toNanos(5);

    static final RollupSpec BY_SOURCE = RollupsTest.spec("by_source", """
            stream: traffic
            group_by: [source_ip]
            window: 1m
            aggregates: [count, sum(bytes), p99(bytes)]
            allowed_lateness: 30s
            """);

    @TempDir
    Path dir;

    LanedEventLog log;
    Rollups rollups;
    long seq;

    @BeforeEach
    void open() {
        log = LanedEventLog.open(LogOptions.defaults(dir.resolve("log")), HybridClock.system());
        rollups = reopen();
        rollups.define(List.of(BY_SOURCE), 0);
    }

    Rollups reopen() {
        return Rollups.open(dir.resolve("rollups.db"), () -> T0, Limits.DEFAULT);
    }

    @AfterEach
    void close() {
        if (rollups != null) {
            rollups.close();
        }
        log.close();
    }

    void event(long ts, String source, long bytes) {
        seq++;
        new TestEvent(seq, ts, "traffic", null, ts, Map.of("source_ip", source, "bytes", bytes)).applyTo(rollups);
    }

    /** Appends to the real log's high lane and waits until durable, as the engine does. */
    final Consumer<List<EventDraft>> durable =
            drafts -> log.append(Lane.HIGH, drafts).durable().join();

    /** The final windows in the log, parsed back as the hub reads them. */
    List<FinalWindow> inLog() {
        List<FinalWindow> out = new ArrayList<>();
        RecordView v = new RecordView();
        try (EventCursor c = log.lane(Lane.HIGH).cursorFromSeq(1)) {
            while (c.next(v)) {
                assertEquals(FinalWindow.STREAM, v.stream());
                out.add(FinalWindow.parse(v.payloadArray(), v.payloadOffset(), v.payloadLength()));
            }
        }
        return out;
    }

    @Test
    void aWindowIsFinalOnlyAfterItsEndPlusTheAllowedLatenessPassedOnTheWatermark() {
        event(T0 + 1_000, "a", 10);
        event(T0 + 2_000, "a", 20);
        event(T0 + 3_000, "b", 5);
        event(T0 + MINUTE + 29_000, "a", 1); // watermark at end + 29 s: not final (lateness 30 s)
        rollups.flush();
        assertEquals(0, rollups.emitFinal(durable, BUDGET));
        assertEquals(0, inLog().size());

        event(T0 + MINUTE + 30_000, "a", 1); // end + 30 s: final
        rollups.flush();
        assertEquals(2, rollups.emitFinal(durable, BUDGET));
        List<FinalWindow> windows = inLog();
        assertEquals(2, windows.size());
        Map<String, Double> count = new HashMap<>();
        for (FinalWindow w : windows) {
            assertEquals("by_source", w.rollup());
            assertEquals(T0, w.windowStart());
            count.put(w.groupKey(), WindowSummary.decode(w.summary()).valueArray(BY_SOURCE)[0]);
            assertEquals(BY_SOURCE, w.spec());
        }
        assertEquals(Map.of("[\"a\"]", 2.0, "[\"b\"]", 1.0), count);
        // The next window is still open; a late event for the final one changes nothing.
        event(T0 + 5_000, "a", 1000);
        rollups.flush();
        assertEquals(0, rollups.emitFinal(durable, BUDGET));
        assertEquals(0, rollups.finalBacklog());
    }

    @Test
    void theEventCarriesTheRowAndTheSummaryOfTheWindow() {
        event(T0 + 1_000, "a", 10);
        event(T0 + 2_000, "a", 30);
        event(T0 + 10 * MINUTE, "z", 1);
        rollups.flush();
        rollups.emitFinal(durable, BUDGET);
        RecordView v = new RecordView();
        try (EventCursor c = log.lane(Lane.HIGH).cursorFromSeq(1)) {
            c.next(v);
            Map<?, ?> event = (Map<?, ?>) dev.outpost.store.json.JsonTree.parse(v.payload(), 0, v.payloadLength());
            Map<?, ?> data = (Map<?, ?>) event.get("data");
            assertEquals(FinalWindow.STREAM, event.get("stream"));
            assertEquals("by_source", data.get("rollup"));
            assertEquals("traffic", data.get("stream"));
            assertEquals(T0, ((Number) data.get("window_start")).longValue());
            assertEquals(T0 + MINUTE, ((Number) data.get("window_end")).longValue());
            assertEquals(Map.of("source_ip", "a"), data.get("group"));
            Map<?, ?> values = (Map<?, ?>) data.get("values");
            assertEquals(2L, ((Number) values.get("count")).longValue());
            assertEquals(40.0, ((Number) values.get("sum(bytes)")).doubleValue());
            assertTrue(((String) data.get("summary")).length() > 20);
        }
    }

    @Test
    void eachFinalWindowIsEmittedOnceAndABacklogDrainsInBoundedBatches() {
        int groups = FinalWindows.BATCH_ROWS * 2 + 17;
        for (int i = 0; i < groups; i++) {
            event(T0 + 1_000, "g" + i, i);
        }
        event(T0 + 5 * MINUTE, "a", 1);
        rollups.flush();
        assertEquals(groups, rollups.finalBacklog());
        // A budget that is spent at once still emits one batch, and only one.
        assertEquals(FinalWindows.BATCH_ROWS, rollups.emitFinal(durable, 0));
        assertEquals(groups - FinalWindows.BATCH_ROWS, rollups.finalBacklog());
        assertEquals(groups - FinalWindows.BATCH_ROWS, rollups.emitFinal(durable, BUDGET));
        assertEquals(0, rollups.emitFinal(durable, BUDGET));
        List<FinalWindow> windows = inLog();
        assertEquals(groups, windows.size());
        assertEquals(
                groups, windows.stream().map(FinalWindow::groupKey).distinct().count());
    }

    @Test
    void windowsAreMarkedOnlyAfterTheAppendIsDurable() {
        event(T0 + 1_000, "a", 10);
        event(T0 + 5 * MINUTE, "a", 1);
        rollups.flush();
        assertThrows(
                IllegalStateException.class,
                () -> rollups.emitFinal(
                        drafts -> {
                            throw new IllegalStateException("disk full");
                        },
                        BUDGET));
        assertEquals(1, rollups.finalBacklog()); // not marked: emitted again
        assertEquals(1, rollups.emitFinal(durable, BUDGET));
        assertEquals(0, rollups.finalBacklog());
        assertEquals(1, inLog().size());
    }

    @Test
    void aCrashAfterTheDurableAppendBeforeTheMarkEmitsTheWindowAgainWithTheSameContent() {
        event(T0 + 1_000, "a", 10);
        event(T0 + 5 * MINUTE, "a", 1);
        rollups.flush();
        Rollups crashing = rollups;
        assertThrows(
                RuntimeException.class,
                () -> crashing.emitFinal(
                        drafts -> {
                            durable.accept(drafts);
                            crashing.abandon(); // kill -9 once the events are durable, before the mark
                        },
                        BUDGET));
        rollups = reopen();
        assertEquals(1, rollups.finalBacklog());
        assertEquals(1, rollups.emitFinal(durable, BUDGET));
        List<FinalWindow> windows = inLog();
        assertEquals(2, windows.size()); // at least once; the hub's upsert makes the second a no-op
        assertEquals(windows.get(0).groupKey(), windows.get(1).groupKey());
        assertEquals(windows.get(0).windowStart(), windows.get(1).windowStart());
        assertTrue(
                java.util.Arrays.equals(windows.get(0).summary(), windows.get(1).summary()));
    }

    @Test
    void emittedWindowsAreNotEmittedAgainAfterARestartNorAfterACrash() {
        event(T0 + 1_000, "a", 10);
        event(T0 + 1_000, "b", 10);
        event(T0 + 5 * MINUTE, "a", 1);
        rollups.flush();
        assertEquals(2, rollups.emitFinal(durable, BUDGET));
        rollups.abandon(); // kill -9 right after the marking transaction
        rollups = reopen();
        assertEquals(0, rollups.finalBacklog());
        assertEquals(0, rollups.emitFinal(durable, BUDGET));
        // A later window becomes final after the restart: only it goes out.
        event(T0 + 5 * MINUTE + 1_000, "c", 1);
        event(T0 + 20 * MINUTE, "a", 1);
        rollups.flush();
        assertEquals(2, rollups.emitFinal(durable, BUDGET)); // the windows of 5 min: groups a and c
        rollups.close();
        rollups = reopen();
        assertEquals(0, rollups.emitFinal(durable, BUDGET));
        assertEquals(4, inLog().size());
    }
}

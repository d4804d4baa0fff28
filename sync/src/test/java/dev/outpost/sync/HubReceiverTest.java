package dev.outpost.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.AckedRanges;
import dev.outpost.store.AppendResult;
import dev.outpost.store.Catalog;
import dev.outpost.store.DiskFullException;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventDraft;
import dev.outpost.store.EventLog;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LanedLog;
import dev.outpost.store.LogCounters;
import dev.outpost.store.LogOptions;
import dev.outpost.store.RecordView;
import dev.outpost.sync.wire.PushAck;
import dev.outpost.sync.wire.PushBatch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hub side of push on real node logs and a real catalog: exactly once, whatever the edge resends. */
class HubReceiverTest {
    @TempDir
    Path dir;

    Catalog catalog;
    final Map<String, LanedEventLog> logs = new HashMap<>();
    final AtomicInteger appends = new AtomicInteger();
    /** Appends made before the disk is "full" (each later one fails as a full disk does); -1: never. */
    final AtomicInteger appendsBeforeFull = new AtomicInteger(-1);

    /** The nodes' logs, one real laned log each; counts the appends made through it. */
    final HubReceiver.NodeLogs nodeLogs = new HubReceiver.NodeLogs() {
        @Override
        public <T> T with(String node, Function<LanedLog, T> use) {
            LanedEventLog log = logs.computeIfAbsent(
                    node, n -> LanedEventLog.open(LogOptions.defaults(dir.resolve(n)), HybridClock.system()));
            return use.apply(new Counting(log));
        }
    };

    /** A real log, with its appends counted. */
    final class Counting implements LanedLog {
        final LanedEventLog log;

        Counting(LanedEventLog log) {
            this.log = log;
        }

        @Override
        public EventLog lane(Lane lane) {
            return log.lane(lane);
        }

        @Override
        public AppendResult append(List<EventDraft> drafts) {
            appends.incrementAndGet();
            return log.append(drafts);
        }

        @Override
        public AppendResult append(Lane lane, List<EventDraft> drafts) {
            int full = appendsBeforeFull.get();
            if (full >= 0 && appends.get() >= full) {
                throw new DiskFullException("append", dir, null);
            }
            appends.incrementAndGet();
            return log.append(lane, drafts);
        }

        @Override
        public long lastSeq() {
            return log.lastSeq();
        }

        @Override
        public long firstSeq() {
            return log.firstSeq();
        }

        @Override
        public EventCursor cursorFromSeq(long fromSeq) {
            return log.cursorFromSeq(fromSeq);
        }

        @Override
        public long seqAtOrAfterTime(long hlc) {
            return log.seqAtOrAfterTime(hlc);
        }

        @Override
        public LogCounters counters() {
            return log.counters();
        }

        @Override
        public void close() {}
    }

    @BeforeEach
    void open() {
        catalog = Catalog.open(dir.resolve("catalog.db"));
    }

    @AfterEach
    void close() {
        logs.values().forEach(LanedEventLog::close);
        catalog.close();
    }

    HubReceiver receiver(long appendBytesMax) {
        return new HubReceiver(nodeLogs, catalog, 1000, appendBytesMax);
    }

    static PushBatch batch(String node, Lane lane, long from, long to, long... seqs) {
        List<PushBatch.Record> rs = new ArrayList<>();
        for (long s : seqs) {
            rs.add(new PushBatch.Record(
                    s,
                    500 + s,
                    "readings",
                    ("{\"stream\":\"readings\",\"data\":{\"s\":" + s + "}}").getBytes(StandardCharsets.UTF_8)));
        }
        return new PushBatch(node, lane, from, to, rs);
    }

    /** The edge sequence numbers stored in a node's lane, in the hub's order. */
    List<Long> stored(String node, Lane lane) {
        List<Long> out = new ArrayList<>();
        EventLog l = logs.get(node).lane(lane);
        if (l.lastSeq() < l.firstSeq()) {
            return out;
        }
        try (EventCursor c = l.cursorFromSeq(1)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                long[] seqHlc = HubReceiver.edgeSeqAndHlc(v);
                assertEquals(500 + seqHlc[0], seqHlc[1], "the edge's ingest time is kept");
                out.add(seqHlc[0]);
            }
        }
        return out;
    }

    @Test
    void storesEachRecordOnceAndAcknowledgesTheRange() {
        HubReceiver r = receiver(1 << 20);
        assertEquals(
                new PushAck("edge-1", Lane.NORMAL, 1, 5, 3, 0), r.receive(batch("edge-1", Lane.NORMAL, 1, 5, 1, 3, 5)));
        assertEquals(
                new PushAck("edge-1", Lane.NORMAL, 1, 5, 0, 3),
                r.receive(batch("edge-1", Lane.NORMAL, 1, 5, 1, 3, 5)),
                "a resend (the edge lost the answer) stores nothing");
        assertEquals(
                new PushAck("edge-1", Lane.NORMAL, 4, 8, 1, 1),
                r.receive(batch("edge-1", Lane.NORMAL, 4, 8, 5, 7)),
                "an overlapping batch stores only what is new");
        assertEquals(List.of(1L, 3L, 5L, 7L), stored("edge-1", Lane.NORMAL));
        assertEquals(
                List.of(new AckedRanges.Range(1, 8)),
                r.received("edge-1", Lane.NORMAL).ranges());
        assertEquals(
                List.of(new AckedRanges.Range(1, 8)),
                catalog.syncCursor(HubReceiver.CURSOR_PREFIX + "edge-1", "normal")
                        .ranges(),
                "persisted before the answer");
        assertTrue(r.received("edge-1", Lane.BULK).isEmpty(), "lanes apart");
        assertTrue(r.received("edge-2", Lane.NORMAL).isEmpty(), "nodes apart");
        r.received("edge-1", Lane.NORMAL).add(100, 200);
        assertEquals(1, r.received("edge-1", Lane.NORMAL).rangeCount(), "received() is a copy");
    }

    @Test
    void anEmptyBatchClosesAHoleWithoutStoringAnything() {
        HubReceiver r = receiver(1 << 20);
        r.receive(batch("edge-1", Lane.CRITICAL, 1, 2, 1, 2));
        r.receive(batch("edge-1", Lane.CRITICAL, 6, 6, 6));
        assertEquals(new PushAck("edge-1", Lane.CRITICAL, 3, 5, 0, 0), r.receive(batch("edge-1", Lane.CRITICAL, 3, 5)));
        assertEquals(
                List.of(new AckedRanges.Range(1, 6)),
                r.received("edge-1", Lane.CRITICAL).ranges());
    }

    @Test
    void largeBatchesAreStoredInBoundedAppends() {
        HubReceiver r = receiver(4 * (40 + HubReceiver.RECORD_OVERHEAD_BYTES)); // about 4 records per append
        long[] seqs = new long[20];
        for (int i = 0; i < seqs.length; i++) {
            seqs[i] = i + 1;
        }
        assertEquals(20, r.receive(batch("edge-1", Lane.BULK, 1, 20, seqs)).stored());
        assertTrue(appends.get() >= 5, "split into bounded appends: " + appends.get());
        assertEquals(20, stored("edge-1", Lane.BULK).size());
        assertEquals(
                List.of(new AckedRanges.Range(1, 20)),
                r.received("edge-1", Lane.BULK).ranges());
    }

    /** A push whose second append fails (a full disk) stored its first: resent, those are not stored again. */
    @Test
    void aPushThatFailedHalfwayIsNotStoredTwiceWhenResent() {
        HubReceiver r = receiver(4 * (40 + HubReceiver.RECORD_OVERHEAD_BYTES)); // about 4 records per append
        long[] seqs = new long[20];
        for (int i = 0; i < seqs.length; i++) {
            seqs[i] = i + 1;
        }
        PushBatch b = batch("edge-1", Lane.BULK, 1, 20, seqs);
        appendsBeforeFull.set(1);
        assertThrows(DiskFullException.class, () -> r.receive(b));
        int half = stored("edge-1", Lane.BULK).size();
        assertTrue(half > 0 && half < 20, "the first append was stored: " + half);
        appendsBeforeFull.set(-1);
        assertEquals(20 - half, r.receive(b).stored(), "only what was not stored");
        List<Long> expected = new ArrayList<>();
        for (long s = 1; s <= 20; s++) {
            expected.add(s);
        }
        assertEquals(expected, stored("edge-1", Lane.BULK), "each record once");
        assertEquals(
                List.of(new AckedRanges.Range(1, 20)),
                r.received("edge-1", Lane.BULK).ranges());
    }

    /** A crash between storing the records and recording the range: the next load finds them in the log. */
    @Test
    void recordsStoredButNotRecordedAreFoundOnTheNextLoad() {
        receiver(1 << 20).receive(batch("edge-1", Lane.HIGH, 1, 3, 1, 2, 3));
        nodeLogs.with(
                "edge-1",
                log -> log.append(
                                Lane.HIGH,
                                List.of(
                                        new EventDraft(
                                                "readings",
                                                "10:510",
                                                null,
                                                0,
                                                1,
                                                null,
                                                "{}".getBytes(StandardCharsets.UTF_8)),
                                        new EventDraft(
                                                "readings",
                                                "11:511",
                                                null,
                                                0,
                                                1,
                                                null,
                                                "{}".getBytes(StandardCharsets.UTF_8))))
                        .durable()
                        .join());
        HubReceiver restarted = receiver(1 << 20);
        AckedRanges r = restarted.received("edge-1", Lane.HIGH);
        assertEquals(List.of(new AckedRanges.Range(1, 3), new AckedRanges.Range(10, 11)), r.ranges());
        assertEquals(
                r.ranges(),
                catalog.syncCursor(HubReceiver.CURSOR_PREFIX + "edge-1", "high").ranges(),
                "repaired");
        assertEquals(
                new PushAck("edge-1", Lane.HIGH, 10, 11, 0, 2),
                restarted.receive(batch("edge-1", Lane.HIGH, 10, 11, 10, 11)),
                "the edge's resend is not stored twice");
    }

    @Test
    void tooManyGapsAreRefusedWith409AfterTheRecordsAreStored() {
        AckedRanges full = new AckedRanges();
        for (int i = 0; i < AckedRanges.RANGES_MAX; i++) {
            full.add(10L * i + 1, 10L * i + 1);
        }
        catalog.putSyncCursor(HubReceiver.CURSOR_PREFIX + "edge-1", "normal", full);
        HubReceiver r = receiver(1 << 20);
        SyncException e = assertThrows(SyncException.class, () -> r.receive(batch("edge-1", Lane.NORMAL, 5, 5, 5)));
        assertEquals(409, e.status());
        assertTrue(e.getMessage().contains("oldest unacknowledged data first"), e.getMessage());
        assertEquals(List.of(5L), stored("edge-1", Lane.NORMAL), "stored: nothing is lost");
    }

    @Test
    void anEventIdThatIsNotAnEdgePositionIsNotOne() {
        nodeLogs.with(
                "edge-1",
                log -> log.append(
                                Lane.NORMAL,
                                List.of(
                                        new EventDraft(
                                                "s",
                                                "client-id",
                                                null,
                                                0,
                                                1,
                                                null,
                                                "{}".getBytes(StandardCharsets.UTF_8)),
                                        new EventDraft(
                                                "s", "x:y", null, 0, 1, null, "{}".getBytes(StandardCharsets.UTF_8))))
                        .durable()
                        .join());
        try (EventCursor c = logs.get("edge-1").cursorFromSeq(1)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                assertNull(HubReceiver.edgeSeqAndHlc(v), v.eventId());
            }
        }
        assertTrue(receiver(1 << 20).received("edge-1", Lane.NORMAL).isEmpty(), "ignored by the repair too");
    }
}

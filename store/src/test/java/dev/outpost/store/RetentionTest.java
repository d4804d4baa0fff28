package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retention on real one-second cycle files. */
class RetentionTest {
    @TempDir
    Path dir;

    private static LogOptions secondly(Path dir) {
        return LogOptions.defaults(dir).withRollCycle("SECONDLY");
    }

    private static EventDraft draft(String stream) {
        return EventDraft.of(stream, "{\"v\":1}".getBytes(StandardCharsets.UTF_8));
    }

    /** The log's wall clock, moved by the test: a cycle (one second) ends when it says so. */
    final AtomicLong wallMillis = new AtomicLong(System.currentTimeMillis());

    /** Writes to every lane across at least {@code cycles} one-second cycles; returns seqs per lane. */
    private Map<Lane, List<Long>> fill(LanedEventLog log, int cycles) {
        Map<Lane, List<Long>> seqs = new java.util.EnumMap<>(Lane.class);
        for (Lane l : Lane.values()) {
            seqs.put(l, new ArrayList<>());
        }
        for (int c = 0; c < cycles; c++) {
            for (Lane l : Lane.values()) {
                for (int i = 0; i < 3; i++) {
                    String stream = l.id() + (i % 2 == 0 ? "-a" : "-b");
                    seqs.get(l).add(log.append(l, List.of(draft(stream))).firstSeq());
                }
            }
            wallMillis.addAndGet(1050);
        }
        return seqs;
    }

    private static Set<Long> present(EventLog log) {
        Set<Long> out = new HashSet<>();
        try (EventCursor c = log.cursorFromSeq(1)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                out.add(v.seq());
            }
        }
        return out;
    }

    @Test
    void dropsBulkBeforeNormalAndNeverCriticalOrHighCountingEveryEvent() throws Exception {
        try (LanedEventLog log = LanedEventLog.open(secondly(dir), new HybridClock(wallMillis::get))) {
            Map<Lane, List<Long>> seqs = fill(log, 3);
            List<Retention.Deleted> deleted = new ArrayList<>();
            Retention r = new Retention(log, deleted::add);
            int bulkCycles = log.lane(Lane.BULK).cycles(100).size();
            assertTrue(bulkCycles >= 3, "one cycle per second: " + bulkCycles);
            // Ask for one byte: exactly the oldest bulk cycle goes.
            long freed = r.dropUnsynced(1, List.of(Lane.BULK, Lane.NORMAL), Retention.Synced.NOTHING);
            assertTrue(freed > 0);
            assertEquals(1, deleted.size());
            Retention.Deleted d = deleted.getFirst();
            assertEquals(Lane.BULK, d.lane());
            assertEquals(3, d.events());
            assertEquals(3, d.unsyncedEvents());
            assertEquals(Map.of("bulk-a", 2L, "bulk-b", 1L), d.unsyncedByStream());
            assertEquals(Retention.REASON_DISK_CRITICAL, d.reason());
            // Everything: all older bulk cycles go before any normal one; the current ones stay.
            r.dropUnsynced(Long.MAX_VALUE, List.of(Lane.BULK, Lane.NORMAL), Retention.Synced.NOTHING);
            List<Lane> order = deleted.stream().map(Retention.Deleted::lane).toList();
            int firstNormal = order.indexOf(Lane.NORMAL);
            assertTrue(firstNormal > 0, order.toString());
            assertFalse(order.subList(firstNormal, order.size()).contains(Lane.BULK), order.toString());
            assertTrue(
                    log.lane(Lane.BULK).cycles(100).stream().allMatch(ChronicleEventLog.Cycle::current),
                    "only a cycle of the present second may be left");
            // What is left reads back exactly; critical and high are whole; the counts match the loss.
            Set<Long> left = present(log);
            long dropped = deleted.stream()
                    .mapToLong(Retention.Deleted::unsyncedEvents)
                    .sum();
            long written = seqs.values().stream().mapToLong(List::size).sum();
            assertEquals(written - dropped, left.size(), "every dropped event is counted");
            assertTrue(left.containsAll(seqs.get(Lane.CRITICAL)));
            assertTrue(left.containsAll(seqs.get(Lane.HIGH)));
        }
    }

    @Test
    void retiresOnlyAcknowledgedCyclesOldestFirst() throws Exception {
        try (LanedEventLog log = LanedEventLog.open(secondly(dir), new HybridClock(wallMillis::get))) {
            Map<Lane, List<Long>> seqs = fill(log, 3);
            // Upstream acknowledged everything of the critical lane and the first cycle of bulk.
            List<ChronicleEventLog.Cycle> bulk = log.lane(Lane.BULK).cycles(100);
            long bulkAckedTo = bulk.getFirst().lastSeq();
            Retention.Synced synced =
                    (lane, from, to) -> lane == Lane.CRITICAL || (lane == Lane.BULK && to <= bulkAckedTo);
            List<Retention.Deleted> deleted = new ArrayList<>();
            Retention r = new Retention(log, deleted::add);
            r.retireSynced(Long.MAX_VALUE, synced);
            assertFalse(deleted.isEmpty());
            for (Retention.Deleted d : deleted) {
                assertEquals(0, d.unsyncedEvents(), "only synced data is retired: " + d);
                assertEquals(Retention.REASON_SYNCED, d.reason());
                assertTrue(d.lane() == Lane.CRITICAL || d.lane() == Lane.BULK, d.toString());
            }
            for (int i = 1; i < deleted.size(); i++) {
                assertTrue(deleted.get(i - 1).cycle() <= deleted.get(i).cycle(), "oldest first");
            }
            Set<Long> left = present(log);
            assertTrue(left.containsAll(seqs.get(Lane.HIGH)));
            assertTrue(left.containsAll(seqs.get(Lane.NORMAL)));
            assertFalse(left.contains(seqs.get(Lane.BULK).getFirst()));
            assertTrue(left.contains(seqs.get(Lane.BULK).getLast()));
            // The log goes on after deletions, and a reopen sees the same.
            long next = log.append(Lane.BULK, List.of(draft("bulk-a"))).firstSeq();
            assertEquals(log.lastSeq(), next);
        }
        try (LanedEventLog log = LanedEventLog.open(secondly(dir), new HybridClock(wallMillis::get))) {
            assertTrue(log.firstSeq() > 1, "the retired cycles stay gone");
        }
    }

    @Test
    void aCycleOfASummarisedStreamGoesOnlyOnceItsSummariesCoverIt() throws Exception {
        try (LanedEventLog log = LanedEventLog.open(secondly(dir), new HybridClock(wallMillis::get))) {
            fill(log, 3);
            AtomicLong covered = new AtomicLong(0);
            Retention.Summaries summaries = new Retention.Summaries() {
                @Override
                public boolean has(String stream) {
                    return stream.equals("bulk-a");
                }

                @Override
                public long coveredSeq(String stream) {
                    return covered.get();
                }
            };
            List<Retention.Deleted> deleted = new ArrayList<>();
            Retention r = new Retention(log, deleted::add, summaries);
            ChronicleEventLog.Cycle oldest = log.lane(Lane.BULK).cycles(100).getFirst();
            assertEquals(0, r.dropUnsynced(Long.MAX_VALUE, List.of(Lane.BULK), Retention.Synced.NOTHING));
            assertEquals(
                    0,
                    r.retireSynced(Long.MAX_VALUE, (lane, from, to) -> lane == Lane.BULK),
                    "synced or not, it waits");
            assertTrue(deleted.isEmpty(), "nothing of bulk goes while its summaries cover none of it");
            covered.set(oldest.lastSeq()); // the rollups caught up with the oldest cycle only
            assertTrue(r.dropUnsynced(Long.MAX_VALUE, List.of(Lane.BULK), Retention.Synced.NOTHING) > 0);
            assertEquals(1, deleted.size(), "exactly the covered cycle: " + deleted);
            Retention.Deleted d = deleted.getFirst();
            assertEquals(oldest.cycle(), d.cycle());
            assertEquals(Map.of("bulk-a", 2L), d.summarisedByStream(), "bulk-b has no summaries: not counted");
            assertEquals(Map.of("bulk-a", 2L, "bulk-b", 1L), d.eventsByStream());
        }
    }

    /**
     * Retention may delete every file of every lane (their cycles are over and nothing was written since); a sequence
     * number is still never given twice, across a restart too: sync cursors, Last-Event-ID and the hub's received
     * ranges all rest on it.
     */
    @Test
    void seqsNeverRestartAfterRetentionDeletedEveryFile() throws Exception {
        long last;
        try (LanedEventLog log = LanedEventLog.open(secondly(dir), new HybridClock(wallMillis::get))) {
            fill(log, 2);
            last = log.lastSeq();
            for (Lane l : Lane.values()) {
                for (ChronicleEventLog.Cycle c : log.lane(l).cycles(100)) {
                    log.lane(l).deleteCycle(c.cycle());
                }
            }
            assertTrue(present(log).isEmpty(), "every record was deleted");
            assertEquals(last + 1, log.append(Lane.NORMAL, List.of(draft("n"))).firstSeq(), "while open");
            last++;
            wallMillis.addAndGet(1050);
            for (Lane l : Lane.values()) {
                for (ChronicleEventLog.Cycle c : log.lane(l).cycles(100)) {
                    log.lane(l).deleteCycle(c.cycle());
                }
            }
        }
        try (LanedEventLog log = LanedEventLog.open(secondly(dir), new HybridClock(wallMillis::get))) {
            assertTrue(log.lastSeq() >= last, "after a restart the log is at " + log.lastSeq() + ", was at " + last);
            assertEquals(last + 1, log.append(Lane.HIGH, List.of(draft("h"))).firstSeq(), "after a restart");
        }
    }
}

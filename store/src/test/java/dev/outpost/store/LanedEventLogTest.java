package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The laned log against a simple reference: a sorted map of every sequence appended to its payload. */
class LanedEventLogTest {
    @TempDir
    Path dir;

    private static EventDraft draft(String stream, String json) {
        return EventDraft.of(stream, json.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> read(EventLog log, long from) {
        List<String> out = new ArrayList<>();
        try (EventCursor c = log.cursorFromSeq(from)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                out.add(v.seq() + ":" + v.stream() + ":" + new String(v.payload(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static List<String> expected(TreeMap<Long, String> model, long from) {
        List<String> out = new ArrayList<>();
        model.tailMap(from, true).forEach((seq, s) -> out.add(seq + ":" + s));
        return out;
    }

    /**
     * A follower reads on as the log grows, under bounds that move on in random steps (at most the last seq, as a live
     * tail asks), and meets every record once in seq order — also of lanes that were empty when it started — against
     * the reference; so does a second follower started in the middle.
     */
    @Test
    void aFollowerReadsOnAsTheLogGrowsUnderMovingBounds() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        TreeMap<Long, String> model = new TreeMap<>();
        List<String> fromStart = new ArrayList<>();
        List<String> fromMiddle = new ArrayList<>();
        long middle = 0;
        try (LanedEventLog log = LanedEventLog.open(LogOptions.defaults(dir), HybridClock.system());
                EventFollower all = log.follow(1)) {
            EventFollower later = null;
            RecordView v = new RecordView();
            for (int i = 0; i < 300; i++) {
                Lane lane = i < 100 ? Lane.NORMAL : Lane.values()[rnd.nextInt(4)];
                int n = 1 + rnd.nextInt(5);
                List<EventDraft> drafts = new ArrayList<>();
                for (int j = 0; j < n; j++) {
                    drafts.add(draft(lane.id(), "{\"i\":" + i + ",\"j\":" + j + "}"));
                }
                AppendResult r = log.append(lane, drafts);
                for (int j = 0; j < n; j++) {
                    model.put(r.firstSeq() + j, lane.id() + ":{\"i\":" + i + ",\"j\":" + j + "}");
                }
                if (i == 150) {
                    middle = r.firstSeq();
                    later = log.follow(middle);
                }
                long bound = rnd.nextInt(3) == 0 ? log.lastSeq() : log.lastSeq() - rnd.nextInt(8);
                for (int k = rnd.nextInt(40); k > 0 && all.next(v, bound); k--) {
                    assertTrue(v.seq() <= bound, "seed " + seed);
                    fromStart.add(v.seq() + ":" + v.stream() + ":" + new String(v.payload(), StandardCharsets.UTF_8));
                }
                while (later != null && later.next(v, bound)) {
                    fromMiddle.add(v.seq() + ":" + v.stream() + ":" + new String(v.payload(), StandardCharsets.UTF_8));
                }
            }
            while (all.next(v, log.lastSeq())) {
                fromStart.add(v.seq() + ":" + v.stream() + ":" + new String(v.payload(), StandardCharsets.UTF_8));
            }
            while (later.next(v, log.lastSeq())) {
                fromMiddle.add(v.seq() + ":" + v.stream() + ":" + new String(v.payload(), StandardCharsets.UTF_8));
            }
            later.close();
        }
        assertEquals(expected(model, 1), fromStart, "seed " + seed);
        assertEquals(expected(model, middle), fromMiddle, "seed " + seed);
    }

    @Test
    void lanesShareOneSequenceAndReadBackMergedInOrder() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        TreeMap<Long, String> model = new TreeMap<>();
        try (LanedEventLog log = LanedEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            for (int i = 0; i < 400; i++) {
                Lane lane = Lane.values()[rnd.nextInt(4)];
                int n = 1 + rnd.nextInt(5);
                List<EventDraft> drafts = new ArrayList<>();
                for (int j = 0; j < n; j++) {
                    drafts.add(draft(lane.id(), "{\"i\":" + i + ",\"j\":" + j + "}"));
                }
                AppendResult r = log.append(lane, drafts);
                assertEquals(log.lastSeq(), r.lastSeq(), "seed " + seed);
                for (int j = 0; j < n; j++) {
                    model.put(r.firstSeq() + j, lane.id() + ":{\"i\":" + i + ",\"j\":" + j + "}");
                }
                if (rnd.nextInt(20) == 0) {
                    long from = 1 + rnd.nextInt((int) log.lastSeq());
                    assertEquals(expected(model, from), read(log, from), "seed " + seed + " from " + from);
                }
            }
            assertEquals(model.size(), log.lastSeq(), "one sequence for all lanes, no gaps: seed " + seed);
            assertEquals(expected(model, 1), read(log, 1));
        }
        try (LanedEventLog log = LanedEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            assertEquals(model.lastKey(), log.lastSeq(), "recovered as the highest lane's last");
            assertEquals(1, log.firstSeq());
            assertEquals(expected(model, 1), read(log, 1));
            AppendResult r = log.append(Lane.BULK, List.of(draft("b", "{}")));
            assertEquals(model.lastKey() + 1, r.firstSeq(), "numbering goes on after the highest lane");
        }
    }

    /** What the agent prints once when it stops: never a bare "seq 0" per empty lane. */
    @Test
    void summarySaysWhatIsHeldPerLane() {
        try (LanedEventLog log = LanedEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            assertEquals("empty: it holds no events", log.summary());
            log.append(Lane.NORMAL, List.of(draft("a", "{}"), draft("a", "{}")));
            log.append(Lane.HIGH, List.of(draft("h", "{}")));
            log.append(Lane.NORMAL, List.of(draft("a", "{}")));
            assertEquals(
                    "at seq 4 holding seq 1..4, by lane: high 3..3; normal 1..4; empty: critical, bulk", log.summary());
        }
        try (LanedEventLog log = LanedEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            assertEquals(
                    "at seq 4 holding seq 1..4, by lane: high 3..3; normal 1..4; empty: critical, bulk", log.summary());
        }
    }

    @Test
    void concurrentAppendsToDifferentLanesGetDistinctIncreasingSequences() throws Exception {
        try (LanedEventLog log = LanedEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> fs = new ArrayList<>();
            for (Lane lane : Lane.values()) {
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < 500; i++) {
                        log.append(lane, List.of(draft(lane.id(), "{}"), draft(lane.id(), "{}")));
                    }
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            pool.shutdown();
            List<String> all = read(log, 1);
            assertEquals(4000, all.size());
            for (int i = 0; i < all.size(); i++) {
                assertTrue(all.get(i).startsWith((i + 1) + ":"), "merged in sequence order: " + all.get(i));
            }
            // A lane alone has gaps but increases.
            long prev = 0;
            try (EventCursor c = log.lane(Lane.HIGH).cursorFromSeq(1)) {
                RecordView v = new RecordView();
                int n = 0;
                while (c.next(v)) {
                    assertTrue(v.seq() > prev);
                    assertEquals("high", v.stream());
                    prev = v.seq();
                    n++;
                }
                assertEquals(1000, n);
            }
        }
    }

    @Test
    void timeSeekFindsTheEarliestLane() throws Exception {
        java.util.concurrent.atomic.AtomicLong wallMillis =
                new java.util.concurrent.atomic.AtomicLong(1_700_000_000_000L);
        HybridClock clock = new HybridClock(wallMillis::get);
        try (LanedEventLog log = LanedEventLog.open(LogOptions.defaults(dir), clock)) {
            log.append(Lane.BULK, List.of(draft("b", "{}")));
            long t = HybridClock.atMillis(wallMillis.addAndGet(5));
            AppendResult crit = log.append(Lane.CRITICAL, List.of(draft("c", "{}")));
            log.append(Lane.BULK, List.of(draft("b", "{}")));
            assertEquals(crit.firstSeq(), log.seqAtOrAfterTime(t));
            assertEquals(log.lastSeq() + 1, log.seqAtOrAfterTime(Long.MAX_VALUE));
        }
    }
}

package dev.outpost.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.AckedRanges;
import dev.outpost.store.ChronicleEventLog;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventDraft;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogOptions;
import dev.outpost.store.RecordView;
import dev.outpost.sync.wire.PushBatch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kept backlog against a simple model (the lane's records minus the acknowledged set) over random
 * appends, acknowledged batches, wholesale replacements and a retention delete, on a real log.
 */
class BacklogTallyTest {
    @TempDir
    Path dir;

    /** A batch as the pusher reads it: the lane's unacknowledged records from the first gap on. */
    static List<PushBatch.Record> batch(ChronicleEventLog l, AckedRanges acked, int max) {
        List<PushBatch.Record> out = new ArrayList<>();
        long from = Math.max(acked.firstGap(1), l.firstSeq());
        if (from > l.lastSeq()) {
            return out;
        }
        try (EventCursor c = l.cursorFromSeq(from)) {
            RecordView v = new RecordView();
            while (out.size() < max && c.next(v) && !acked.contains(v.seq())) {
                out.add(new PushBatch.Record(v.seq(), v.hlc(), v.stream(), v.payload()));
            }
        }
        return out;
    }

    static TreeMap<Long, Integer> unsent(TreeMap<Long, Integer> stored, AckedRanges acked) {
        TreeMap<Long, Integer> out = new TreeMap<>(stored);
        out.keySet().removeIf(acked::contains);
        return out;
    }

    /** The log's wall clock, moved by the test: cycles (one per second) end when it says so. */
    final AtomicLong wallMillis = new AtomicLong(System.currentTimeMillis());

    @Test
    void agreesWithAModelOfUnsentRecords() throws Exception {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        try (LanedEventLog log = LanedEventLog.open(
                LogOptions.defaults(dir).withRollCycle("SECONDLY"), new HybridClock(wallMillis::get))) {
            ChronicleEventLog l = log.lane(Lane.NORMAL);
            AckedRanges acked = new AckedRanges();
            BacklogTally tally = new BacklogTally(l, AckedRanges.decode(acked.encode(), null));
            TreeMap<Long, Integer> stored = new TreeMap<>(); // the lane's records: sequence to payload size
            boolean deleted = false;
            for (int step = 0; step < 3000; step++) {
                int op = rnd.nextInt(100);
                if (op < 40) {
                    wallMillis.addAndGet(rnd.nextInt(20)); // time passes: the lane spans many cycles
                    Lane lane = rnd.nextInt(3) == 0 ? Lane.BULK : Lane.NORMAL; // other lanes take sequences too
                    List<EventDraft> drafts = new ArrayList<>();
                    int n = 1 + rnd.nextInt(8);
                    for (int j = 0; j < n; j++) {
                        byte[] p = ("{\"x\":\"" + "y".repeat(rnd.nextInt(50)) + "\"}").getBytes(StandardCharsets.UTF_8);
                        drafts.add(EventDraft.of("s", p));
                    }
                    var r = log.append(lane, drafts);
                    if (lane == Lane.NORMAL) {
                        for (int j = 0; j < n; j++) {
                            stored.put(r.firstSeq() + j, drafts.get(j).payload().length);
                        }
                    }
                } else if (op < 65) {
                    List<PushBatch.Record> b = batch(l, acked, 1 + rnd.nextInt(20));
                    if (!b.isEmpty()) {
                        acked.add(b.getFirst().seq(), b.getLast().seq());
                        tally.acknowledged(AckedRanges.decode(acked.encode(), null), b);
                    }
                } else if (op < 68) {
                    // Re-derived from the hub: it holds some other set (here: a random prefix, which may
                    // be less than was acknowledged here: the hub lost a tail in a crash).
                    acked = new AckedRanges();
                    long to = log.lastSeq() == 0 ? 0 : 1 + rnd.nextLong(log.lastSeq());
                    if (to > 0) {
                        acked.add(1, to);
                    }
                    tally.replace(AckedRanges.decode(acked.encode(), null));
                } else if (op < 69 && !deleted && step > 1500) {
                    // Retention deletes the lane's oldest cycle, unsent records included.
                    wallMillis.addAndGet(1100); // the current cycle is never deleted: let it end
                    log.append(Lane.NORMAL, List.of(EventDraft.of("s", "{}".getBytes(StandardCharsets.UTF_8))));
                    stored.put(log.lastSeq(), 2);
                    var oldest = l.cycles(1).getFirst();
                    l.deleteCycle(oldest.cycle());
                    stored.headMap(l.firstSeq(), false).clear();
                    deleted = true;
                } else {
                    int bound = rnd.nextBoolean() ? 1_000_000 : 1 + rnd.nextInt(30);
                    boolean total = rnd.nextInt(4) == 0; // the pusher's count for its headers: no oldest
                    Pusher.Backlog b = total ? BacklogTally.total(List.of(tally)) : tally.read(bound);
                    TreeMap<Long, Integer> unsent = unsent(stored, acked);
                    if (b.exact()) {
                        assertEquals(unsent.size(), b.records(), "records, seed " + seed + " step " + step);
                        long bytes = unsent.values().stream()
                                .mapToLong(Integer::longValue)
                                .sum();
                        assertEquals(bytes, b.bytes(), "bytes, seed " + seed + " step " + step);
                        if (!unsent.isEmpty() && bound == 1_000_000 && !total) {
                            assertTrue(b.oldestHlc() > 0, "oldest known, seed " + seed);
                        }
                    } else {
                        assertTrue(b.records() <= unsent.size(), "a partial count is a lower bound, seed " + seed);
                    }
                }
            }
            assertTrue(deleted, "the retention step ran");
            Pusher.Backlog b = tally.read(1_000_000);
            assertTrue(b.exact());
            assertEquals(unsent(stored, acked).size(), b.records(), "seed " + seed);
        }
    }
}

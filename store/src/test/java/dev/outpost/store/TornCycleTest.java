package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cycle file whose framing is damaged before its written end (a document header overwritten mid-file), on real
 * files: the records before the damage stay readable, no sequence number is handed out twice, every write acknowledged
 * after the restart reads back (also after another restart), and the loss is counted and quarantined.
 */
class TornCycleTest {
    @TempDir
    Path dir;

    /** How a document header is damaged. */
    enum Damage {
        ZEROED,
        GARBAGE,
        SHORT_LENGTH,
        LONG_LENGTH
    }

    static final int GROUPS = 100;

    static EventDraft draft(String json) {
        return EventDraft.of("s", json.getBytes(StandardCharsets.UTF_8));
    }

    static List<Long> seqs(EventLog log) {
        List<Long> out = new ArrayList<>();
        try (EventCursor c = log.cursorFromSeq(0)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                out.add(v.seq());
            }
        }
        return out;
    }

    /** File offsets of the document headers of every excerpt of the queue in {@code logDir}, in order. */
    static List<Long> headerOffsets(Path logDir) {
        List<Long> out = new ArrayList<>();
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.single(logDir.toFile())
                        .readOnly(true)
                        .build();
                ExcerptTailer t = q.createTailer().toStart()) {
            while (true) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        return out;
                    }
                    out.add(dc.wire().bytes().readPosition() - 4);
                }
            }
        }
    }

    static Path onlyCycleFile(Path logDir) throws IOException {
        try (Stream<Path> s = Files.list(logDir)) {
            return s.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
    }

    static void damage(Path file, long headerAt, Damage how) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(headerAt);
            int header = Integer.reverseBytes(raf.readInt());
            int len = header & 0x3FFFFFFF;
            int damaged = switch (how) {
                case ZEROED -> 0;
                case GARBAGE -> 0xDEADBEEF;
                case SHORT_LENGTH -> (header & ~0x3FFFFFFF) | (len / 2);
                case LONG_LENGTH -> (header & ~0x3FFFFFFF) | (len + 0x7F00);
            };
            raf.seek(headerAt);
            raf.writeInt(Integer.reverseBytes(damaged));
        }
    }

    @Test
    void aDamagedHeaderMidFileNeverReusesNumbersAndLaterWritesReadBack() throws IOException {
        for (Damage how : Damage.values()) {
            for (int at : new int[] {0, 10, 50, 97, GROUPS - 1}) {
                check(dir.resolve(how + "-" + at), how, at);
            }
        }
    }

    private void check(Path data, Damage how, int at) throws IOException {
        String what = how + " at group " + at + ": ";
        LogOptions o = LogOptions.defaults(data).withCompress(false);
        try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
            for (int i = 0; i < GROUPS; i++) {
                log.append(List.of(draft("{\"i\":" + i + "}")));
            }
        }
        long handedOut = GROUPS;
        List<Long> offsets = headerOffsets(data.resolve("log"));
        assertEquals(GROUPS, offsets.size());
        damage(onlyCycleFile(data.resolve("log")), offsets.get(at), how);

        List<Long> acknowledged = new ArrayList<>();
        try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
            List<Long> before = seqs(log);
            assertTrue(before.size() >= at, what + "the records before the damage read back: " + before.size());
            for (int i = 0; i < before.size(); i++) {
                assertEquals(i + 1L, before.get(i), what + "in order, none missing before the damage");
            }
            assertTrue(log.counters().quarantined.sum() >= 1, what + "the loss is counted");
            assertTrue(log.quarantinedGroupCount() >= 1, what + "and quarantined");
            for (int i = 0; i < 5; i++) {
                AppendResult r = log.append(List.of(draft("{\"new\":" + i + "}")));
                assertTrue(r.firstSeq() > handedOut, what + "new seq " + r.firstSeq() + " above " + handedOut);
                acknowledged.add(r.firstSeq());
            }
            assertTrue(seqs(log).containsAll(acknowledged), what + "acknowledged writes read back: " + seqs(log));
        }
        try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
            List<Long> all = seqs(log);
            assertTrue(all.containsAll(acknowledged), what + "after another restart: " + all);
            assertEquals(0, log.counters().quarantined.sum(), what + "the tear is not counted twice");
            assertEquals(acknowledged.getLast(), log.lastSeq());
            long next = log.append(List.of(draft("{}"))).firstSeq();
            assertEquals(acknowledged.getLast() + 1, next, what + "numbering goes on from the new cycle");
        }
    }

    @Test
    void aTornLastCycleIsQuarantinedFlooredAndLeftForANewCycle() throws IOException {
        LogOptions o = LogOptions.defaults(dir).withCompress(false);
        try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
            for (int i = 0; i < GROUPS; i++) {
                log.append(List.of(draft("{\"i\":" + i + "}"), draft("{\"j\":" + i + "}")));
            }
        }
        Path cycle = onlyCycleFile(dir.resolve("log"));
        damage(cycle, headerOffsets(dir.resolve("log")).get(40), Damage.GARBAGE);
        try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
            assertEquals(80, log.lastSeq(), "the lane's last readable record");
            assertEquals(60, log.counters().quarantined.sum(), "60 groups after the tear are lost");
            Path q = log.quarantineFile(log.quarantinedGroups().getFirst());
            assertTrue(Files.size(q) > 0, "the torn region is kept aside");
            assertTrue(Files.readString(dir.resolve("quarantine").resolve(Quarantine.TORN))
                    .strip()
                    .endsWith(" " + log.quarantinedGroups().getFirst()));
            assertEquals(201, log.append(List.of(draft("{}"))).firstSeq(), "above the 200 handed out");
            try (Stream<Path> s = Files.list(dir.resolve("log"))) {
                assertEquals(2, s.filter(p -> p.toString().endsWith(".cq4")).count(), "a new cycle file");
            }
            try (EventCursor c = log.cursorFromSeq(150)) {
                RecordView v = new RecordView();
                assertTrue(c.next(v));
                assertEquals(201, v.seq(), "a seek into the lost range lands after it, never on the lost records");
                assertFalse(c.next(v));
            }
        }
        assertTrue(new SeqFloor(dir.resolve("log")).seq() >= 200, "the floor is on disk");
    }

    @Test
    void readersGoOnPastAnOlderCycleTornAfterItWasClosed() throws IOException {
        AtomicLong now = new AtomicLong(1_800_000_000_000L);
        HybridClock clock = new HybridClock(now::get);
        LogOptions o = LogOptions.defaults(dir).withCompress(false).withRollCycle("SECONDLY");
        try (ChronicleEventLog log = ChronicleEventLog.open(o, clock)) {
            for (int i = 0; i < 20; i++) {
                log.append(List.of(draft("{\"old\":" + i + "}")));
            }
            now.addAndGet(2_000);
            for (int i = 0; i < 5; i++) {
                log.append(List.of(draft("{\"new\":" + i + "}")));
            }
        }
        Path older;
        try (Stream<Path> s = Files.list(dir.resolve("log"))) {
            older = s.filter(p -> p.toString().endsWith(".cq4"))
                    .sorted()
                    .findFirst()
                    .orElseThrow();
        }
        damage(older, headerOffsets(dir.resolve("log")).get(8), Damage.ZEROED);
        LogCheck.Report r = LogCheck.check(dir.resolve("log"), dir.resolve("quarantine"), n -> {});
        assertEquals(1, r.torn(), "fsck finds the tear");
        assertEquals(12, r.tornGroups());
        assertFalse(r.clean());
        assertEquals(8 + 5, r.records(), "fsck reads on past it");
        try (ChronicleEventLog log = ChronicleEventLog.open(o, clock)) {
            List<Long> all = seqs(log);
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 21L, 22L, 23L, 24L, 25L), all);
            assertEquals(1, log.counters().corruptSkipped.sum(), "the unrecorded tear is counted by the reader");
            assertEquals(1, log.recordTears(), "--repair records it");
            assertNotNull(log.quarantineFile(log.quarantinedGroups().getFirst()));
        }
        LogCheck.Report after = LogCheck.check(dir.resolve("log"), dir.resolve("quarantine"), n -> {});
        assertTrue(after.clean(), "recorded: " + after);
        assertEquals(13, after.records());
    }

    @Test
    void aWriteThatNeverCompletedAfterTheLastExcerptIsNoTear() throws IOException {
        LogOptions o = LogOptions.defaults(dir).withCompress(false);
        try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
            for (int i = 0; i < 20; i++) {
                log.append(List.of(draft("{\"i\":" + i + "}")));
            }
        }
        List<Long> offsets = headerOffsets(dir.resolve("log"));
        long last = offsets.getLast();
        Path file = onlyCycleFile(dir.resolve("log"));
        long next;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(last);
            int len = Integer.reverseBytes(raf.readInt()) & 0x3FFFFFFF;
            next = (last + 4 + len + 3) & ~3L;
            raf.seek(next);
            raf.writeInt(Integer.reverseBytes(0x80000000 | 40)); // kill -9 in the middle of an excerpt
            raf.write(new byte[] {'G', 1, 2, 3});
        }
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.single(
                        dir.resolve("log").toFile())
                .readOnly(true)
                .build()) {
            assertEquals(null, TornCycle.find(q, q.lastCycle()), "an unfinished write is not a tear");
        }
        LogCheck.Report r = LogCheck.check(dir.resolve("log"), dir.resolve("quarantine"), n -> {});
        assertTrue(r.clean(), r.toString());
        assertEquals(20, r.records());
    }

    @Test
    void aTornLaneNumbersAboveEveryLaneAndTheMergedLogReadsOn() throws IOException {
        LogOptions o = LogOptions.defaults(dir).withCompress(false);
        try (LanedEventLog log = LanedEventLog.open(o, HybridClock.system())) {
            for (int i = 0; i < 60; i++) {
                log.append(i % 3 == 0 ? Lane.HIGH : Lane.NORMAL, List.of(draft("{\"i\":" + i + "}")));
            }
        }
        Path normal = dir.resolve("log").resolve("normal");
        damage(onlyCycleFile(normal), headerOffsets(normal).get(15), Damage.GARBAGE);
        List<Long> acknowledged = new ArrayList<>();
        try (LanedEventLog log = LanedEventLog.open(o, HybridClock.system())) {
            List<Long> readable = seqs(log);
            assertTrue(
                    readable.containsAll(List.of(1L, 2L, 3L, 58L)), "before the tear and the other lane: " + readable);
            assertEquals(25, log.counters().quarantined.sum(), "the normal lane's 40 groups from its 16th on");
            for (Lane lane : List.of(Lane.NORMAL, Lane.HIGH, Lane.NORMAL)) {
                long seq = log.append(lane, List.of(draft("{}"))).firstSeq();
                assertTrue(seq > 60, "above every number handed out in any lane: " + seq);
                acknowledged.add(seq);
            }
        }
        try (LanedEventLog log = LanedEventLog.open(o, HybridClock.system())) {
            List<Long> all = seqs(log);
            assertTrue(all.containsAll(acknowledged), all.toString());
            for (int i = 1; i < all.size(); i++) {
                assertTrue(all.get(i) > all.get(i - 1), "one increasing log: " + all);
            }
        }
    }

    /**
     * Random damage (seeded, so a failure names its seed): groups of random sizes, raw or compressed, one header (or
     * a body word) overwritten with zeros, random bits, or a nearby or random length; then the same checks: the
     * groups before the damage read back, new numbers lie above all handed out, every acknowledged write reads back
     * after another restart, anything unreadable is counted.
     */
    @Test
    void randomDamageKeepsTheInvariants() throws IOException {
        for (long seed = 1; seed <= 30; seed++) {
            java.util.Random rnd = new java.util.Random(seed);
            Path data = dir.resolve("seed-" + seed);
            LogOptions o = LogOptions.defaults(data).withCompress(rnd.nextBoolean());
            int groups = 20 + rnd.nextInt(120);
            List<Long> lastSeqOfGroup = new ArrayList<>();
            try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
                for (int g = 0; g < groups; g++) {
                    List<EventDraft> ds = new ArrayList<>();
                    for (int k = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 60 : 3); k > 0; k--) {
                        ds.add(draft("{\"g\":" + g + ",\"pad\":\"" + "x".repeat(rnd.nextInt(300)) + "\"}"));
                    }
                    lastSeqOfGroup.add(log.append(ds).lastSeq());
                }
            }
            long handedOut = lastSeqOfGroup.getLast();
            List<Long> offsets = headerOffsets(data.resolve("log"));
            int at = rnd.nextInt(groups);
            long pos = offsets.get(at) + (rnd.nextInt(4) == 0 ? 4 + 4L * rnd.nextInt(6) : 0);
            int how = rnd.nextInt(4);
            try (RandomAccessFile raf =
                    new RandomAccessFile(onlyCycleFile(data.resolve("log")).toFile(), "rw")) {
                raf.seek(pos);
                int word = Integer.reverseBytes(raf.readInt());
                int damaged = switch (how) {
                    case 0 -> 0;
                    case 1 -> rnd.nextInt();
                    case 2 -> rnd.nextInt() & 0x3FFFFFFF;
                    default -> (word & ~0x3FFFFFFF) | Math.max(0, (word & 0x3FFFFFFF) + rnd.nextInt(64) - 32);
                };
                raf.seek(pos);
                raf.writeInt(Integer.reverseBytes(damaged));
            }
            String what = "seed " + seed + " (" + groups + " groups, damage " + how + " at group " + at + "): ";
            List<Long> acknowledged = new ArrayList<>();
            try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
                List<Long> readable = seqs(log);
                long before = at == 0 ? 0 : lastSeqOfGroup.get(at - 1);
                for (long q = 1; q <= before; q++) {
                    assertTrue(readable.contains(q), what + "seq " + q + " was before the damage: " + readable);
                }
                if (readable.size() < handedOut) {
                    assertTrue(
                            log.counters().quarantined.sum()
                                            + log.counters().corruptSkipped.sum()
                                    > 0,
                            what + "the loss is counted");
                }
                for (int i = 0; i < 3; i++) {
                    long seq = log.append(List.of(draft("{\"new\":" + i + "}"))).firstSeq();
                    assertTrue(seq > handedOut, what + "new seq " + seq + " above " + handedOut);
                    acknowledged.add(seq);
                }
            }
            try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
                List<Long> all = seqs(log);
                assertTrue(all.containsAll(acknowledged), what + "acknowledged writes read back: " + all);
                for (int i = 1; i < all.size(); i++) {
                    assertTrue(all.get(i) > all.get(i - 1), what + "one increasing log: " + all);
                }
            }
        }
    }
}

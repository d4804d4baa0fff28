package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChronicleEventLogTest {
    @TempDir
    Path dir;

    private static EventDraft draft(String stream, String json) {
        return EventDraft.of(stream, json.getBytes(StandardCharsets.UTF_8));
    }

    private static List<Long> readSeqs(EventLog log, long from) {
        List<Long> out = new ArrayList<>();
        try (EventCursor c = log.cursorFromSeq(from)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                out.add(v.seq());
            }
        }
        return out;
    }

    @Test
    void appendsGetConsecutiveSequencesAndReadBackInOrder() {
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            AppendResult a = log.append(List.of(draft("s", "{\"a\":1}"), draft("t", "{\"a\":2}")));
            AppendResult b = log.append(List.of(draft("s", "{\"a\":3}")));
            assertEquals(1, a.firstSeq());
            assertEquals(2, a.lastSeq());
            assertEquals(3, b.firstSeq());
            assertEquals(3, log.lastSeq());
            assertEquals(1, log.firstSeq());
            try (EventCursor c = log.cursorFromSeq(2)) {
                RecordView v = new RecordView();
                assertTrue(c.next(v));
                assertEquals(2, v.seq());
                assertEquals("t", v.stream());
                assertEquals("{\"a\":2}", new String(v.payload(), StandardCharsets.UTF_8));
                assertTrue(c.next(v));
                assertEquals(3, v.seq());
                assertFalse(c.next(v));
            }
        }
    }

    /**
     * A draft's payload is a slice of a larger array (the request's body, not a copy of the event), and names that are
     * not ASCII are written as UTF-8: both read back exactly, with a valid checksum.
     */
    @Test
    void aPayloadSliceAndNonAsciiNamesReadBackExactly() {
        byte[] body = "xx{\"a\":\"ü\"}\n{\"b\":2}yy".getBytes(StandardCharsets.UTF_8);
        int firstLength = "{\"a\":\"ü\"}".getBytes(StandardCharsets.UTF_8).length;
        int second = 2 + firstLength + 1;
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            log.append(List.of(
                    new EventDraft("s", "id-é", "schlüssel-✓", 0, 2, null, body, 2, firstLength),
                    new EventDraft("s", "plain", "schlüssel-✓", 1, 2, null, body, second, 7)));
            try (EventCursor c = log.cursorFromSeq(1)) {
                RecordView v = new RecordView();
                assertTrue(c.next(v));
                assertEquals("id-é", v.eventId());
                assertEquals("schlüssel-✓", v.requestKey());
                assertEquals("{\"a\":\"ü\"}", new String(v.payload(), StandardCharsets.UTF_8));
                assertTrue(c.next(v));
                assertEquals("plain", v.eventId());
                assertEquals("{\"b\":2}", new String(v.payload(), StandardCharsets.UTF_8));
                assertFalse(c.next(v));
            }
            assertEquals(0, log.counters().corruptSkipped.sum());
        }
    }

    @Test
    void recordsKeepTheirMetadata() {
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            log.append(List.of(new EventDraft(
                    "s", "e1", "req", 3, 7, new long[] {1, 42, 5, 43}, "{}".getBytes(StandardCharsets.UTF_8))));
            try (EventCursor c = log.cursorFromSeq(1)) {
                RecordView v = new RecordView();
                assertTrue(c.next(v));
                assertEquals("e1", v.eventId());
                assertEquals("req", v.requestKey());
                assertEquals(3, v.lineIndex());
                assertEquals(7, v.lineCount());
                assertArrayEquals(new long[] {1, 42, 5, 43}, v.duplicates());
                assertTrue(v.streamEquals("s".getBytes(StandardCharsets.UTF_8)));
                assertFalse(v.streamEquals("st".getBytes(StandardCharsets.UTF_8)));
            }
        }
    }

    /**
     * Model-based: random batch sizes, random seeks, compared with a plain list of what was written. More groups are
     * written than the log remembers ({@link GroupIndex#RECENT_GROUPS}), so seeks take both ways: among the groups just
     * appended, and the search over the cycle; after a reopen, the search only.
     */
    @Test
    void seeksAgreeWithAReferenceModel() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        List<Long> model = new ArrayList<>();
        List<Long> hlcs = new ArrayList<>();
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            for (int batch = 0; batch < GroupIndex.RECENT_GROUPS + 300; batch++) {
                int n = 1 + rnd.nextInt(20);
                List<EventDraft> ds = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    ds.add(draft("s" + rnd.nextInt(3), "{\"i\":" + i + "}"));
                }
                AppendResult r = log.append(ds);
                for (int i = 0; i < n; i++) {
                    model.add(r.firstSeq() + i);
                }
            }
            try (EventCursor c = log.cursorFromSeq(1)) {
                RecordView v = new RecordView();
                while (c.next(v)) {
                    hlcs.add(v.hlc());
                }
            }
            assertEquals(model.size(), hlcs.size(), "seed " + seed);
            for (int i = 1; i < hlcs.size(); i++) {
                assertTrue(hlcs.get(i) > hlcs.get(i - 1), "HLC must increase, seed " + seed);
            }
            for (int q = 0; q < 200; q++) {
                long from = rnd.nextInt(model.size() + 10);
                List<Long> expect = model.stream().filter(s -> s >= from).toList();
                assertEquals(expect, readSeqs(log, from), "from " + from + " seed " + seed);
                int pick = rnd.nextInt(hlcs.size());
                long t = hlcs.get(pick);
                assertEquals(pick + 1L, log.seqAtOrAfterTime(t), "time seek, seed " + seed);
                assertEquals(
                        pick + 1L,
                        log.seqAtOrAfterTime(t - (pick > 0 && hlcs.get(pick - 1) == t - 1 ? 0 : 1)),
                        "time seek just before, seed " + seed);
            }
            assertEquals(model.size() + 1L, log.seqAtOrAfterTime(Long.MAX_VALUE));
        }
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            for (int q = 0; q < 50; q++) {
                long from = rnd.nextInt(model.size() + 10);
                assertEquals(
                        model.stream().filter(s -> s >= from).toList(),
                        readSeqs(log, from),
                        "after reopen, from " + from + " seed " + seed);
            }
        }
    }

    @Test
    void reopenContinuesTheSequenceAndTheClock() {
        long lastHlc;
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            log.append(List.of(draft("s", "{}"), draft("s", "{}")));
            lastHlc = log.append(List.of(draft("s", "{}"))).firstHlc();
        }
        // A clock that went back an hour must still produce later timestamps than the log holds.
        HybridClock behind = new HybridClock(() -> System.currentTimeMillis() - 3_600_000);
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), behind)) {
            assertEquals(3, log.lastSeq());
            AppendResult r = log.append(List.of(draft("s", "{}")));
            assertEquals(4, r.firstSeq());
            assertTrue(r.firstHlc() > lastHlc);
            assertEquals(List.of(1L, 2L, 3L, 4L), readSeqs(log, 0));
        }
    }

    @Test
    void corruptTailGroupIsQuarantinedAndNeverBlocksOpen() throws IOException {
        try (ChronicleEventLog log =
                ChronicleEventLog.open(LogOptions.defaults(dir).withCompress(false), HybridClock.system())) {
            log.append(List.of(draft("s", "{\"v\":\"first\"}")));
            log.append(List.of(draft("s", "{\"v\":\"MARKER-LAST\"}"), draft("s", "{\"v\":\"x\"}")));
        }
        flipByteAfter(dir.resolve("log"), "MARKER-LAST");
        try (ChronicleEventLog log =
                ChronicleEventLog.open(LogOptions.defaults(dir).withCompress(false), HybridClock.system())) {
            assertEquals(1, log.lastSeq(), "the corrupt group is not counted");
            assertEquals(1, log.counters().quarantined.sum());
            assertEquals(List.of(1L), readSeqs(log, 0));
            // Its header verifies: seqs 2..3 were handed out, so numbering goes on above them (never reused).
            assertEquals(4, log.append(List.of(draft("s", "{}"))).firstSeq());
            assertEquals(List.of(1L, 4L), readSeqs(log, 0));
        }
        try (Stream<Path> q = Files.list(dir.resolve("quarantine"))) {
            assertEquals(2, q.count(), "the group's bytes and the quarantine list");
        }
        // Reopening does not quarantine it again and still skips it.
        try (ChronicleEventLog log =
                ChronicleEventLog.open(LogOptions.defaults(dir).withCompress(false), HybridClock.system())) {
            assertEquals(0, log.counters().quarantined.sum());
            assertEquals(1, log.quarantinedGroupCount());
            assertEquals(List.of(1L, 4L), readSeqs(log, 0));
            assertEquals(4, log.lastSeq());
        }
    }

    @Test
    void corruptRecordInTheMiddleIsSkippedAndCounted() throws IOException {
        try (ChronicleEventLog log =
                ChronicleEventLog.open(LogOptions.defaults(dir).withCompress(false), HybridClock.system())) {
            log.append(List.of(
                    draft("s", "{\"v\":\"a\"}"), draft("s", "{\"v\":\"MARKER-MID\"}"), draft("s", "{\"v\":\"c\"}")));
            log.append(List.of(draft("s", "{\"v\":\"d\"}")));
        }
        flipByteAfter(dir.resolve("log"), "MARKER-MID");
        try (ChronicleEventLog log =
                ChronicleEventLog.open(LogOptions.defaults(dir).withCompress(false), HybridClock.system())) {
            assertEquals(4, log.lastSeq());
            assertEquals(List.of(1L, 3L, 4L), readSeqs(log, 0));
            assertEquals(1, log.counters().corruptSkipped.sum());
        }
    }

    @Test
    void fsyncDurabilityAcknowledgesAfterGroupCommit() throws Exception {
        LogOptions o = LogOptions.defaults(dir).withDurability(Durability.FSYNC);
        try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
            List<AppendResult> rs = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                rs.add(log.append(List.of(draft("s", "{}"))));
            }
            for (AppendResult r : rs) {
                r.durable().get(5, TimeUnit.SECONDS);
            }
            assertTrue(log.counters().fsyncs.sum() >= 1);
            assertTrue(log.counters().fsyncs.sum() <= 50);
        }
    }

    @Test
    void chronicleNeverWritesAnalyticsFiles() throws IOException {
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            log.append(List.of(draft("s", "{}")));
        }
        assertEquals("true", System.getProperty("chronicle.analytics.disable"));
        try (Stream<Path> home = Files.list(Path.of(System.getProperty("user.home")))) {
            assertEquals(
                    List.of(),
                    home.filter(p -> p.getFileName().toString().startsWith(".chronicle.analytics"))
                            .toList());
        }
        assertFalse(
                classExists("net.openhft.chronicle.analytics.Analytics"),
                "chronicle-analytics must not be on the classpath");
    }

    private static boolean classExists(String name) {
        try {
            Class.forName(name);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    @Test
    void compressibleRequestsAreStoredCompressedAndReadTransparently() {
        String big = "{\"site\":\"store-0042\",\"temp_c\":21.5,\"door\":\"closed\",\"fw\":\"4.2.1\"}";
        List<EventDraft> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            batch.add(draft("sensors", big.replace("21.5", Integer.toString(i))));
        }
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            log.append(batch);
            log.append(List.of(draft("s", "{}"))); // tiny: stays raw
            long stored = log.counters().appendedBytes.sum();
            long plain = log.counters().uncompressedBytes.sum();
            assertTrue(stored * 3 < plain, "LZ4 on the hot log: " + stored + " of " + plain);
            try (EventCursor c = log.cursorFromSeq(1)) {
                RecordView v = new RecordView();
                for (int i = 0; i < 100; i++) {
                    assertTrue(c.next(v));
                    assertEquals(
                            big.replace("21.5", Integer.toString(i)), new String(v.payload(), StandardCharsets.UTF_8));
                }
                assertTrue(c.next(v));
                assertEquals(101, v.seq());
                assertFalse(c.next(v));
            }
        }
    }

    /** Raw groups written before compression was on, and compressed ones after, read as one log. */
    @Test
    void rawAndCompressedGroupsMixAcrossRestarts() {
        String e = "{\"k\":\"" + "abc".repeat(400) + "\"}"; // two of these pass the hot-log threshold
        try (ChronicleEventLog log =
                ChronicleEventLog.open(LogOptions.defaults(dir).withCompress(false), HybridClock.system())) {
            log.append(List.of(draft("s", e), draft("s", e)));
            assertEquals(
                    log.counters().appendedBytes.sum(),
                    log.counters().uncompressedBytes.sum());
        }
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            log.append(List.of(draft("s", e), draft("s", e)));
            assertTrue(log.counters().appendedBytes.sum()
                    < log.counters().uncompressedBytes.sum());
        }
        try (ChronicleEventLog log =
                ChronicleEventLog.open(LogOptions.defaults(dir).withCompress(false), HybridClock.system())) {
            assertEquals(4, log.lastSeq());
            assertEquals(List.of(1L, 2L, 3L, 4L), readSeqs(log, 0));
            assertEquals(3, log.seqAtOrAfterTime(firstHlcOf(log, 3)));
        }
    }

    private static long firstHlcOf(EventLog log, long seq) {
        try (EventCursor c = log.cursorFromSeq(seq)) {
            RecordView v = new RecordView();
            assertTrue(c.next(v));
            return v.hlc();
        }
    }

    @Test
    void corruptCompressedTailGroupIsQuarantined() throws IOException {
        String e = "{\"k\":\"" + "xyz".repeat(200) + "\"}";
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            log.append(List.of(draft("s", e), draft("s", e)));
            log.append(List.of(draft("s", e), draft("s", e)));
            assertTrue(log.counters().appendedBytes.sum()
                    < log.counters().uncompressedBytes.sum());
        }
        flipLastDataByte(dir.resolve("log"));
        try (ChronicleEventLog log = ChronicleEventLog.open(LogOptions.defaults(dir), HybridClock.system())) {
            assertEquals(1, log.counters().quarantined.sum());
            assertEquals(2, log.lastSeq());
            assertEquals(List.of(1L, 2L), readSeqs(log, 0));
        }
    }

    /** Flips the last non-zero byte of the newest cycle file: inside the last excerpt written. */
    static void flipLastDataByte(Path logDir) throws IOException {
        try (Stream<Path> files = Files.list(logDir)) {
            Path f = files.filter(p -> p.toString().endsWith(".cq4"))
                    .max(java.util.Comparator.naturalOrder())
                    .orElseThrow();
            byte[] all = Files.readAllBytes(f);
            int i = all.length - 1;
            while (i > 0 && all[i] == 0) {
                i--;
            }
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.seek(i);
                raf.write(all[i] ^ 0x5A);
            }
        }
    }

    /** Flips a byte just after the first occurrence of {@code marker} in any cycle file. */
    static void flipByteAfter(Path logDir, String marker) throws IOException {
        byte[] m = marker.getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> files = Files.list(logDir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cq4")).toList()) {
                byte[] all = Files.readAllBytes(f);
                for (int i = 0; i + m.length < all.length; i++) {
                    if (java.util.Arrays.equals(all, i, i + m.length, m, 0, m.length)) {
                        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                            raf.seek(i + m.length);
                            raf.write(all[i + m.length] ^ 0x5A);
                        }
                        return;
                    }
                }
            }
        }
        throw new AssertionError("marker not found: " + marker);
    }
}

package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.config.ConfigLoader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code outpost fsck} on a real data directory: clean, held by an agent, corrupted, repaired. */
class DataCheckTest {
    @TempDir
    Path dir;

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int fsck(String... args) {
        out.reset();
        err.reset();
        return DataCheck.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    Path data() {
        return dir.resolve("data");
    }

    void ingest(int events) throws Exception {
        Path cfg = dir.resolve("c.yaml");
        Files.writeString(
                cfg,
                "data:\n  dir: " + data() + "\nhttp:\n  port: 0\n"
                        // in-process: the governor measures the whole test JVM, so the budget must hold it
                        + "budget:\n  memory: 16GiB\n");
        try (Main.RunningAgent agent = Main.start(ConfigLoader.load(cfg))) {
            HttpClient http = HttpClient.newHttpClient();
            for (int i = 0; i < events; i++) {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port() + "/v1/events"))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(
                                        "{\"stream\":\"s\",\"data\":{\"mark\":\"MARKER-" + i + "-abcdefgh\"}}"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
            }
            int before = fsck(data().toString());
            assertEquals(1, before, "an agent holds the directory: " + out());
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("stop it first"));
        }
    }

    @Test
    void aCleanDirectoryChecksCleanAndIsNotChanged() throws Exception {
        ingest(20);
        var digest = digest();
        assertEquals(0, fsck(data().toString()), out() + err);
        assertTrue(out().contains("log/normal") && out().contains("20 records (seq 1..20)"), out());
        assertTrue(out().contains("catalog.db       integrity ok"), out());
        assertTrue(out().contains("summary: clean"), out());
        assertEquals(digest, digest(), "a read-only check changes nothing");
    }

    /** Flips one bit inside event {@code i}'s stored bytes: its checksum no longer holds. */
    void corrupt(int i) throws Exception {
        Path cycle = cycleFile();
        byte[] b = Files.readAllBytes(cycle);
        int at = indexOf(b, ("MARKER-" + i + "-").getBytes(StandardCharsets.UTF_8));
        assertTrue(at > 0, "the marker is stored as written");
        b[at + 2] ^= 0x20;
        Files.write(cycle, b);
    }

    @Test
    void aCorruptTailIsFoundReadOnlyAndQuarantinedByTheRepairAsAStartDoes() throws Exception {
        ingest(20);
        corrupt(19); // the last group: what a torn write leaves, and what start-up recovery sets aside
        var digest = digest();
        assertEquals(1, fsck(data().toString()), out());
        assertTrue(out().contains("19 records (seq 1..19), corrupt 1"), out());
        assertTrue(out().contains("--repair"), out());
        assertEquals(digest, digest(), "a read-only check changes nothing, even a corrupt log");

        assertEquals(0, fsck(data().toString(), "--repair"), out() + err);
        assertTrue(out().contains("quarantined groups 1"), out());
        assertEquals(0, fsck(data().toString()), "clean after the repair: " + out());
        assertTrue(out().contains("corrupt 0, quarantined groups 1"), out());
    }

    @Test
    void aCorruptRecordInsideTheLogStaysCountedAfterTheRepair() throws Exception {
        ingest(20);
        corrupt(7); // start-up recovery looks at the tail only; readers skip and count this one
        assertEquals(1, fsck(data().toString()), out());
        assertTrue(out().contains("corrupt 1"), out());
        assertEquals(1, fsck(data().toString(), "--repair"), out());
        assertTrue(out().contains("readers skip"), out());
    }

    @Test
    void aCycleTornMidFileIsReportedAndTheNextStartNumbersAboveItInANewCycle() throws Exception {
        ingest(40);
        Path cycle = cycleFile();
        long header = excerptHeaders(data().resolve("log").resolve("normal")).get(20);
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(cycle.toFile(), "rw")) {
            raf.seek(header);
            raf.writeInt(0); // a document header zeroed mid-file: groups 21..40 are past the tear
        }
        assertEquals(1, fsck(data().toString()), out());
        assertTrue(out().contains("20 records (seq 1..20)") && out().contains("TORN cycles 1 (20 groups"), out());

        ingest(3); // a start records the tear (the lane's last cycle) and appends in a new cycle file
        assertEquals(0, fsck(data().toString()), "recorded by the start: " + out());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("log/normal +23 records \\(seq 1\\.\\.(\\d+)\\)")
                .matcher(out());
        assertTrue(m.find(), out());
        assertTrue(Long.parseLong(m.group(1)) > 40, "new numbers above the 40 handed out before: " + out());
        assertTrue(out().contains("quarantined groups 1"), out());
    }

    /**
     * A cycle file created but never written (the agent killed as it made it): the check names it without reading
     * the lane (Chronicle would wait out its timeouts, ~30 s, on it) and changes nothing; the repair removes it.
     */
    @Test
    void aCycleFileNeverWrittenIsNamedAndTheRepairRemovesIt() throws Exception {
        ingest(3);
        // The high lane's first write created its first cycle file, sized and never written: the agent stopped there
        Path cycle = data().resolve("log").resolve("high").resolve(cycleFile().getFileName());
        try (var f = new java.io.RandomAccessFile(cycle.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        var digest = digest();
        long t0 = System.nanoTime();
        assertEquals(1, fsck(data().toString()), out());
        assertTrue(
                out().contains("log/high         NOT READ")
                        && out().contains(cycle.getFileName().toString()),
                out());
        assertTrue(out().contains("3 records (seq 1..3)"), "the other lanes are read: " + out());
        assertTrue(System.nanoTime() - t0 < java.util.concurrent.TimeUnit.SECONDS.toNanos(10), "no wait on it");
        assertEquals(digest, digest(), "a read-only check changes nothing");
        assertEquals(0, fsck(data().toString(), "--repair"), out() + err);
        assertTrue(!Files.exists(cycle), "the repair removed it");
        assertEquals(0, fsck(data().toString()), out());
        assertTrue(out().contains("3 records (seq 1..3)"), "nothing acknowledged lost: " + out());
    }

    /** File offsets of the document headers of a lane's excerpts, in order (read through a read-only queue). */
    static List<Long> excerptHeaders(Path lane) {
        List<Long> out = new java.util.ArrayList<>();
        try (var q = net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder.single(lane.toFile())
                        .readOnly(true)
                        .build();
                var t = q.createTailer().toStart()) {
            while (true) {
                try (var dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        return out;
                    }
                    out.add(dc.wire().bytes().readPosition() - 4);
                }
            }
        }
    }

    @Test
    void aBadCommandLineSaysWhatItTakes() {
        assertEquals(Main.EXIT_USAGE, fsck());
        assertEquals(Main.EXIT_USAGE, fsck(dir.toString()), "no log/ in it");
        assertEquals(Main.EXIT_USAGE, fsck(dir.toString(), "--fix"));
        assertEquals(0, fsck("--help"));
        assertTrue(out().contains("usage: outpost fsck DATA_DIR"));
    }

    private Path cycleFile() throws Exception {
        try (Stream<Path> s = Files.list(data().resolve("log").resolve("normal"))) {
            List<Path> cycles = s.filter(p -> p.toString().endsWith(".cq4")).toList();
            assertEquals(1, cycles.size(), cycles.toString());
            return cycles.getFirst();
        }
    }

    /** Each file of the data directory with a digest of its content. */
    private java.util.Map<String, String> digest() throws Exception {
        java.util.Map<String, String> files = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.walk(data())) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                files.put(data().relativize(p).toString(), HexFormat.of().formatHex(md.digest(Files.readAllBytes(p))));
            }
        }
        return files;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}

package dev.outpost.edge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.metrics.Metrics;
import dev.outpost.store.EventCursor;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogOptions;
import dev.outpost.store.RecordView;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests appended together by an {@link AppendRound} get exactly what they would have got one by one (the model:
 * the same requests through the pipeline without a round, on a log of their own): the same outcome, the same
 * sequence numbers and the same log, whatever mix of lanes, Idempotency-Keys and event ids repeated within a round.
 */
class AppendRoundTest {
    @TempDir
    Path dir;

    private static final Function<String, Lane> LANES = s -> switch (s.charAt(0)) {
        case 'c' -> Lane.CRITICAL;
        case 'b' -> Lane.BULK;
        default -> Lane.NORMAL;
    };

    private static final String[] STREAMS = {"c1", "n1", "n2", "b1"};

    @Test
    void roundsAnswerAndStoreExactlyWhatRequestsOneByOneWould() {
        for (long seed = 1; seed <= 20; seed++) {
            compare(seed);
        }
    }

    private void compare(long seed) {
        Random r = new Random(seed);
        List<String[]> requests = new ArrayList<>(); // {body, key}
        for (int i = 0; i < 300; i++) {
            String id = r.nextInt(3) == 0 ? ",\"id\":\"e" + r.nextInt(40) + "\"" : "";
            String stream = STREAMS[r.nextInt(STREAMS.length)];
            String body = "{\"stream\":\"" + stream + "\"" + id + ",\"data\":{\"i\":" + i + "}}";
            String key = r.nextInt(5) == 0 ? "k" + r.nextInt(30) : null;
            requests.add(new String[] {body, key});
        }
        try (LanedEventLog alone = open("alone-" + seed);
                LanedEventLog together = open("together-" + seed)) {
            IngestPipeline one = pipeline(alone);
            List<String> expected = new ArrayList<>();
            for (String[] q : requests) {
                expected.add(text(one.ingest(request(q, null)).join()));
            }
            IngestPipeline all = pipeline(together);
            List<Runnable> tasks = new ArrayList<>();
            AppendRound round = new AppendRound(all, tasks::add, Runnable::run);
            List<CompletableFuture<IngestOutcome>> outcomes = new ArrayList<>();
            int i = 0;
            while (i < requests.size()) {
                int pass = 1 + r.nextInt(12); // requests one loop admits in a pass
                for (int k = 0; k < pass && i < requests.size(); k++, i++) {
                    outcomes.add(all.ingest(request(requests.get(i), round)));
                }
                assertTrue(tasks.size() <= 1, "one task per pass");
                tasks.forEach(Runnable::run);
                tasks.clear();
            }
            List<String> got = outcomes.stream().map(f -> text(f.join())).toList();
            assertEquals(expected, got, "seed " + seed);
            assertEquals(contents(alone), contents(together), "seed " + seed);
        }
    }

    private LanedEventLog open(String name) {
        return LanedEventLog.open(LogOptions.defaults(dir.resolve(name)), HybridClock.system());
    }

    private static IngestPipeline pipeline(LanedEventLog log) {
        IngestStage pass = batch -> null;
        return new IngestPipeline(
                new EventParser(10, 1024),
                4096,
                pass,
                pass,
                List.of(),
                new Ingestor(log, 20, 20, LANES),
                new Metrics());
    }

    private static IngestPipeline.Request request(String[] q, AppendRound round) {
        byte[] body = q[0].getBytes(StandardCharsets.UTF_8);
        return new IngestPipeline.Request(body, body.length, false, q[1], round == null ? null : round.acks(), round);
    }

    private static String text(IngestOutcome o) {
        return switch (o) {
            case IngestOutcome.Accepted a -> "accepted " + Arrays.toString(a.seqs()) + " " + a.stored();
            case IngestOutcome.Duplicate d -> "duplicate " + Arrays.toString(d.seqs()) + " " + d.replayed();
            default -> o.toString();
        };
    }

    /** Every record: seq, stream, lane-independent payload, request key and line. */
    private static List<String> contents(LanedEventLog log) {
        List<String> out = new ArrayList<>();
        try (EventCursor c = log.cursorFromSeq(1)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                out.add(v.seq() + " " + v.stream() + " " + new String(v.payload(), StandardCharsets.UTF_8) + " "
                        + v.requestKey() + " " + v.lineIndex() + "/" + v.lineCount() + " "
                        + Arrays.toString(v.duplicates()));
            }
        }
        return out;
    }

    /**
     * On a real filesystem that runs full (a tmpfs this test mounts; needs root, as CI has): a round whose group does
     * not fit is refused whole — every request of it answered "filesystem full", none of its events stored — and the
     * next round, once space is freed, is stored.
     */
    @Test
    void aRoundThatDoesNotFitIsRefusedWholeAndNothingOfItIsStored() throws Exception {
        Path mnt = dir.resolve("mnt");
        java.nio.file.Files.createDirectories(mnt);
        String out = run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt.toString());
        assertEquals(null, out, "cannot mount a tmpfs (this test needs root, as in CI)");
        try {
            LogOptions options = new LogOptions(
                    mnt.resolve("log"),
                    mnt.resolve("quarantine"),
                    dev.outpost.store.Durability.OS,
                    "FAST_HOURLY",
                    0,
                    false,
                    1 << 20);
            try (LanedEventLog log = LanedEventLog.open(options, HybridClock.system())) {
                roundsUntilFull(log, mnt);
            }
        } finally {
            assertEquals(null, run("umount", "-l", mnt.toString()));
        }
    }

    private void roundsUntilFull(LanedEventLog log, Path mnt) throws Exception {
        IngestPipeline pipeline = new IngestPipeline(
                new EventParser(10, 1 << 20),
                64 << 10,
                b -> null,
                b -> null,
                List.of(),
                new Ingestor(log, 20, 20, LANES),
                new Metrics());
        List<Runnable> tasks = new ArrayList<>();
        AppendRound round = new AppendRound(pipeline, tasks::add, Runnable::run);
        String pad = "x".repeat(20_000);
        List<String> stored = new ArrayList<>();
        Path filler = mnt.resolve("filler");
        for (int r = 0; ; r++) {
            List<String> bodies = new ArrayList<>();
            List<CompletableFuture<IngestOutcome>> outcomes = new ArrayList<>();
            for (int k = 0; k < 5; k++) {
                String body = "{\"stream\":\"n1\",\"data\":{\"r\":" + r + ",\"k\":" + k + ",\"p\":\"" + pad + "\"}}";
                bodies.add(body);
                outcomes.add(pipeline.ingest(request(new String[] {body, null}, round)));
            }
            long before = log.lastSeq();
            tasks.forEach(Runnable::run);
            tasks.clear();
            List<IngestOutcome> got =
                    outcomes.stream().map(CompletableFuture::join).toList();
            if (got.getFirst() instanceof IngestOutcome.Refused refused) {
                assertEquals(IngestOutcome.Reason.FILESYSTEM_FULL, refused.reason());
                for (IngestOutcome o : got) {
                    assertTrue(o instanceof IngestOutcome.Refused, "the whole round is refused: " + got);
                }
                assertEquals(before, log.lastSeq(), "nothing of the refused round is stored");
                break;
            }
            got.forEach(o -> assertTrue(o instanceof IngestOutcome.Accepted, o.toString()));
            stored.addAll(bodies);
            if (r == 0) {
                fillLeaving(filler, 300 << 10);
            }
            assertTrue(r < 200, "the filesystem never ran full: the test does not test");
        }
        java.nio.file.Files.delete(filler);
        String after = "{\"stream\":\"n1\",\"data\":{\"after\":true}}";
        CompletableFuture<IngestOutcome> resumed = pipeline.ingest(request(new String[] {after, null}, round));
        assertTrue(!resumed.isDone(), "held for the round");
        tasks.forEach(Runnable::run);
        assertTrue(resumed.join() instanceof IngestOutcome.Accepted, "stored once space is freed: " + resumed.join());
        stored.add(after);
        List<String> read = new ArrayList<>();
        try (EventCursor c = log.cursorFromSeq(1)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                read.add(new String(v.payload(), StandardCharsets.UTF_8));
            }
        }
        assertEquals(stored, read, "every acknowledged event, none of the refused round");
    }

    private static void fillLeaving(Path filler, long leave) throws java.io.IOException {
        long free = java.nio.file.Files.getFileStore(filler.getParent()).getUsableSpace();
        byte[] chunk = new byte[64 << 10];
        try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(filler)) {
            for (long left = free - leave; left > 0; left -= chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, left));
            }
        }
    }

    /** Runs a command; null if it succeeded, else its exit code and output. */
    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return p.waitFor() == 0 ? null : "exit " + p.exitValue() + ": " + out.strip();
    }
}

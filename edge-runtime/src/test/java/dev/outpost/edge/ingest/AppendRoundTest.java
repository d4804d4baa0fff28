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
}

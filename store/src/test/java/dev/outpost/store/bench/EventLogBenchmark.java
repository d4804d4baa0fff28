package dev.outpost.store.bench;

import dev.outpost.store.AppendResult;
import dev.outpost.store.ChronicleEventLog;
import dev.outpost.store.Durability;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventDraft;
import dev.outpost.store.EventLog;
import dev.outpost.store.HybridClock;
import dev.outpost.store.LogOptions;
import dev.outpost.store.RecordView;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Event log micro-benchmarks (run with {@code store/bench-jmh.sh}).
 *
 * <ul>
 *   <li>{@code appendSingle}: one 200-byte event per {@link EventLog#append} call (ops/s = events/s).
 *   <li>{@code appendBatch100}: 100 such events per call (ops/s; events/s = 100 x ops/s).
 *   <li>{@code readSequential}: a cursor over a pre-filled log; scores events/s.
 * </ul>
 *
 * <p>With {@code durability=fsync} each append waits for its fsync (one thread, so no group commit
 * sharing): the cost of one acknowledged write on this disk. Each trial uses its own temp directory;
 * append benchmarks start every iteration on an empty log so the disk use stays bounded.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class EventLogBenchmark {

    static final int EVENT_BYTES = 200;
    static final int BATCH = 100;
    static final int READ_PER_OP = 10_000;
    static final String STREAM = "sensors";

    /** A log in a fresh temp directory; appends start on an empty log each iteration. */
    @State(Scope.Benchmark)
    public static class AppendState {
        @Param({"os", "fsync"})
        public String durability;

        Path trialDir;
        EventLog log;
        boolean waitDurable;
        List<List<EventDraft>> singles;
        List<List<EventDraft>> batches;
        int iteration;
        int next;

        @Setup(Level.Trial)
        public void trial() throws IOException {
            trialDir = Files.createTempDirectory("outpost-jmh-append-");
            SplittableRandom rnd = new SplittableRandom(7);
            singles = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                singles.add(List.of(draft(rnd)));
            }
            batches = new ArrayList<>();
            for (int b = 0; b < 8; b++) {
                List<EventDraft> batch = new ArrayList<>(BATCH);
                for (int i = 0; i < BATCH; i++) {
                    batch.add(draft(rnd));
                }
                batches.add(List.copyOf(batch));
            }
        }

        @Setup(Level.Iteration)
        public void open() {
            Durability d = Durability.valueOf(durability.toUpperCase(Locale.ROOT));
            waitDurable = d == Durability.FSYNC;
            log = ChronicleEventLog.open(
                    LogOptions.defaults(trialDir.resolve("it-" + iteration++)).withDurability(d), HybridClock.system());
        }

        @TearDown(Level.Iteration)
        public void close() {
            log.close();
            deleteTree(trialDir.resolve("it-" + (iteration - 1)));
        }

        @TearDown(Level.Trial)
        public void deleteTrial() {
            deleteTree(trialDir);
        }

        List<EventDraft> nextSingle() {
            List<EventDraft> d = singles.get(next);
            next = (next + 1) & 63;
            return d;
        }

        List<EventDraft> nextBatch() {
            List<EventDraft> d = batches.get(next & 7);
            next = (next + 1) & 63;
            return d;
        }
    }

    /** A pre-filled log read over and over by one cursor. */
    @State(Scope.Benchmark)
    public static class ReadState {
        @Param({"1000000"})
        public int events;

        Path trialDir;
        EventLog log;
        EventCursor cursor;
        final RecordView view = new RecordView();

        @Setup(Level.Trial)
        public void fill() throws IOException {
            trialDir = Files.createTempDirectory("outpost-jmh-read-");
            log = ChronicleEventLog.open(LogOptions.defaults(trialDir), HybridClock.system());
            SplittableRandom rnd = new SplittableRandom(11);
            List<EventDraft> batch = new ArrayList<>(BATCH);
            for (int i = 0; i < 32 * BATCH; i++) {
                batch.add(draft(rnd));
            }
            int written = 0;
            int from = 0;
            while (written < events) {
                int n = Math.min(BATCH, events - written);
                log.append(batch.subList(from, from + n));
                written += n;
                from = (from + BATCH) % batch.size();
            }
            cursor = log.cursorFromSeq(1);
        }

        @TearDown(Level.Trial)
        public void close() {
            cursor.close();
            log.close();
            deleteTree(trialDir);
        }

        /** Fills the view with the next event, wrapping to the start of the log at the end. */
        boolean next() {
            if (cursor.next(view)) {
                return true;
            }
            cursor.close();
            cursor = log.cursorFromSeq(1);
            return cursor.next(view);
        }
    }

    @Benchmark
    public long appendSingle(AppendState s) {
        AppendResult r = s.log.append(s.nextSingle());
        if (s.waitDurable) {
            r.durable().join();
        }
        return r.firstSeq();
    }

    /** Score is appends (of 100 events) per second: multiply by 100 for events/s. */
    @Benchmark
    public long appendBatch100(AppendState s) {
        AppendResult r = s.log.append(s.nextBatch());
        if (s.waitDurable) {
            r.durable().join();
        }
        return r.firstSeq();
    }

    /** Score is events read per second. */
    @Benchmark
    @OperationsPerInvocation(READ_PER_OP)
    public void readSequential(ReadState s, Blackhole bh) {
        for (int i = 0; i < READ_PER_OP; i++) {
            if (!s.next()) {
                throw new IllegalStateException("empty log");
            }
            RecordView v = s.view;
            bh.consume(v.seq());
            bh.consume(v.payloadArray()[v.payloadOffset()]);
        }
    }

    // --- helpers ----------------------------------------------------------------------------------

    private static EventDraft draft(SplittableRandom rnd) {
        StringBuilder sb = new StringBuilder(EVENT_BYTES + 16);
        sb.append("{\"stream\":\"")
                .append(STREAM)
                .append("\",\"key\":\"dev-")
                .append(rnd.nextInt(1000))
                .append("\",\"data\":{\"temp\":")
                .append(rnd.nextInt(-200, 450) / 10.0)
                .append(",\"rpm\":")
                .append(rnd.nextInt(6000))
                .append(",\"site\":\"store-")
                .append(String.format("%04d", rnd.nextInt(5000)))
                .append("\",\"fw\":\"2.4.")
                .append(rnd.nextInt(3))
                .append("\",\"note\":\"");
        while (sb.length() < EVENT_BYTES - 3) {
            sb.append((char) ('a' + rnd.nextInt(26)));
        }
        sb.append("\"}}");
        return EventDraft.of(STREAM, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

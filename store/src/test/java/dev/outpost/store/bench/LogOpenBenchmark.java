package dev.outpost.store.bench;

import dev.outpost.store.ChronicleEventLog;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventDraft;
import dev.outpost.store.HybridClock;
import dev.outpost.store.LogOptions;
import dev.outpost.store.RecordView;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What opening the event log costs as its last cycle grows: an open walks the last cycle's excerpt headers to find a
 * tear (TornCycle), so its time grows with the excerpts in that cycle. {@code open}: open and close a log whose one
 * cycle holds {@code groups} one-event groups of 200 bytes (ms per open); {@code readAll}: a cursor over all of them,
 * the reference for what reading every record costs. Run: {@code BENCH=LogOpenBenchmark store/bench-jmh.sh}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LogOpenBenchmark {
    /** A pre-filled log in a temp directory. */
    @State(Scope.Benchmark)
    public static class Filled {
        @Param({"1000", "100000", "1000000"})
        public int groups;

        Path dir;

        @Setup(Level.Trial)
        public void fill() throws IOException {
            dir = Files.createTempDirectory("outpost-open-bench");
            byte[] payload = ("{\"v\":\"" + "x".repeat(190) + "\"}").getBytes(StandardCharsets.UTF_8);
            try (ChronicleEventLog log = ChronicleEventLog.open(options(), HybridClock.system())) {
                for (int i = 0; i < groups; i++) {
                    log.append(List.of(EventDraft.of("s", payload)));
                }
            }
        }

        LogOptions options() {
            return LogOptions.defaults(dir).withCompress(false).withRollCycle("FAST_DAILY");
        }

        @TearDown(Level.Trial)
        public void delete() throws IOException {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.delete(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
    }

    @Benchmark
    public long open(Filled f) {
        try (ChronicleEventLog log = ChronicleEventLog.open(f.options(), HybridClock.system())) {
            return log.lastSeq();
        }
    }

    @Benchmark
    public long readAll(Filled f) {
        long n = 0;
        try (ChronicleEventLog log = ChronicleEventLog.open(f.options(), HybridClock.system());
                EventCursor c = log.cursorFromSeq(1)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                n++;
            }
        }
        return n;
    }
}

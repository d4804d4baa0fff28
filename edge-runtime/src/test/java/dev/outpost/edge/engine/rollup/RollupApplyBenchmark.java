package dev.outpost.edge.engine.rollup;

import java.io.IOException;
import java.io.UncheckedIOException;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the engine thread spends per event on rollups: {@link Rollups#apply} of a stored traffic event into
 * three rollups of its stream ({@link RollupsTest#SPECS}: 12 groups, 1-minute to 1-hour windows, seven
 * aggregates with quantiles), with a flush every {@link #FLUSH_EVENTS} events, into a real SQLite file. Run
 * with {@code BENCH=RollupApplyBenchmark edge-runtime/bench/jmh.sh}; one op is one event.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class RollupApplyBenchmark {
    static final int FLUSH_EVENTS = 1_000;
    static final int EVENTS = 100_000;

    /** A day of events, fed in a loop with ever higher sequence numbers and times. */
    @State(Scope.Thread)
    public static class Feed {
        Path dir;
        Rollups rollups;
        byte[][] json;
        long[] ingest;
        String[] stream;
        long seq;
        int next;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            dir = Files.createTempDirectory("rollup-apply-bench");
            rollups = Rollups.open(dir.resolve("rollups.db"), System::currentTimeMillis, Limits.DEFAULT);
            rollups.define(RollupsTest.SPECS);
            List<TestEvent> log = TestEvent.traffic(5, EVENTS, 12, 24 * RollupsTest.HOUR, 0);
            json = new byte[EVENTS][];
            ingest = new long[EVENTS];
            stream = new String[EVENTS];
            for (int i = 0; i < EVENTS; i++) {
                // Without ts: the event time is the ingest time, which keeps rising when the feed wraps around.
                TestEvent e = log.get(i);
                json[i] = new TestEvent(e.seq(), e.ingestMillis(), e.stream(), e.key(), null, e.data()).json();
                ingest[i] = e.ingestMillis() - TestEvent.BASE_MILLIS;
                stream[i] = e.stream();
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            rollups.close();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> {
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
    public void apply(Feed f) {
        int i = f.next;
        f.next = (i + 1) % EVENTS;
        long seq = ++f.seq;
        long day = (seq - 1) / EVENTS * 24 * RollupsTest.HOUR;
        f.rollups.apply(seq, TestEvent.BASE_MILLIS + day + f.ingest[i], f.stream[i], f.json[i], 0, f.json[i].length);
        if (seq % FLUSH_EVENTS == 0) {
            f.rollups.flush();
        }
    }
}

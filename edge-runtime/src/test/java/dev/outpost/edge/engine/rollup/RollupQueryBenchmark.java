package dev.outpost.edge.engine.rollup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
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
 * Rollup query latency, issue #12 point 8: 24 h of 1-minute windows x 100 groups (144,000 rows of count,
 * sum and three quantiles) in a real SQLite file; run with {@code BENCH=RollupQueryBenchmark
 * edge-runtime/bench/jmh.sh -bm sample -tu ms} for percentiles.
 *
 * <ul>
 *   <li>{@code firstPage}: the first {@link #PAGE_ROWS} rows of the day.
 *   <li>{@code pageAtCursor}: a page of {@link #PAGE_ROWS} rows at a random point of the day (by cursor).
 *   <li>{@code oneGroupDay}: one group's 1,440 windows of the day, in one page.
 *   <li>{@code oneHourAllGroups}: one hour of all groups, 6,000 rows, in one page.
 * </ul>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class RollupQueryBenchmark {
    static final int GROUPS = 100;
    static final int WINDOWS = 24 * 60;
    static final int PAGE_ROWS = 1_000;
    static final int EVENTS_PER_ROW = 2;
    static final long DAY_START = TestEvent.BASE_MILLIS;
    static final long DAY_END = DAY_START + WINDOWS * 60_000L;

    /** The day of rows, built once. */
    @State(Scope.Benchmark)
    public static class Day {
        Path dir;
        Rollups rollups;
        List<String> cursors = new ArrayList<>();
        final SplittableRandom rnd = new SplittableRandom(3);

        @Setup(Level.Trial)
        public void setup() throws IOException {
            dir = Files.createTempDirectory("rollup-bench");
            rollups = Rollups.open(dir.resolve("rollups.db"), System::currentTimeMillis, Limits.DEFAULT);
            rollups.define(List.of(RollupsTest.spec("day", """
                    {stream: traffic, group_by: [source_ip], window: 1m,
                     aggregates: [count, sum(bytes), p50(bytes), p90(bytes), p99(bytes)]}
                    """)));
            long seq = 0;
            for (int w = 0; w < WINDOWS; w++) {
                for (int g = 0; g < GROUPS; g++) {
                    for (int k = 0; k < EVENTS_PER_ROW; k++) {
                        long t = DAY_START + w * 60_000L + k * 20_000L + g;
                        Map<String, Object> data =
                                Map.of("source_ip", "10.0." + g / 256 + "." + g % 256, "bytes", (long)
                                        rnd.nextInt(1, 2_000_000));
                        new TestEvent(++seq, t, "traffic", null, t, data).applyTo(rollups);
                    }
                }
                if (w % 60 == 59) {
                    rollups.flush();
                }
            }
            rollups.flush();
            String cursor = null;
            do {
                Page p = rollups.query("day", DAY_START, DAY_END, Map.of(), PAGE_ROWS, cursor);
                cursor = p.nextCursor();
                if (cursor != null) {
                    cursors.add(cursor);
                }
            } while (cursor != null);
            if (cursors.size() != WINDOWS * GROUPS / PAGE_ROWS - 1) {
                throw new IllegalStateException("expected " + WINDOWS * GROUPS + " rows, paged " + cursors.size());
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
    public Page firstPage(Day d) {
        return d.rollups.query("day", DAY_START, DAY_END, Map.of(), PAGE_ROWS, null);
    }

    @Benchmark
    public Page pageAtCursor(Day d) {
        String cursor = d.cursors.get(d.rnd.nextInt(d.cursors.size()));
        return d.rollups.query("day", DAY_START, DAY_END, Map.of(), PAGE_ROWS, cursor);
    }

    @Benchmark
    public Page oneGroupDay(Day d) {
        int g = d.rnd.nextInt(GROUPS);
        return d.rollups.query(
                "day", DAY_START, DAY_END, Map.of("source_ip", "10.0." + g / 256 + "." + g % 256), WINDOWS, null);
    }

    @Benchmark
    public Page oneHourAllGroups(Day d) {
        long from = DAY_START + d.rnd.nextInt(23) * 3_600_000L;
        return d.rollups.query("day", from, from + 3_600_000L, Map.of(), 60 * GROUPS, null);
    }
}

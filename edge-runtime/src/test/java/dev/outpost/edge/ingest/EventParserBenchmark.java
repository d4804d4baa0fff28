package dev.outpost.edge.ingest;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Reading one single-event body of the load generator's shape (200 bytes: stream, key, a data object of readings),
 * issue #14: {@code parseSingle} as ingest runs it (the plain shape taken by {@link EventScan}) against the same event
 * read by jackson's parser ({@link EventParser#parseWithJackson}), in the same run
 * ({@code BENCH=EventParserBenchmark edge-runtime/bench/jmh.sh -prof gc}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class EventParserBenchmark {
    private final EventParser parser = new EventParser(1000, 1 << 20);
    private final byte[] event = ("{\"stream\":\"bench\",\"key\":\"dev-417\",\"data\":{\"temp\":21.5,\"hum\":48.2,"
                    + "\"rpm\":3120,\"site\":\"store-0042\",\"volt\":229.8,\"door\":\"closed\",\"fw\":\"2.4.1\","
                    + "\"ok\":true,\"vib\":[0.12,0.4,0.07],\"note\":\"padding padding pad\"}}")
            .getBytes(StandardCharsets.UTF_8);

    @Benchmark
    public ParsedEvent parseSingle() {
        return parser.parseSingle(event, event.length).getFirst();
    }

    @Benchmark
    public ParsedEvent jacksonOnly() {
        return parser.parseWithJackson(event, 0, event.length, 0);
    }
}

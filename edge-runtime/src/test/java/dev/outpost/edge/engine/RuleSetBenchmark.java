package dev.outpost.edge.engine;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;
import org.yaml.snakeyaml.Yaml;

/**
 * Rule evaluation throughput, issue #12 point 8: the ledger rule set plus six more rules over ~200-byte ledger events,
 * on one thread (run with {@code BENCH=dev.outpost.edge.engine.RuleSetBenchmark edge-runtime/bench/jmh.sh -prof gc}).
 *
 * <ul>
 *   <li>{@code sevenRules}: the seven rules below, one op = one stored event evaluated (read once, every rule tested).
 *   <li>{@code ledgerRule}: the ledger rule alone.
 *   <li>{@code fieldsOnly}: the seven rules' fields read by {@link EventReader} into their slots, no rule tested: the
 *       reading part of {@code sevenRules}.
 *   <li>{@code tokensOnly}: for comparison, jackson-core's non-blocking parser (what the evaluator used before its own
 *       reader) reading every token of the event and nothing else: the floor of that design.
 * </ul>
 *
 * <p>Events cycle over {@link #EVENTS} seeded variants with a realistic spread (mostly TCP and UDP to common ports,
 * transfer sizes spread over five decades); a small fraction fires (printed at setup). Target: 2,000,000 events/s.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RuleSetBenchmark {
    static final int EVENTS = 4096;

    static final String LEDGER = """
            ledger-exfil:
              stream: ledger
              threshold: 0.7
              severity: critical
              group_by: source_ip
              cooldown: 5m
              conditions:
                - {field: bytes_transferred, op: gt, value: 1000000, weight: 0.6}
                - {field: protocol, op: in, value: [UNKNOWN, EXPERIMENTAL], weight: 0.4}
            """;

    static final String SIX_MORE = """
            admin-ports-internal:
              stream: ledger
              conditions:
                - {field: port, op: in, value: [22, 23, 445, 3389, 5900]}
                - {field: dest_ip, op: regex, value: '^10\\.0\\.(1|2)\\.'}
            long-transfer:
              stream: ledger
              severity: info
              conditions:
                - {field: duration_ms, op: between, value: [30000, 3600000]}
                - {field: bytes_transferred, op: gt, value: 100000000}
            odd-protocol:
              stream: ledger
              group_by: protocol
              conditions:
                - {field: protocol, op: not_in, value: [TCP, UDP, ICMP, QUIC, UNKNOWN, EXPERIMENTAL]}
            scan-suspect:
              stream: ledger
              threshold: 1.0
              group_by: source_ip
              conditions:
                - {field: bytes_transferred, op: lt, value: 100, weight: 0.5}
                - {field: duration_ms, op: lte, value: 2, weight: 0.3}
                - op: any
                  weight: 0.5
                  conditions:
                    - {field: port, op: eq, value: 0}
                    - {field: port, op: gt, value: 49151}
            zero-bytes-tcp:
              stream: ledger
              severity: info
              conditions:
                - {field: bytes_transferred, op: eq, value: 0}
                - {field: protocol, op: eq, value: TCP}
            dns-tunnel:
              stream: ledger
              conditions:
                - {field: port, op: eq, value: 53}
                - {field: bytes_transferred, op: gt, value: 1000000}
                - {op: not, conditions: [{field: dest_ip, op: regex, value: '^(10|192\\.168)\\.'}]}
                - {field: /key, op: exists}
            """;

    private static final String[] PROTOCOLS = {"TCP", "UDP", "ICMP", "QUIC", "UNKNOWN", "EXPERIMENTAL", "GRE"};
    private static final int[] PROTOCOL_PERMILLE = {700, 200, 50, 35, 7, 5, 3};
    private static final int[] PORTS = {443, 443, 443, 80, 53, 53, 123, 22, 3389, 8443, 0, 51000, 62000};

    /** A compiled rule set, its evaluator and the events, per thread. */
    @State(Scope.Thread)
    public static class Inputs implements Evaluator.Sink {
        byte[][] events;
        Evaluator seven;
        Evaluator ledger;
        FieldTree tree;
        EventFields slots;
        EventReader reader;
        JsonParser parser;
        ByteArrayFeeder feeder;
        int next;
        long fired;

        @Setup(Level.Trial)
        public void setup() {
            SplittableRandom rnd = new SplittableRandom(42);
            events = new byte[EVENTS][];
            long bytes = 0;
            for (int i = 0; i < EVENTS; i++) {
                events[i] = event(rnd, i).getBytes(StandardCharsets.UTF_8);
                bytes += events[i].length;
            }
            try {
                parser = TOKENS.createNonBlockingByteArrayParser();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
            seven = rules(LEDGER + SIX_MORE).evaluator();
            ledger = rules(LEDGER).evaluator();
            tree = seven.ruleSet().rulesOf("ledger").fields();
            slots = new EventFields(tree.slots(), 0);
            reader = new EventReader();
            Map<String, Integer> firings = new TreeMap<>();
            for (byte[] e : events) {
                seven.evaluate(
                        "ledger", e, 0, e.length, f -> firings.merge(f.rule().name(), 1, Integer::sum));
            }
            int total = firings.values().stream().mapToInt(Integer::intValue).sum();
            System.err.printf(
                    Locale.ROOT,
                    "%n%d events, %d bytes on average, %d firings of seven rules (%.2f %%): %s%n",
                    EVENTS,
                    bytes / EVENTS,
                    total,
                    100.0 * total / EVENTS,
                    firings);
        }

        @Override
        public void fired(Firing firing) {
            fired++; // the sink is this state, not a lambda capturing it (which would allocate per call)
        }

        int next() {
            int i = next;
            next = i + 1 == EVENTS ? 0 : i + 1;
            return i;
        }
    }

    static RuleSet rules(String yaml) {
        Map<String, Object> trees = new Yaml().load(yaml);
        List<RuleSpec> specs = new ArrayList<>();
        trees.forEach((name, tree) -> specs.add(RuleSpec.parse(name, tree)));
        return RuleSet.compile(specs, s -> null);
    }

    /** One stored ledger event, about 200 bytes. */
    static String event(SplittableRandom rnd, int i) {
        int p = rnd.nextInt(1000);
        int protocol = 0;
        int upTo = PROTOCOL_PERMILLE[0];
        while (p >= upTo) {
            upTo += PROTOCOL_PERMILLE[++protocol];
        }
        long bytes = (long) Math.pow(10, rnd.nextDouble(1, 6.3)) - 10; // 0 to ~2 MB, log-spread
        long duration = (long) Math.pow(10, rnd.nextDouble(0, 4.8));
        String dest = switch (rnd.nextInt(4)) {
            case 0 -> "10.0." + rnd.nextInt(4) + "." + rnd.nextInt(256);
            case 1 -> "192.168.1." + rnd.nextInt(256);
            default -> rnd.nextInt(1, 224) + "." + rnd.nextInt(256) + "." + rnd.nextInt(256) + "." + rnd.nextInt(256);
        };
        return String.format(
                Locale.ROOT,
                "{\"stream\":\"ledger\",\"key\":\"gw-%04d\",\"ts\":%d,\"id\":\"e-%08x\",\"data\":{\"source_ip\":\"10.0.3.%d\","
                        + "\"dest_ip\":\"%s\",\"bytes_transferred\":%d,\"protocol\":\"%s\",\"port\":%d,\"duration_ms\":%d}}",
                rnd.nextInt(10_000),
                1_795_410_000_000L + i * 37L,
                rnd.nextInt(),
                rnd.nextInt(1, 255),
                dest,
                bytes,
                PROTOCOLS[protocol],
                PORTS[rnd.nextInt(PORTS.length)],
                duration);
    }

    /** The seven rules on one event. */
    @Benchmark
    public long sevenRules(Inputs in) {
        byte[] e = in.events[in.next()];
        in.seven.evaluate("ledger", e, 0, e.length, in);
        return in.fired;
    }

    /** The ledger rule alone on one event. */
    @Benchmark
    public long ledgerRule(Inputs in) {
        byte[] e = in.events[in.next()];
        in.ledger.evaluate("ledger", e, 0, e.length, in);
        return in.fired;
    }

    /** The seven rules' fields read into their slots, no rule tested. */
    @Benchmark
    public int fieldsOnly(Inputs in) {
        byte[] e = in.events[in.next()];
        in.slots.clear(in.tree.slots());
        return in.reader.read(in.tree, e, 0, e.length, in.slots) ? in.slots.kinds[0] : -1;
    }

    private static final JsonFactory TOKENS = JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();

    /** The baseline: every token of one event through the non-blocking parser, nothing kept. */
    @Benchmark
    public int tokensOnly(Inputs in) throws IOException {
        byte[] e = in.events[in.next()];
        in.feeder.feedInput(e, 0, e.length);
        int n = 0;
        for (JsonToken t; (t = in.parser.nextToken()) != JsonToken.NOT_AVAILABLE; ) {
            n += t.id();
        }
        return n;
    }
}

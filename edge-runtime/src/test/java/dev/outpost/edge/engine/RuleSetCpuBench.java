package dev.outpost.edge.engine;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Rule evaluation per CPU-second of the evaluating thread: {@link RuleSetBenchmark}'s cases and events, timed by the
 * thread's own CPU time (ThreadMXBean) instead of the wall clock, so that "on one core" does not depend on what else
 * the box runs (time the thread waits for a core is not counted; cache and memory-bus contention still is). Run with
 * {@code edge-runtime/bench/rules-cpu.sh}.
 *
 * <p>One case per JVM (as JMH forks), so that no case runs with code compiled for another: the case is warmed up for
 * {@code warmup} seconds of CPU, then measured in {@code rounds} rounds of about one CPU-second each; it prints every
 * round and the median. Arguments: {@code case [rounds [warmup]]}, case one of sevenRules, ledgerRule, fieldsOnly,
 * rollupFields (what a rollup per source_ip of bytes and protocol reads, through {@link PathValues});
 * default 7 rounds after 5 seconds.
 */
public final class RuleSetCpuBench {
    private static final int BATCH = 10_000;

    private RuleSetCpuBench() {}

    /** One evaluation of one event. */
    private interface Case {
        long run(byte[] event);
    }

    public static void main(String[] args) {
        String name = args.length > 0 ? args[0] : "sevenRules";
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        if (!threads.isCurrentThreadCpuTimeSupported()) {
            throw new IllegalStateException("this JVM does not measure a thread's CPU time");
        }
        byte[][] events = new byte[RuleSetBenchmark.EVENTS][];
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < events.length; i++) {
            events[i] = RuleSetBenchmark.event(rnd, i).getBytes(StandardCharsets.UTF_8);
        }
        Evaluator seven = RuleSetBenchmark.rules(RuleSetBenchmark.LEDGER + RuleSetBenchmark.SIX_MORE)
                .evaluator();
        Evaluator ledger = RuleSetBenchmark.rules(RuleSetBenchmark.LEDGER).evaluator();
        FieldTree tree = seven.ruleSet().rulesOf("ledger").fields();
        EventFields slots = new EventFields(tree.slots(), 0);
        EventReader reader = new EventReader();
        PathValues values = new PathValues(List.of(
                List.of("ts"),
                List.of("data", "source_ip"),
                List.of("data", "bytes_transferred"),
                List.of("data", "protocol")));
        long[] fired = {0};
        Evaluator.Sink sink = f -> fired[0]++;
        Case c = switch (name) {
            case "sevenRules" ->
                e -> {
                    seven.evaluate("ledger", e, 0, e.length, sink);
                    return fired[0];
                };
            case "ledgerRule" ->
                e -> {
                    ledger.evaluate("ledger", e, 0, e.length, sink);
                    return fired[0];
                };
            case "fieldsOnly" ->
                e -> {
                    slots.clear(tree.slots());
                    return reader.read(tree, e, 0, e.length, slots) ? slots.kinds[0] : -1;
                };
            case "rollupFields" ->
                e -> {
                    // What a rollup of count, bytes and protocol per source_ip reads: PathValues, texts included.
                    values.read(e, 0, e.length);
                    return values.text(1).length()
                            + (long) values.number(2)
                            + values.text(3).length();
                };
            default ->
                throw new IllegalArgumentException(
                        "no case " + name + ": sevenRules, ledgerRule, fieldsOnly or rollupFields");
        };
        measure(name, c, events, threads, rounds, warmup);
    }

    private static void measure(String name, Case c, byte[][] events, ThreadMXBean threads, int rounds, int warmup) {
        long sink = 0;
        long until = threads.getCurrentThreadCpuTime() + warmup * 1_000_000_000L;
        int next = 0;
        while (threads.getCurrentThreadCpuTime() < until) {
            for (int i = 0; i < BATCH; i++) {
                sink += c.run(events[next]);
                next = next + 1 == events.length ? 0 : next + 1;
            }
        }
        double[] rates = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long start = threads.getCurrentThreadCpuTime();
            long wallStart = System.nanoTime();
            long n = 0;
            while (threads.getCurrentThreadCpuTime() - start < 1_000_000_000L) {
                for (int i = 0; i < BATCH; i++) {
                    sink += c.run(events[next]);
                    next = next + 1 == events.length ? 0 : next + 1;
                }
                n += BATCH;
            }
            long cpu = threads.getCurrentThreadCpuTime() - start;
            long wall = System.nanoTime() - wallStart;
            rates[r] = n * 1e9 / cpu;
            System.out.printf(
                    Locale.ROOT,
                    "  %-11s round %d: %,10.0f events per CPU-second (%,.0f per wall second)%n",
                    name,
                    r + 1,
                    rates[r],
                    n * 1e9 / wall);
        }
        Arrays.sort(rates);
        System.out.printf(
                Locale.ROOT,
                "%-11s median %,10.0f events per CPU-second (min %,.0f, max %,.0f) [%d]%n",
                name,
                rates[rounds / 2],
                rates[0],
                rates[rounds - 1],
                sink & 1);
    }
}

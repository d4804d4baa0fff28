package dev.outpost.edge;

import dev.outpost.edge.config.OutpostConfig;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Derives the JVM's memory flags from {@code budget.memory}, so the process fits its budget: the
 * launcher asks for them ({@code outpost jvm-flags [--config FILE]}) before it starts the agent.
 *
 * <p>Of the budget, the state file (mapped whole) and the {@linkplain #nonHeapReserveBytes non-heap
 * reserve} are set aside first; of the rest, {@value #HEAP_SHARE_PERCENT} % is heap and {@value
 * #DIRECT_SHARE_PERCENT} % direct memory. Serial GC: on two cores it has the smallest footprint and
 * no concurrent threads. Budgets under {@link #C2_MIN_BUDGET_BYTES} run the C1 JIT only
 * ({@code -XX:TieredStopAtLevel=1}): C2 costs ~40 MiB more resident memory (its compiler arenas,
 * profiles and larger code cache) for ~15 % more peak throughput.
 *
 * <p>The reserve is the JVM's own resident memory outside heap and direct buffers, measured in the
 * soak ({@code edge-runtime/bench/soak.sh}): metaspace, CDS archive, symbols, code cache, thread
 * stacks, native codecs, and the file-backed pages of libjvm, the JDK's modules file and the JARs
 * ({@link #JVM_OWN_C1_BYTES} or {@link #JVM_OWN_C2_BYTES}); plus the event log's mapped window. Chronicle
 * maps a cycle file in chunks of {@code log.block_bytes} plus a quarter of overlap and keeps two of
 * them mapped while a lane is written (the first, which holds the header and index, and the one being
 * written); every page written through them stays resident until the chunk is unmapped, so a busy
 * lane keeps 2 x 1.25 x {@code log.block_bytes} resident ({@link #LOG_WINDOW_QUARTER_BLOCKS} quarter
 * blocks). More lanes written at once, a second index array (after ~1M requests in one cycle) or a
 * reader far behind map one more chunk each; those are not reserved, the governor's RSS probe sees
 * them.
 */
public final class JvmSizing {
    /** Share of the memory budget (after the state file) given to the heap. */
    static final int HEAP_SHARE_PERCENT = 70;
    /** Share given to direct buffers (Netty, codecs). */
    static final int DIRECT_SHARE_PERCENT = 10;
    /**
     * The JVM's own resident memory with the C1 JIT only, measured in the soak at its peak: ~88 MiB
     * anonymous (metaspace and class space 49 MiB, CDS archive 11 MiB, symbols 8 MiB, code cache 11
     * MiB, stacks, native codecs) plus ~37 MiB file-backed (libjvm 18 MiB, the JDK's modules file 12
     * MiB, CDS, shared libraries).
     */
    static final long JVM_OWN_C1_BYTES = 128L << 20;
    /**
     * The same with C2 as well, measured at ~165 MiB: ~40 MiB more (C2's compiler arenas at the warm-up
     * peak, method profiles, a larger code cache).
     */
    static final long JVM_OWN_C2_BYTES = 168L << 20;
    /** A busy lane's resident log window: two mapped chunks of 1.25 blocks each, in quarter blocks. */
    static final int LOG_WINDOW_QUARTER_BLOCKS = 10;
    /** Budgets from this size up run C2 as well; smaller ones C1 only. */
    static final long C2_MIN_BUDGET_BYTES = 384L << 20;
    /** Smallest heap the agent runs with. */
    static final long HEAP_MIN_BYTES = 48L << 20;
    /** Smallest direct-memory cap. */
    static final long DIRECT_MIN_BYTES = 16L << 20;
    /** Chronicle Map's file for N entries is about this many times N x (value + key + header). */
    static final double STATE_FILE_FACTOR = 1.25;

    private JvmSizing() {}

    /** The state file's expected size, from its configured capacity. */
    static long stateFileBytes(OutpostConfig c) {
        return (long) (c.state().documentsMax() * (double) (c.state().docBytesAvg() + 112) * STATE_FILE_FACTOR);
    }

    /** Whether {@code c}'s budget runs the C1 JIT only. */
    static boolean c1Only(OutpostConfig c) {
        return c.budget().memoryBytes() < C2_MIN_BUDGET_BYTES;
    }

    /** Resident memory outside heap, direct buffers and the state file: the JVM's own plus the log window. */
    public static long nonHeapReserveBytes(OutpostConfig c, boolean c1Only) {
        return (c1Only ? JVM_OWN_C1_BYTES : JVM_OWN_C2_BYTES) + c.log().blockBytes() * LOG_WINDOW_QUARTER_BLOCKS / 4;
    }

    /** Whether this JVM compiles with C1 only ({@code -XX:TieredStopAtLevel} below 4), for the startup check. */
    public static boolean runningC1Only() {
        try {
            return c1OnlyLevel(ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .getVMOption("TieredStopAtLevel")
                    .getValue());
        } catch (RuntimeException e) {
            return false; // unknown: assume C2, the larger reserve
        }
    }

    /** Whether a {@code TieredStopAtLevel} value means C1 only (levels 1 to 3). */
    static boolean c1OnlyLevel(String tieredStopAtLevel) {
        try {
            int level = Integer.parseInt(tieredStopAtLevel.trim());
            return level >= 1 && level < 4;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The initial heap, MiB (at most -Xmx). */
    static final long INITIAL_HEAP_MIB = 16;

    /**
     * How often the JVM hands the C heap's freed memory back to the system ({@code malloc_trim}). The
     * JIT compilers' arenas, freed after each compilation, otherwise stay resident in glibc's per-thread
     * arenas: ~12 MiB of an idle agent's RSS at the default budget (docs/BENCHMARKS.md, the device
     * distribution). A trim of that little C heap takes well under a millisecond.
     */
    static final long TRIM_NATIVE_HEAP_INTERVAL_MILLIS = 1000;

    /**
     * How many times the JIT's invocation and loop thresholds are raised. Most of what runs during the start runs
     * a few hundred times and never again — class and bean initialisation, configuration, opening the stores — and at
     * the default thresholds the JIT compiled it, taking ~45 % of the start's CPU on two cores from the threads doing
     * the start. At four times, the start took 17 % less wall time, while ingest's paths, called tens of thousands of
     * times a second, are compiled within the benchmarks' 3 s warm-up as before (single-event and NDJSON ingest the
     * same within the box's spread: docs/BENCHMARKS.md, "The start, session 16"; eight times gained nothing more).
     */
    static final int COMPILE_THRESHOLD_SCALING = 4;

    /**
     * The flags for {@code c}: heap, direct-memory cap, GC, trimming of the C heap, the JIT's thresholds, and for
     * small budgets the C1-only JIT.
     */
    public static List<String> flags(OutpostConfig c) {
        boolean c1 = c1Only(c);
        long rest = Math.max(0, c.budget().memoryBytes() - stateFileBytes(c) - nonHeapReserveBytes(c, c1));
        long heap = Math.max(HEAP_MIN_BYTES, rest * HEAP_SHARE_PERCENT / 100);
        long direct = Math.max(DIRECT_MIN_BYTES, rest * DIRECT_SHARE_PERCENT / 100);
        List<String> flags = new ArrayList<>(List.of(
                "-Xmx" + (heap >> 20) + "m",
                // A small initial heap: an idle agent keeps its RSS low (64m cost ~14 MiB of idle RSS); the
                // heap grows to -Xmx as load needs it.
                "-Xms" + Math.min(heap >> 20, INITIAL_HEAP_MIB) + "m",
                "-XX:MaxDirectMemorySize=" + (direct >> 20) + "m",
                "-XX:+UseSerialGC",
                "-XX:TrimNativeHeapInterval=" + TRIM_NATIVE_HEAP_INTERVAL_MILLIS,
                "-XX:CompileThresholdScaling=" + COMPILE_THRESHOLD_SCALING));
        if (c1) {
            flags.add("-XX:TieredStopAtLevel=1");
        }
        return List.copyOf(flags);
    }
}

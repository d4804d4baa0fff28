package dev.outpost.edge;

import dev.outpost.edge.config.OutpostConfig;
import java.util.List;

/**
 * Derives the JVM's memory flags from {@code budget.memory}, so the process fits its budget: the
 * launcher asks for them ({@code outpost jvm-flags [--config FILE]}) before it starts the agent.
 *
 * <p>Of the budget, the state file (mapped whole) and {@link #NON_HEAP_RESERVE_BYTES} (metaspace,
 * code cache, thread stacks, Chronicle's mapped log blocks, native codecs, mapped JARs: measured
 * ~175 MiB resident) are set aside first; of the rest, {@value #HEAP_SHARE_PERCENT} % is heap and {@value
 * #DIRECT_SHARE_PERCENT} % direct memory. Serial GC: on two cores it has the smallest footprint and no concurrent threads.
 */
public final class JvmSizing {
    /** Share of the memory budget (after the state file) given to the heap. */
    static final int HEAP_SHARE_PERCENT = 70;
    /** Share given to direct buffers (Netty, codecs). */
    static final int DIRECT_SHARE_PERCENT = 10;
    /**
     * Resident memory outside heap, direct buffers and the state file, measured in a 5-minute soak:
     * ~105 MiB anonymous (metaspace 50 MiB, code cache, stacks, native codecs) plus ~70 MiB of
     * file-backed pages (Chronicle's mapped log blocks, the JARs and CDS archive).
     */
    public static final long NON_HEAP_RESERVE_BYTES = 176L << 20;
    /** Smallest heap the agent runs with. */
    static final long HEAP_MIN_BYTES = 48L << 20;
    /** Smallest direct-memory cap. */
    static final long DIRECT_MIN_BYTES = 16L << 20;
    /** Chronicle Map's file for N entries is about this many times N x (value + key + header). */
    static final double STATE_FILE_FACTOR = 1.25;

    private JvmSizing() {}

    /** The state file's expected size, from its configured capacity. */
    static long stateFileBytes(OutpostConfig c) {
        return (long) (c.stateDocumentsMax() * (double) (c.stateDocBytesAvg() + 112) * STATE_FILE_FACTOR);
    }

    /** The flags for {@code c}: heap, direct-memory cap and GC. */
    public static List<String> flags(OutpostConfig c) {
        long rest = Math.max(0, c.budgetMemoryBytes() - stateFileBytes(c) - NON_HEAP_RESERVE_BYTES);
        long heap = Math.max(HEAP_MIN_BYTES, rest * HEAP_SHARE_PERCENT / 100);
        long direct = Math.max(DIRECT_MIN_BYTES, rest * DIRECT_SHARE_PERCENT / 100);
        return List.of(
                "-Xmx" + (heap >> 20) + "m",
                "-Xms" + Math.min(heap >> 20, 64) + "m",
                "-XX:MaxDirectMemorySize=" + (direct >> 20) + "m",
                "-XX:+UseSerialGC");
    }
}

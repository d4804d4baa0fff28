package dev.outpost.edge.http;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/**
 * Whether the JVM's direct memory (capped by {@code -XX:MaxDirectMemorySize}, which JvmSizing derives from
 * budget.memory) has room for the live feed's framed rounds.
 *
 * <p>Design note. Rounds framed into direct buffers are written to every subscriber without a copy, but a slow
 * subscriber's pending write keeps its round alive; if framed rounds filled the cap, the event loops (which also answer
 * ingest) would wait in the JDK's direct-memory reservation. So the framings take direct buffers only while less than
 * half the cap is in use, and the heap otherwise (each write is then copied by the channel, as before). Any thread.
 */
final class DirectMemory {
    private static final BufferPoolMXBean DIRECT = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
            .filter(b -> b.getName().equals("direct"))
            .findFirst()
            .orElse(null);
    private static final long MAX = maxDirectBytes();

    private DirectMemory() {}

    /** True while less than half the direct-memory cap is in use. */
    static boolean roomy() {
        return DIRECT != null && MAX > 0 && DIRECT.getMemoryUsed() < MAX / 2;
    }

    private static long maxDirectBytes() {
        try {
            long v =
                    Long.parseLong(ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                            .getVMOption("MaxDirectMemorySize")
                            .getValue());
            return v > 0 ? v : Runtime.getRuntime().maxMemory(); // 0: the JDK's default, the heap's size
        } catch (RuntimeException e) {
            return 0; // unknown: heap framing
        }
    }
}

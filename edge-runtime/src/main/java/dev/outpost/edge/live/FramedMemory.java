package dev.outpost.edge.live;

import dev.outpost.edge.metrics.Metrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.LongAdder;

/**
 * The memory framed rounds live in: direct buffers from an allocator of their own, within a limit of their own.
 *
 * <p>Design note. A round is framed once per transport and every subscriber's write is a slice of those bytes, so a
 * slow subscriber's pending write keeps its round alive. Framed from Netty's shared pool, pinned rounds pinned the
 * pool's chunks, the JVM's direct memory (capped by {@code -XX:MaxDirectMemorySize}, which JvmSizing derives from
 * budget.memory) filled, and the framings fell back to heap buffers, which the channel copies into a new direct buffer
 * per subscriber per write: the cap was then passed at once and the event loops, which also answer ingest, waited in
 * the JDK's direct-memory reservation (a stall of about a second). So framed rounds come from an unpooled allocator
 * (each round's memory is returned when its last slice is written) and are counted exactly; past {@link #bytesMax} a
 * round is not framed at all ({@link #take} answers null): its subscribers stay where they are and are served once
 * memory is back, or skipped forward as live.overflow says. Invariants: the bytes held by framed rounds never pass
 * {@code bytesMax} but for one round taken when none is held (so a round larger than the limit still goes out);
 * nothing here waits. Any thread.
 */
public final class FramedMemory {
    /** Share of the JVM's direct-memory cap framed rounds may hold, percent (the rest is Netty's, for ingest). */
    static final int DIRECT_SHARE_PERCENT = 50;

    private static final FramedMemory PROCESS = new FramedMemory(maxDirectBytes() * DIRECT_SHARE_PERCENT / 100);

    private final UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true);
    private final long bytesMax;
    private final LongAdder refused = new LongAdder();

    /** Framed rounds within {@code bytesMax} bytes of direct memory. */
    public FramedMemory(long bytesMax) {
        if (bytesMax <= 0) {
            throw new IllegalArgumentException("bytesMax must be positive: " + bytesMax);
        }
        this.bytesMax = bytesMax;
    }

    /** The process's framed memory: half the JVM's direct-memory cap. */
    public static FramedMemory process() {
        return PROCESS;
    }

    /**
     * A direct buffer of {@code bytes} capacity (it may grow), or null, counted, when taking it would pass the limit
     * while other framed rounds are held.
     */
    public ByteBuf take(int bytes) {
        long held = held();
        if (held > 0 && held + bytes > bytesMax) {
            refused.increment();
            return null;
        }
        return alloc.directBuffer(bytes);
    }

    /** True while less than three quarters of the limit are held: worth reading a round from the log to frame. */
    public boolean roomy() {
        return held() < bytesMax / 4 * 3;
    }

    /** Direct bytes framed rounds hold now. */
    public long held() {
        return alloc.metric().usedDirectMemory();
    }

    public long bytesMax() {
        return bytesMax;
    }

    /** Rounds not framed for want of memory, so far. */
    public long refused() {
        return refused.sum();
    }

    /** Registers {@code prefix}_framed_bytes and {@code prefix}_framing_refused_total. */
    public void register(Metrics metrics, String prefix) {
        metrics.gauge(
                prefix + "_framed_bytes",
                "Direct memory held by framed live rounds (at most half of -XX:MaxDirectMemorySize).",
                this::held);
        metrics.counterFn(
                prefix + "_framing_refused_total",
                "Rounds not framed because framed rounds held their memory limit; their subscribers were served"
                        + " later or skipped forward.",
                refused::sum);
    }

    private static long maxDirectBytes() {
        try {
            long v =
                    Long.parseLong(ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                            .getVMOption("MaxDirectMemorySize")
                            .getValue());
            return v > 0 ? v : Runtime.getRuntime().maxMemory(); // 0: the JDK's default, the heap's size
        } catch (RuntimeException e) {
            return 64L << 20; // unknown: a modest limit
        }
    }
}

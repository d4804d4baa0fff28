package dev.outpost.edge.ingest;

import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.RecyclerPool;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * jackson-core's buffers for parsers and generators, one set per thread as jackson's default pool keeps them, but held
 * in a Netty {@link FastThreadLocal}: on an event loop thread that is an array index, where jackson's {@link
 * ThreadLocal} lookup was ~5 % of the CPU samples of single-event ingest (docs/BENCHMARKS.md, issue #14 point 4). On
 * other threads it behaves as a plain thread-local. Invariant: a recycler is only ever used by its own thread (jackson
 * calls {@link #acquirePooled} per parser or generator, and a thread-local pool is never released into).
 */
public final class LoopBufferRecyclers extends RecyclerPool.ThreadLocalPoolBase<BufferRecycler> {
    private static final long serialVersionUID = 1L;

    /** The one pool. */
    public static final LoopBufferRecyclers POOL = new LoopBufferRecyclers();

    private static final FastThreadLocal<BufferRecycler> RECYCLER = new FastThreadLocal<>() {
        @Override
        protected BufferRecycler initialValue() {
            return new BufferRecycler();
        }
    };

    private LoopBufferRecyclers() {}

    @Override
    public BufferRecycler acquirePooled() {
        return RECYCLER.get();
    }
}

package dev.outpost.edge.http;

import dev.outpost.edge.live.WriteTime;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.EventExecutor;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The live feed's writes to subscriber connections, handed to each connection's event loop in batches.
 *
 * <p>Design note. A round for 2,000 subscribers was 2,000 cross-thread {@code writeAndFlush} calls: a task, a queue
 * offer and often a wake-up each, and a flush per write. Here the feed's writes for one loop go into that loop's
 * queue, and one task per batch writes them all and flushes each connection once. Invariants: writes to a connection
 * keep the order they were made in (one FIFO queue per loop; a connection stays on its loop), including the actions
 * that end a stream ({@link #run}); a batch writes at most {@link #BATCH_WRITES_MAX} before the loop reads its
 * connections again (ingest shares these loops), the rest after that read ({@code continueAfterReads}); {@code done}
 * runs once the write completed or failed, on the loop.
 */
@Singleton
public class LoopWrites {
    /** Most writes one task makes before the loop serves its other tasks and connections. */
    static final int BATCH_WRITES_MAX = 1_024;

    private final Map<EventExecutor, Batch> batches = new ConcurrentHashMap<>();

    /** Writes {@code msg} to {@code ctx} from any thread; {@code done} (may be null) runs once it is written or failed. */
    void write(ChannelHandlerContext ctx, Object msg, Runnable done) {
        batch(ctx.executor()).add(new Pending(ctx, msg, done));
    }

    /** Runs {@code action} on {@code ctx}'s loop after the writes made to it before. */
    void run(ChannelHandlerContext ctx, Runnable action) {
        batch(ctx.executor()).add(new Pending(ctx, null, action));
    }

    private Batch batch(EventExecutor loop) {
        return batches.computeIfAbsent(loop, Batch::new);
    }

    /** A write ({@code msg} set) or an action ({@code msg} null, {@code done} the action). */
    private record Pending(ChannelHandlerContext ctx, Object msg, Runnable done) {}

    private static final class Batch implements Runnable {
        private final EventExecutor loop;
        private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean scheduled = new AtomicBoolean();
        /** The connections written in the current batch (loop only). */
        private final Set<ChannelHandlerContext> written = Collections.newSetFromMap(new IdentityHashMap<>());

        private final List<ChannelHandlerContext> toFlush = new ArrayList<>();

        Batch(EventExecutor loop) {
            this.loop = loop;
        }

        void add(Pending p) {
            queue.offer(p);
            if (scheduled.compareAndSet(false, true)) {
                try {
                    loop.execute(this);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    drop(); // the loop is shut down (the agent stops): nothing will write these
                }
            }
        }

        /** Lets go of what is queued: messages released, each write's {@code done} run (as for a failed write). */
        private void drop() {
            for (Pending p; (p = queue.poll()) != null; ) {
                if (p.msg != null) {
                    io.netty.util.ReferenceCountUtil.release(p.msg);
                    if (p.done != null) {
                        p.done.run();
                    }
                }
            }
        }

        @Override
        public void run() {
            long start = System.nanoTime();
            try {
                writeSome();
            } finally {
                WriteTime.process().add(System.nanoTime() - start); // the send budget's measure of the loops' time
            }
        }

        private void writeSome() {
            scheduled.set(false); // what arrives from now on schedules a batch of its own (or is taken by this one)
            int n = 0;
            for (Pending p; n < BATCH_WRITES_MAX && (p = queue.poll()) != null; n++) {
                if (p.msg == null) {
                    flush(); // an action ends a stream: what was written before it goes out first
                    p.done.run();
                    continue;
                }
                Runnable done = p.done;
                if (done == null) {
                    p.ctx.write(p.msg, p.ctx.voidPromise());
                } else {
                    p.ctx.write(p.msg).addListener(f -> done.run());
                }
                if (written.add(p.ctx)) {
                    toFlush.add(p.ctx);
                }
            }
            flush();
            if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
                continueAfterReads();
            }
        }

        /**
         * The rest once the loop has read its connections again. Not {@code execute}: a task queued from a task runs
         * in the same pass over the loop's tasks — Netty 4.2 polls its connections only between passes, which last
         * until the queue is empty or io.netty.eventLoop.maxTaskProcessingQuantumMs (at least 100 ms) — so a feed
         * that kept this queue full kept every connection of the loop, ingest too, from being read. A task scheduled
         * with no delay joins the tasks only at the next pass, after the loop has polled (without waiting).
         */
        private void continueAfterReads() {
            try {
                loop.schedule(this, 0, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                drop(); // the loop is shut down (the agent stops)
            }
        }

        private void flush() {
            for (ChannelHandlerContext ctx : toFlush) {
                ctx.flush();
            }
            toFlush.clear();
            written.clear();
        }
    }
}

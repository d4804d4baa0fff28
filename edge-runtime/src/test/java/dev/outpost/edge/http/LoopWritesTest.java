package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The feed's batched writes: in order per connection, an action after the writes before it, every done run. */
class LoopWritesTest {
    @Test
    void writesFromAnotherThreadArriveInOrderInBatchesAndEachDoneRuns() throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        ChannelHandlerContext ctx = ch.pipeline().firstContext();
        LoopWrites writes = new LoopWrites();
        AtomicInteger done = new AtomicInteger();
        List<Object> seenAtAction = new ArrayList<>();
        int n = LoopWrites.BATCH_WRITES_MAX * 2 + 10;
        Thread feed = new Thread(() -> {
            for (int i = 0; i < n; i++) {
                writes.write(ctx, "m" + i, done::incrementAndGet);
            }
            writes.run(ctx, () -> seenAtAction.add(ch.outboundMessages().size()));
            writes.write(ctx, "last", null);
        });
        feed.start();
        feed.join();
        ch.runPendingTasks(); // batches of at most BATCH_WRITES_MAX, each rescheduling the rest
        List<Object> out = new ArrayList<>(ch.outboundMessages());
        assertEquals(n + 1, out.size());
        for (int i = 0; i < n; i++) {
            assertEquals("m" + i, out.get(i));
        }
        assertEquals("last", out.get(n));
        assertEquals(List.of(n), seenAtAction, "the action ran after every write made before it was flushed");
        assertEquals(n, done.get());
        assertTrue(ch.finish());
    }
}

package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.live.FeedTurns;
import dev.outpost.edge.live.FramedMemory;
import dev.outpost.edge.live.LiveFeed;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.store.EventDraft;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogOptions;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A WebSocket subscription's id is the client's to reuse: once it has unsubscribed one, it may open another under the
 * same id at once. When the feed had ended the first one meanwhile (cut for falling behind, a namespace too large, the
 * agent stopping), its cleanup — queued to the connection's loop — could run after that and removed whatever was held
 * under the id: the new subscription. The client was sent an end it could only take for the new one, could not
 * unsubscribe it, and its live.subscribers_max slot was never given back. Over a TCP connection the order of the
 * feed's cleanup and the client's messages is a race; here the session is on an in-process channel and the feed runs
 * turn by turn on the connection's loop, so the order is the test's.
 */
class WsSubscriptionIdsTest {
    @TempDir
    Path dir;

    @Test
    void theCleanupOfAnEndedSubscriptionLeavesTheNewOneUnderItsIdAlone() throws Exception {
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(
                cfg, "data:\n  dir: " + dir.resolve("data") + "\nlive:\n  lag_events_max: 5\n  overflow: disconnect\n");
        long[] clock = {0};
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        try (LanedEventLog log = LanedEventLog.open(LogOptions.defaults(dir.resolve("log")), HybridClock.system())) {
            append(log, 10);
            LiveFeed feed = new LiveFeed(log, null, ConfigLoader.load(cfg), new Metrics(), () -> clock[0]);
            Connection c = new Connection(group);
            WsSession session =
                    new WsSession(c.ctx, null, feed, new WsFraming(FramedMemory.process()), new LoopWrites());

            c.onLoop(() ->
                    send(session, "{\"op\":\"subscribe\",\"id\":\"a\",\"events\":{\"stream\":\"s\",\"from_seq\":1}}"));
            assertEquals("{\"type\":\"subscribed\",\"id\":\"a\"}", c.next());
            c.onLoop(() -> {
                // 10 events behind, more than live.lag_events_max: the feed cuts it and queues its cleanup to the loop,
                // which is busy with the client's next messages
                FeedTurns.turn(feed);
                send(session, "{\"op\":\"unsubscribe\",\"id\":\"a\"}");
                send(session, "{\"op\":\"subscribe\",\"id\":\"a\",\"events\":{\"stream\":\"s\"}}");
            });
            assertEquals("{\"type\":\"unsubscribed\",\"id\":\"a\"}", c.next());
            assertEquals("{\"type\":\"subscribed\",\"id\":\"a\"}", c.next());
            c.onLoop(() -> send(session, "{\"op\":\"ping\"}")); // after the first one's cleanup, queued before
            assertEquals(
                    "{\"type\":\"pong\"}",
                    c.next(),
                    "the first one was unsubscribed: no end for it, which the client could only take for the second's");

            c.onLoop(() -> {
                append(log, 2);
                feed.appended();
                FeedTurns.turn(feed);
            });
            String events = c.next();
            assertTrue(events.startsWith("{\"type\":\"events\",\"id\":\"a\",\"events\":[{"), events);
            assertTrue(events.contains("\"seq\":11") && events.contains("\"seq\":12"), events);

            c.onLoop(() -> send(session, "{\"op\":\"unsubscribe\",\"id\":\"a\"}"));
            assertEquals("{\"type\":\"unsubscribed\",\"id\":\"a\"}", c.next(), "the second one is still held");
            c.onLoop(() -> {
                clock[0] += TimeUnit.SECONDS.toNanos(1); // the feed lets closed live subscribers go on its next scan
                FeedTurns.turn(feed);
            });
            assertEquals(0, feed.subscribers(), "every slot given back");
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
        }
    }

    /** An in-process connection on one real loop: the session writes on the server side, the client keeps the text. */
    private static final class Connection {
        final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        final ChannelHandlerContext ctx;
        private final Channel client;

        Connection(EventLoopGroup group) throws Exception {
            LocalAddress address = new LocalAddress(WsSubscriptionIdsTest.class);
            CompletableFuture<ChannelHandlerContext> server = new CompletableFuture<>();
            new ServerBootstrap()
                    .group(group)
                    .channel(LocalServerChannel.class)
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(ChannelHandlerContext ctx) {
                            server.complete(ctx);
                        }
                    })
                    .bind(address)
                    .sync();
            client = new Bootstrap()
                    .group(group)
                    .channel(LocalChannel.class)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            try {
                                received.add(((TextWebSocketFrame) msg).text());
                            } finally {
                                ReferenceCountUtil.release(msg);
                            }
                        }
                    })
                    .connect(address)
                    .sync()
                    .channel();
            ctx = server.get(10, TimeUnit.SECONDS);
        }

        /** Runs {@code r} on the connection's loop, as the loop runs what a client sends, and waits for it. */
        void onLoop(Runnable r) throws Exception {
            ctx.executor().submit(r).get(10, TimeUnit.SECONDS);
        }

        String next() throws InterruptedException {
            String m = received.poll(10, TimeUnit.SECONDS);
            if (m == null) {
                throw new AssertionError("no message within 10 s");
            }
            return m;
        }
    }

    private static void append(LanedEventLog log, int n) {
        List<EventDraft> drafts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            drafts.add(new EventDraft("s", null, null, 0, 1, null, "{}".getBytes(StandardCharsets.UTF_8)));
        }
        log.append(Lane.NORMAL, drafts);
    }

    private static void send(WsSession session, String text) {
        session.received(new TextWebSocketFrame(text));
    }
}

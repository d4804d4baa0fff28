package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
        for (int turns = 0; ch.hasPendingTasks() && turns < 100; turns++) {
            ch.runPendingTasks(); // batches of at most BATCH_WRITES_MAX, each scheduling the rest
        }
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

    /**
     * A feed that keeps a loop's queue full does not keep that loop's other connections from being read: a request
     * arriving while thousands of subscriber writes are queued is read after a batch or two, not after all of them
     * (they ran in one pass of the loop's tasks, before it polled its connections again).
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aLoopReadsItsConnectionsBetweenBatches() throws Exception {
        int batches = 60;
        int n = LoopWrites.BATCH_WRITES_MAX * batches;
        EventLoopGroup serverLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup clientLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            CompletableFuture<ChannelHandlerContext> subscriber = new CompletableFuture<>();
            CompletableFuture<Integer> writtenWhenRead = new CompletableFuture<>();
            AtomicInteger written = new AtomicInteger();
            Channel server = new ServerBootstrap()
                    .group(serverLoop)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    // the first connection is the subscriber's, the second the ingest client's
                                    subscriber.complete(ctx);
                                }

                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    ReferenceCountUtil.release(msg);
                                    writtenWhenRead.complete(written.get());
                                }
                            });
                        }
                    })
                    .bind(InetAddress.getLoopbackAddress(), 0)
                    .sync()
                    .channel();
            Bootstrap client = new Bootstrap()
                    .group(clientLoop)
                    .channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    ReferenceCountUtil.release(msg); // the subscriber reads everything
                                }
                            });
                        }
                    });
            client.connect(server.localAddress()).sync();
            ChannelHandlerContext subscriberCtx = subscriber.get(10, TimeUnit.SECONDS);
            Channel ingest = client.connect(server.localAddress()).sync().channel();

            LoopWrites writes = new LoopWrites();
            AtomicBoolean sent = new AtomicBoolean();
            for (int i = 0; i < n; i++) {
                writes.write(subscriberCtx, Unpooled.wrappedBuffer(new byte[16]), () -> {
                    // on the loop, as the first batch is flushed: the request arrives while the rest is queued
                    if (written.incrementAndGet() == 1 && sent.compareAndSet(false, true)) {
                        ingest.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1}));
                    }
                });
            }
            int seen = writtenWhenRead.get(30, TimeUnit.SECONDS);
            assertTrue(
                    seen < n / 2,
                    "the request was read after " + seen + " of " + n + " queued writes (batches of "
                            + LoopWrites.BATCH_WRITES_MAX + ")");
            server.close().sync();
        } finally {
            serverLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}

package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.http.ConnectionCloses.Reason;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The guard's deadlines on a real Netty pipeline (gate, HTTP codec, guard, and a server that reads
 * on demand as Micronaut does), with time passed in: the test's clock and the event loop's move
 * together, so a deadline fires exactly when it is due.
 */
class SlowClientGuardTest {
    private static final long MS = 1_000_000;
    private static final SlowClientGuard.Limits LIMITS =
            new SlowClientGuard.Limits(5_000 * MS, 60_000 * MS, 2_000 * MS, 1000);

    private final AtomicLong now = new AtomicLong(1_000_000 * MS);
    private final ConnectionCloses closes = new ConnectionCloses();
    private final LongAdder refused = new LongAdder();
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    /** Stands in for Micronaut: reads only when told to, answers when told to. */
    static final class Server extends ChannelInboundHandlerAdapter {
        final List<Object> received = new ArrayList<>();
        ChannelHandlerContext ctx;
        /** The gate admitted the connection (it passes channelActive on only then). */
        boolean active;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            active = true;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
            ctx.channel().config().setAutoRead(false);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            received.add(
                    msg instanceof HttpRequest r
                            ? r.method() + " " + r.uri()
                            : msg.getClass().getSimpleName());
            if (msg instanceof HttpContent c) {
                received.add(c.content().readableBytes());
            }
            ReferenceCountUtil.release(msg);
        }

        /** Asks for more input, as Micronaut does when it can take it. */
        void demand() {
            ctx.read();
        }

        void respond() {
            DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            ctx.writeAndFlush(r);
        }
    }

    private ConnectionBudget budget = new ConnectionBudget(4, 1, new AtomicInteger(4), new AtomicInteger());
    private Server server;

    private EmbeddedChannel connect() {
        server = new Server();
        EmbeddedChannel ch = new EmbeddedChannel(
                new ConnectionGate.Admission(budget, now::get, refused::increment),
                new HttpServerCodec(),
                new SlowClientGuard(LIMITS, now::get, budget, closes, refused::increment),
                server);
        ch.freezeTime();
        channels.add(ch);
        return ch;
    }

    @AfterEach
    void closeChannels() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    /** Moves the test's clock and every connection's event loop on by {@code millis}. */
    private void advance(long millis) {
        now.addAndGet(millis * MS);
        for (EmbeddedChannel ch : channels) {
            ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
            ch.runPendingTasks();
            ch.runScheduledPendingTasks();
        }
    }

    /** Moves the test's clock and only {@code ch}'s event loop on. */
    private void advanceOnly(EmbeddedChannel ch, long millis) {
        now.addAndGet(millis * MS);
        ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        ch.runPendingTasks();
        ch.runScheduledPendingTasks();
    }

    private static void send(EmbeddedChannel ch, String bytes) {
        ch.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.US_ASCII));
    }

    /** Everything the connection wrote, as text. */
    private static String written(EmbeddedChannel ch) {
        StringBuilder b = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf buf = (ByteBuf) o;
            b.append(buf.toString(StandardCharsets.UTF_8));
            buf.release();
        }
        return b.toString();
    }

    @Test
    void aConnectionWithoutCompleteHeadersIsClosedAtTheHeaderTimeout() {
        EmbeddedChannel ch = connect();
        advance(3_000);
        send(ch, "GET /health HTTP/1.1\r\nHost: x\r\n"); // not complete: no empty line yet
        advance(1_999);
        assertTrue(ch.isActive());
        advance(1);
        assertFalse(ch.isActive(), "5 s after it opened, whatever arrived meanwhile");
        assertEquals("", written(ch), "closed without an answer");
        assertEquals(1, closes.total(Reason.HEADER_TIMEOUT));
        assertEquals(List.of(), server.received);
    }

    @Test
    void aKeptAliveConnectionIsClosedAtTheIdleTimeout() {
        EmbeddedChannel ch = connect();
        server.demand();
        send(ch, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        advance(30_000);
        assertTrue(ch.isActive(), "processing has no deadline here");
        server.respond();
        assertTrue(written(ch).startsWith("HTTP/1.1 200"));
        advance(59_999);
        assertTrue(ch.isActive());
        advance(1);
        assertFalse(ch.isActive());
        assertEquals(1, closes.total(Reason.IDLE_TIMEOUT));
        assertEquals(0, closes.total(Reason.HEADER_TIMEOUT));
    }

    @Test
    void theNextRequestsHeadersGetTheHeaderTimeoutFromItsFirstByte() {
        EmbeddedChannel ch = connect();
        send(ch, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        server.respond();
        advance(10_000);
        send(ch, "GET /metr"); // a slow trickle of the next request's headers
        advance(4_999);
        assertTrue(ch.isActive());
        advance(1);
        assertFalse(ch.isActive(), "15 s after the response: well before the 60 s idle timeout");
        assertEquals(1, closes.total(Reason.HEADER_TIMEOUT));
    }

    @Test
    void aSlowBodyIsCutWith408AfterTheGrace() {
        EmbeddedChannel ch = connect();
        send(ch, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
        server.demand();
        send(ch, "{\"stream\":"); // 10 bytes; 1000 bytes/s needed
        server.demand();
        advance(1_999);
        assertTrue(ch.isActive(), "within the grace");
        advance(1);
        assertFalse(ch.isActive());
        String answer = written(ch);
        assertTrue(answer.startsWith("HTTP/1.1 408 Request Timeout\r\n"), answer);
        assertTrue(answer.contains("content-type: application/problem+json"), answer);
        assertTrue(answer.contains("connection: close"), answer);
        assertTrue(answer.contains("http.body_rate_bytes_per_second_min"), answer);
        assertEquals(1, closes.total(Reason.BODY_TOO_SLOW));
    }

    @Test
    void aBodyAtTheMinimumRateGoesThrough() {
        EmbeddedChannel ch = connect();
        send(ch, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 6000\r\n\r\n");
        for (int i = 0; i < 5; i++) { // 1,200 bytes a second, each second waited for: above 1,000
            send(ch, "x".repeat(1200));
            server.demand();
            advance(1_000);
        }
        assertTrue(ch.isActive());
        assertEquals(0, closes.total(Reason.BODY_TOO_SLOW));
        assertTrue(server.received.contains("DefaultLastHttpContent"), server.received.toString());
    }

    @Test
    void timeTheAgentHoldsTheBodyBackDoesNotCount() {
        EmbeddedChannel ch = connect();
        send(ch, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
        send(ch, "x".repeat(100));
        // The server does not ask for more (backpressure): ten minutes pass.
        advance(600_000);
        assertTrue(ch.isActive(), "the client is not judged while the agent is not reading");
        server.demand();
        advance(1_999);
        assertTrue(ch.isActive(), "the grace runs from the server's demand");
        advance(1);
        assertFalse(ch.isActive());
        assertTrue(written(ch).startsWith("HTTP/1.1 408"));
    }

    @Test
    void aConnectionOnTheProbesShareServesOnlyProbes() {
        budget = new ConnectionBudget(2, 1, new AtomicInteger(2), new AtomicInteger());
        EmbeddedChannel busy = connect();
        send(busy, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
        EmbeddedChannel probe = connect();
        send(probe, "GET /health?verbose HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("GET /health?verbose", server.received.getFirst());
        server.respond();
        assertTrue(written(probe).startsWith("HTTP/1.1 200"));
        send(probe, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        server.respond();
        assertTrue(written(probe).startsWith("HTTP/1.1 200"));
        send(probe, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        String refusal = written(probe);
        assertTrue(refusal.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), refusal);
        assertTrue(refusal.contains("retry-after: 1") && refusal.contains("budget.probe_connections"), refusal);
        assertFalse(probe.isActive());
        assertEquals(1, refused.sum());
        assertFalse(server.received.contains("POST /v1/events"), "the refused request never reaches the server");
    }

    @Test
    void aConnectionBeyondTheBudgetIsRefusedBeforeAnythingIsRead() {
        budget = new ConnectionBudget(1, 0, new AtomicInteger(1), new AtomicInteger());
        EmbeddedChannel busy = connect();
        send(busy, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
        EmbeddedChannel refused = connect();
        String answer = written(refused);
        assertTrue(answer.startsWith("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"), answer);
        assertTrue(answer.contains("budget.connections"), answer);
        assertFalse(refused.isActive());
    }

    @Test
    void anIdleConnectionYieldsItsSlotToANewOne() {
        budget = new ConnectionBudget(1, 0, new AtomicInteger(1), new AtomicInteger());
        EmbeddedChannel idle = connect(); // polled once by its (embedded) event loop: nothing came
        EmbeddedChannel fresh = connect();
        Server freshServer = server;
        assertTrue(freshServer.active, "admitted at once");
        idle.runPendingTasks(); // the eviction closes it on its own event loop
        assertFalse(idle.isActive(), "evicted");
        send(fresh, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("GET /health", freshServer.received.getFirst());
        freshServer.respond();
        assertTrue(written(fresh).startsWith("HTTP/1.1 200"));
        EmbeddedChannel next = connect();
        assertFalse(server.active, "waits: the kept-alive one was answered only just now");
        advance(20);
        assertTrue(server.active);
        fresh.runPendingTasks();
        assertFalse(fresh.isActive(), "evicted 20 ms after its answer");
        assertTrue(next.isActive());
    }

    @Test
    void aProbeIsAnsweredWhileTheGeneralConnectionsKeepBeingUsed() {
        budget = new ConnectionBudget(2, 1, new AtomicInteger(2), new AtomicInteger());
        EmbeddedChannel keptAlive = connect();
        Server keptAliveServer = server;
        send(keptAlive, "GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
        keptAliveServer.respond();
        EmbeddedChannel probe = connect();
        Server probeServer = server;
        assertFalse(probeServer.active, "waits for the general connection, answered only just now");
        for (int i = 0; i < 4; i++) { // a busy client: a request every 10 ms, never idle for 20
            send(keptAlive, "GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
            keptAliveServer.respond();
            advance(10);
        }
        assertTrue(probeServer.active, "after 40 ms it takes the probes' share");
        send(probe, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("GET /health", probeServer.received.getFirst());
        assertTrue(keptAlive.isActive());
    }

    @Test
    void aConnectionThatFindsNoRoomInTimeIsRefused() {
        budget = new ConnectionBudget(1, 0, new AtomicInteger(1), new AtomicInteger());
        EmbeddedChannel keptAlive = connect();
        Server keptAliveServer = server;
        send(keptAlive, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        keptAliveServer.respond();
        EmbeddedChannel waiter = connect();
        // The one admitted connection asks for something every 10 ms: idle, but never for 20 ms.
        long waitMillis = TimeUnit.NANOSECONDS.toMillis(ConnectionGate.Admission.WAIT_NANOS_MAX);
        for (long t = 0; t < waitMillis - 10; t += 10) {
            send(keptAlive, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            keptAliveServer.respond();
            advance(10);
        }
        assertEquals("", written(waiter), "waiting, almost the whole time allowed");
        for (int i = 0; i < 2; i++) {
            send(keptAlive, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            keptAliveServer.respond();
            advance(10);
        }
        assertTrue(written(waiter).startsWith("HTTP/1.1 503 Service Unavailable"));
        assertFalse(waiter.isActive());
        assertTrue(keptAlive.isActive());
    }
}

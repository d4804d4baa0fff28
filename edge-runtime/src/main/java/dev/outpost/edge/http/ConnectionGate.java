package dev.outpost.edge.http;

import dev.outpost.edge.config.LiveConfig;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.governance.Connections;
import dev.outpost.edge.metrics.Metrics;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.netty.channel.ChannelPipelineCustomizer;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Admits HTTP connections within budget.connections ({@link ConnectionBudget}) and guards each
 * admitted one against slow clients ({@link SlowClientGuard}).
 *
 * <p>Design note. The gate is first in every connection's pipeline, so a connection for which
 * there is no room — every admitted one has a request in flight — is answered 503 with
 * Retry-After and closed before anything is read from it. When the budget is full of idle
 * connections, the longest-waiting one is closed to admit the new one instead. The general limit
 * is budget.connections less budget.probe_connections, lowered while CPU is under pressure (the
 * governor's lower-concurrency action; open connections are kept); the probes' share stays. The
 * guard sits right after the HTTP codec, where requests and responses are whole messages.
 * Invariants: every admitted connection holds one slot until it closes (released in {@code
 * channelInactive} or by its eviction, once); the connections dimension of the governor reads
 * the count of slots held.
 */
@Singleton
public class ConnectionGate implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
    /** The gate's name in the pipeline. */
    static final String NAME = "outpost-connection-gate";
    /** An admitted connection's slot. */
    static final AttributeKey<ConnectionBudget.Slot> SLOT = AttributeKey.valueOf("outpost-connection-slot");

    private final ConnectionBudget budget;
    private final SlowClientGuard.Limits limits;
    private final ConnectionCloses closes = new ConnectionCloses();
    private final LongSupplier clock = System::nanoTime;
    private final Runnable refused;

    public ConnectionGate(LiveConfig config, Connections connections, Metrics metrics) {
        OutpostConfig c = config.current();
        this.budget = new ConnectionBudget(
                c.budget().connections(),
                c.budget().probeConnections(),
                connections::limit,
                connections::opened,
                connections::closed);
        this.limits = SlowClientGuard.Limits.of(c.http());
        this.refused = connections::refused;
        closes.register(metrics, budget);
    }

    @Override
    public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
        event.getBean().register(new Customizer(null));
        return event.getBean();
    }

    private final class Customizer implements NettyServerCustomizer {
        private final Channel channel;

        Customizer(Channel channel) {
            this.channel = channel;
        }

        @Override
        public NettyServerCustomizer specializeForChannel(Channel ch, ChannelRole role) {
            return role == ChannelRole.CONNECTION ? new Customizer(ch) : this;
        }

        @Override
        public void onInitialPipelineBuilt() {
            if (channel != null) {
                channel.pipeline().addFirst(NAME, new Admission(budget, clock, refused));
            }
        }

        @Override
        public void onStreamPipelineBuilt() {
            if (channel == null) {
                return;
            }
            ChannelPipeline p = channel.pipeline();
            if (p.get(ChannelPipelineCustomizer.HANDLER_HTTP_SERVER_CODEC) != null
                    && p.get(SlowClientGuard.NAME) == null) {
                p.addAfter(
                        ChannelPipelineCustomizer.HANDLER_HTTP_SERVER_CODEC,
                        SlowClientGuard.NAME,
                        new SlowClientGuard(limits, clock, budget, closes, refused));
                p.addAfter(SlowClientGuard.NAME, LingeringClose.NAME, new LingeringClose());
            }
        }
    }

    /**
     * First in a connection's pipeline: takes a slot for it, or refuses it before reading anything.
     * When there is no room yet but an idle connection will be able to yield in a moment, the new
     * one waits (up to {@link #WAIT_NANOS_MAX}, unread, its channelActive held back) and tries
     * again after {@link #RETRY_NANOS_MIN}, backing off to {@link #RETRY_NANOS_MAX}: a flood may
     * leave a thousand connections waiting, and each try scans the slots. Its state is touched on
     * its event loop only.
     */
    static final class Admission extends ChannelDuplexHandler {
        /**
         * Longest a new connection waits for room before it is refused. Normally one waits a few
         * milliseconds; when the box is short of CPU the agent polls and answers late, and a late
         * admission serves a client better than a 503 (the header timeout starts at admission).
         */
        static final long WAIT_NANOS_MAX = 1_000_000_000;
        /** First wait before a waiting connection tries again. */
        static final long RETRY_NANOS_MIN = 5_000_000;
        /** Longest wait between two tries. */
        static final long RETRY_NANOS_MAX = 80_000_000;
        /**
         * How long a waiting connection holds out for a general slot before it takes one of the
         * probes' share: general connections that keep being answered (a busy client pool) never
         * yield, and a probe must not wait for them.
         */
        static final long GENERAL_WAIT_NANOS_MAX = 40_000_000;

        /** The answer to a connection for which there is no room. */
        private static final byte[] REFUSAL =
                refusal("the agent's connection budget (budget.connections) is used up by requests in flight;"
                        + " retry later");
        /** The answer to a connection beyond the limit lowered under CPU pressure. */
        private static final byte[] REFUSAL_LOWERED = refusal("the agent's CPU is under pressure, so it admits fewer"
                + " connections than budget.connections for now (see GET /v1/governor); retry later");

        private final ConnectionBudget budget;
        private final LongSupplier clock;
        private final Runnable refused;
        private ConnectionBudget.Slot slot;
        private boolean waiting;
        private long waitingSince;
        private long retryNanos = RETRY_NANOS_MIN;
        /** A read was asked for before the connection was admitted: issued once it is. */
        private boolean readWanted;
        /**
         * What a waiting connection sent before it was admitted, passed on once it is: the first
         * read was asked for before this handler joined the pipeline, so one read's worth (at most)
         * can arrive while it waits; no further read is asked for until it is admitted.
         */
        private List<Object> held;

        Admission(ConnectionBudget budget, LongSupplier clock, Runnable refused) {
            this.budget = budget;
            this.clock = clock;
            this.refused = refused;
        }

        private static byte[] refusal(String detail) {
            String body = Problems.json(503, "Too many connections", detail, 0, null);
            String head = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: " + Problems.MEDIA_TYPE
                    + "\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
                    + "\r\nConnection: close\r\n\r\n";
            return (head + body).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            long now = clock.getAsLong();
            if (tryAdmit(ctx, now, true)) {
                return;
            }
            if (budget.worthWaiting() && budget.startWaiting()) {
                waiting = true;
                waitingSince = now;
                scheduleRetry(ctx, now);
                return;
            }
            refuse(ctx);
        }

        private void retry(ChannelHandlerContext ctx) {
            if (!waiting) {
                return; // closed meanwhile
            }
            long now = clock.getAsLong();
            if (tryAdmit(ctx, now, now - waitingSince < GENERAL_WAIT_NANOS_MAX)) {
                stopWaiting();
            } else if (now - waitingSince < WAIT_NANOS_MAX && budget.worthWaiting()) {
                scheduleRetry(ctx, now);
            } else {
                stopWaiting();
                releaseHeld();
                refuse(ctx);
            }
        }

        /** The next try: after the current back-off, and a last one when the wait is up. */
        private void scheduleRetry(ChannelHandlerContext ctx, long now) {
            long delay = Math.min(retryNanos, waitingSince + WAIT_NANOS_MAX - now);
            retryNanos = Math.min(2 * retryNanos, RETRY_NANOS_MAX);
            ctx.executor().schedule(() -> retry(ctx), Math.max(0, delay), TimeUnit.NANOSECONDS);
        }

        private void stopWaiting() {
            waiting = false;
            budget.stopWaiting();
        }

        private void releaseHeld() {
            if (held != null) {
                held.forEach(ReferenceCountUtil::release);
                held = null;
            }
        }

        private boolean tryAdmit(ChannelHandlerContext ctx, long now, boolean waitForGeneral) {
            Channel ch = ctx.channel();
            ConnectionBudget.Slot s = budget.admit(
                    now,
                    () -> ch.eventLoop().execute(() -> {
                        ch.flush();
                        ch.close();
                    }),
                    waitForGeneral);
            if (s == null) {
                return false;
            }
            slot = s;
            ch.attr(SLOT).set(s);
            // Without delay, a scheduled task runs after the loop's next I/O pass: see Slot.settle.
            ctx.executor().schedule(s::settle, 0, TimeUnit.NANOSECONDS);
            ctx.fireChannelActive();
            if (held != null) {
                List<Object> msgs = held;
                held = null;
                for (Object m : msgs) {
                    ctx.fireChannelRead(m);
                }
                ctx.fireChannelReadComplete();
            }
            if (readWanted) {
                readWanted = false;
                ctx.read();
            }
            return true;
        }

        private void refuse(ChannelHandlerContext ctx) {
            refused.run();
            // channelActive is not passed on: the HTTP codec never sees this connection
            if (ctx.pipeline().get(SslHandler.class) != null) {
                ctx.close(); // HTTPS: an answer in the clear, before any handshake, would be noise
                return;
            }
            byte[] refusal = budget.lowered() ? REFUSAL_LOWERED : REFUSAL;
            ctx.writeAndFlush(Unpooled.wrappedBuffer(refusal)).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void read(ChannelHandlerContext ctx) {
            if (slot == null) {
                readWanted = true; // nothing is read from a connection not (yet) admitted
                return;
            }
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (slot != null) {
                ctx.fireChannelRead(msg);
            } else if (waiting) {
                if (held == null) {
                    held = new ArrayList<>(2);
                }
                held.add(msg);
            } else {
                ReferenceCountUtil.release(msg); // refused: never read its body
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (slot != null) {
                ctx.fireChannelReadComplete();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (slot != null) {
                budget.release(slot);
            }
            if (waiting) {
                stopWaiting();
            }
            releaseHeld();
            ctx.fireChannelInactive();
        }
    }
}

package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import dev.outpost.edge.config.OutpostConfig;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.netty.channel.ChannelPipelineCustomizer;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;
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
    private final Admission admission;

    public ConnectionGate(Agent agent) {
        OutpostConfig c = agent.config();
        this.budget = new ConnectionBudget(
                c.budgetConnections(),
                c.connections().probeConnections(),
                agent.connectionsLimit,
                agent.openConnections);
        this.limits = SlowClientGuard.Limits.of(c.connections());
        this.admission = new Admission(budget, clock, agent.connectionsRefused);
        closes.register(agent.metrics(), budget);
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
                channel.pipeline().addFirst(NAME, admission);
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
                        new SlowClientGuard(limits, clock, budget, closes));
            }
        }
    }

    /** First in the pipeline: takes a slot for the connection, or refuses it before reading anything. */
    @ChannelHandler.Sharable
    static final class Admission extends ChannelInboundHandlerAdapter {
        /** The answer to a connection for which there is no room. */
        private static final byte[] REFUSAL =
                refusal("the agent's connection budget (budget.connections) is used up by requests in flight;"
                        + " retry later");
        /** The answer to a connection beyond the limit lowered under CPU pressure. */
        private static final byte[] REFUSAL_LOWERED = refusal("the agent's CPU is under pressure, so it admits fewer"
                + " connections than budget.connections for now (see GET /v1/governor); retry later");

        private final ConnectionBudget budget;
        private final LongSupplier clock;
        private final LongAdder refused;

        Admission(ConnectionBudget budget, LongSupplier clock, LongAdder refused) {
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
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            Channel ch = ctx.channel();
            ConnectionBudget.Slot slot = budget.admit(
                    clock.getAsLong(),
                    () -> ch.eventLoop().execute(() -> {
                        ch.flush();
                        ch.close();
                    }));
            if (slot == null) {
                refused.increment();
                byte[] refusal = budget.lowered() ? REFUSAL_LOWERED : REFUSAL;
                ctx.writeAndFlush(Unpooled.wrappedBuffer(refusal)).addListener(ChannelFutureListener.CLOSE);
                return; // not passed on: the HTTP codec never sees this connection
            }
            ch.attr(SLOT).set(slot);
            super.channelActive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (ctx.channel().attr(SLOT).get() == null) {
                ReferenceCountUtil.release(msg); // never read a refused connection's body
                return;
            }
            super.channelRead(ctx, msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            ConnectionBudget.Slot slot = ctx.channel().attr(SLOT).get();
            if (slot != null) {
                budget.release(slot);
            }
            super.channelInactive(ctx);
        }
    }
}

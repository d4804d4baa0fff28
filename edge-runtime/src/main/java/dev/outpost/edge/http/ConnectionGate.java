package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;

/**
 * Counts open connections for the governor's {@code connections} dimension and refuses a
 * connection beyond the limit before reading anything from it: it answers 503 with Retry-After
 * and closes. The limit is budget.connections, lowered while CPU is under pressure (the
 * governor's lower-concurrency action); lowering it refuses new connections only, open ones are
 * kept. Installed first in every connection's Netty pipeline.
 */
@Singleton
public class ConnectionGate implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
    /** The answer to a connection beyond budget.connections. */
    private static final byte[] REFUSAL =
            refusal("the agent's connection budget (budget.connections) is used up; retry later");
    /** The answer to a connection beyond the limit lowered under CPU pressure. */
    private static final byte[] REFUSAL_LOWERED = refusal("the agent's CPU is under pressure, so it admits fewer"
            + " connections than budget.connections for now (see GET /v1/governor); retry later");

    private final Agent agent;
    private final Handler handler = new Handler();

    public ConnectionGate(Agent agent) {
        this.agent = agent;
    }

    private static byte[] refusal(String detail) {
        String body = Problems.json(503, "Too many connections", detail, 0, null);
        String head = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: " + Problems.MEDIA_TYPE
                + "\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
                + "\r\nConnection: close\r\n\r\n";
        return (head + body).getBytes(StandardCharsets.UTF_8);
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
                channel.pipeline().addFirst("outpost-connection-gate", handler);
            }
        }
    }

    private static final io.netty.util.AttributeKey<Boolean> REFUSED =
            io.netty.util.AttributeKey.valueOf("outpost-refused");

    @ChannelHandler.Sharable
    private final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            int open = agent.openConnections.incrementAndGet();
            int limit = agent.connectionsLimit.get();
            if (open > limit) {
                agent.connectionsRefused.increment();
                ctx.channel().attr(REFUSED).set(Boolean.TRUE);
                byte[] refusal = limit < agent.config().budget().connections() ? REFUSAL_LOWERED : REFUSAL;
                ctx.writeAndFlush(Unpooled.wrappedBuffer(refusal)).addListener(ChannelFutureListener.CLOSE);
                return; // not passed on: the HTTP codec never sees this connection
            }
            super.channelActive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (Boolean.TRUE.equals(ctx.channel().attr(REFUSED).get())) {
                io.netty.util.ReferenceCountUtil.release(msg); // never read a refused connection's body
                return;
            }
            super.channelRead(ctx, msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            agent.openConnections.decrementAndGet();
            super.channelInactive(ctx);
        }
    }
}

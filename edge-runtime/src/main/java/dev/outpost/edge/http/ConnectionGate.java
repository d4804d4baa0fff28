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
 * connection beyond the budget before reading anything from it: it answers 503 with Retry-After
 * and closes. Installed first in every connection's Netty pipeline.
 */
@Singleton
public class ConnectionGate implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
    private static final byte[] REFUSAL = refusal();

    private final Agent agent;
    private final Handler handler = new Handler();

    public ConnectionGate(Agent agent) {
        this.agent = agent;
    }

    private static byte[] refusal() {
        String body = Problems.json(
                503,
                "Too many connections",
                "the agent's connection budget (budget.connections) is" + " used up; retry later",
                0,
                null);
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
            if (open > agent.config().budgetConnections()) {
                agent.connectionsRefused.increment();
                ctx.channel().attr(REFUSED).set(Boolean.TRUE);
                ctx.writeAndFlush(Unpooled.wrappedBuffer(REFUSAL)).addListener(ChannelFutureListener.CLOSE);
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

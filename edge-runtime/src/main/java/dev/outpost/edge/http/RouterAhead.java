package dev.outpost.edge.http;

import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.http.netty.channel.ChannelPipelineCustomizer;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.function.Supplier;

/**
 * What the paths served in the Netty pipeline ahead of Micronaut's router share (the state GET fast path, the live
 * tail, the WebSocket upgrade): installing a handler per HTTP/1 connection right before Micronaut's inbound handler,
 * and counting the requests handed on to Micronaut whose final response is not out yet — such a path may answer only
 * while that count is 0, so responses leave in request order.
 */
final class RouterAhead {
    private RouterAhead() {}

    /** Registers {@code handler} (one new instance per connection) under {@code name}. */
    static void install(
            BeanCreatedEvent<NettyServerCustomizer.Registry> event,
            String name,
            Supplier<ChannelDuplexHandler> handler) {
        event.getBean().register(new Customizer(null, name, handler, false));
    }

    /**
     * Registers {@code handler} (one new instance per connection) under {@code name} right before Netty's HTTP codec
     * on HTTP/1 connections: it sees the connection's bytes (after TLS) and writes bytes.
     */
    static void installBeforeCodec(
            BeanCreatedEvent<NettyServerCustomizer.Registry> event,
            String name,
            Supplier<ChannelDuplexHandler> handler) {
        event.getBean().register(new Customizer(null, name, handler, true));
    }

    private record Customizer(Channel channel, String name, Supplier<ChannelDuplexHandler> handler, boolean beforeCodec)
            implements NettyServerCustomizer {
        @Override
        public NettyServerCustomizer specializeForChannel(Channel ch, ChannelRole role) {
            return role == ChannelRole.CONNECTION ? new Customizer(ch, name, handler, beforeCodec) : this;
        }

        @Override
        public void onStreamPipelineBuilt() {
            if (channel == null) {
                return;
            }
            ChannelPipeline p = channel.pipeline();
            if (p.get(ChannelPipelineCustomizer.HANDLER_HTTP_SERVER_CODEC) != null
                    && p.get(ChannelPipelineCustomizer.HANDLER_MICRONAUT_INBOUND) != null
                    && p.get(name) == null) {
                p.addBefore(
                        beforeCodec
                                ? ChannelPipelineCustomizer.HANDLER_HTTP_SERVER_CODEC
                                : ChannelPipelineCustomizer.HANDLER_MICRONAUT_INBOUND,
                        name,
                        handler.get());
            }
        }
    }

    /** A connection's handler that counts what Micronaut owes; state on the connection's event loop only. */
    abstract static class Handler extends ChannelDuplexHandler {
        /** Requests handed to Micronaut whose final response has not been written yet. */
        int owed;

        /** True once the connection is this path's for good (a stream, a WebSocket): nothing is counted then. */
        abstract boolean taken();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            // Micronaut's writes pass through here on their way to the codec; a final response ends with a
            // LastHttpContent (a 100 Continue does too, but is not the final one).
            if (!taken()
                    && msg instanceof LastHttpContent
                    && !(msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL)
                    && owed > 0) {
                owed--;
                answered();
            }
            ctx.write(msg, promise);
        }

        /** The oldest request owed has had its final response written. */
        void answered() {}
    }
}

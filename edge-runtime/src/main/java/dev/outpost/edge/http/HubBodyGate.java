package dev.outpost.edge.http;

import dev.outpost.edge.config.LiveConfig;
import dev.outpost.sync.wire.SyncProtocol;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * On a hub, what is checked of a request before its body is read. Micronaut reads a body whole before a controller
 * sees it, up to the largest any route takes — hub.body_bytes_max (16 MiB) for pushes — so a client that no node
 * token vouches for could make a hub hold that much per connection before the push controller refused it. Here a
 * push, cursor or dictionary request ({@code /v1/sync/...} with a body) must name a node of hub.nodes with its token
 * (else 401), and any other request's declared body must fit http.body_bytes_max (else 413), before a byte of the
 * body goes on. Invariants: a refusal is answered only while the router owes no response on the connection (answers
 * leave in request order), else the connection is closed; what arrives after a refused head is dropped and the
 * connection closed (lingering, {@link LingeringClose}); on a node (not a hub) nothing is installed.
 */
@Singleton
public class HubBodyGate implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
    /** The handler's name in the pipeline. */
    static final String NAME = "outpost-hub-body-gate";

    private static final String SYNC_PREFIX = "/v1/sync/";

    private final LiveConfig config;

    public HubBodyGate(LiveConfig config) {
        this.config = config;
    }

    @Override
    public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
        if (config.current().hub().enabled()) {
            RouterAhead.install(event, NAME, Handler::new);
        }
        return event.getBean();
    }

    /**
     * The node a push's headers name, if its token is the one hub.nodes gives it; null otherwise. Compared even for
     * an unknown node, so timing does not tell which nodes exist.
     */
    static String node(Map<String, String> nodes, String node, String authorization) {
        if (node == null || authorization == null || !authorization.startsWith("Bearer ")) {
            return null;
        }
        String token = nodes.get(node);
        byte[] given = authorization.substring(7).getBytes(StandardCharsets.UTF_8);
        byte[] expected = (token == null ? "\u0000unknown-node-token" : token).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, given) && token != null ? node : null;
    }

    /** The refusal of a request this gate stops, or null to let it go on. */
    private Answer refusal(HttpRequest request) {
        String uri = request.uri();
        boolean sync = uri.startsWith(SYNC_PREFIX);
        boolean body = request.method().equals(HttpMethod.POST)
                || request.method().equals(HttpMethod.PUT)
                || HttpUtil.isTransferEncodingChunked(request)
                || HttpUtil.getContentLength(request, 0L) > 0;
        if (sync && body) {
            var h = request.headers();
            String node = node(config.current().hub().nodes(), h.get(SyncProtocol.NODE_HEADER), h.get("Authorization"));
            return node == null ? SyncController.UNAUTHORIZED : null;
        }
        long bodyBytesMax = config.current().http().bodyBytesMax();
        if (!sync && HttpUtil.getContentLength(request, 0L) > bodyBytesMax) {
            return Problems.answer(
                    413,
                    "Payload too large",
                    "the body is more than http.body_bytes_max = " + bodyBytesMax + " bytes",
                    0,
                    "Content-Length");
        }
        return null;
    }

    /** One per connection; its state is touched on the connection's event loop only. */
    private final class Handler extends RouterAhead.Handler {
        /** The rest of a refused request is dropped until its end. */
        private boolean dropping;

        @Override
        boolean taken() {
            return false;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (dropping) {
                dropping = !(msg instanceof LastHttpContent);
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof HttpRequest request && request.decoderResult().isSuccess()) {
                Answer refused = refusal(request);
                if (refused != null) {
                    dropping = !(msg instanceof LastHttpContent);
                    ReferenceCountUtil.release(msg);
                    if (owed == 0) {
                        ctx.writeAndFlush(refused.toNetty(ctx.alloc(), request.protocolVersion(), true))
                                .addListener(ChannelFutureListener.CLOSE);
                    } else {
                        ctx.close(); // answers leave in request order: the router's before this one are not out
                    }
                    return;
                }
                owed++;
            }
            ctx.fireChannelRead(msg);
        }
    }
}

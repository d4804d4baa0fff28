package dev.outpost.edge.http;

import dev.outpost.edge.config.LiveConfig;
import dev.outpost.edge.hub.Hub;
import dev.outpost.sync.wire.SyncProtocol;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.core.annotation.Nullable;
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
import java.util.ArrayDeque;
import java.util.Map;

/**
 * On a hub, what is checked of a request before its body is read. Micronaut reads a body whole before a controller
 * sees it, up to the largest any route takes — hub.body_bytes_max (16 MiB) for pushes — so a client that no node
 * token vouches for could make a hub hold that much per connection before the push controller refused it. Here a
 * push, cursor or dictionary request ({@code /v1/sync/...} with a body) must name a node of hub.nodes with its token
 * (else 401), and any other request's declared body must fit http.body_bytes_max (else 413), before a byte of the
 * body goes on. A vouched body is held against the hub's memory for bodies being received ({@link Hub#holdBody}) from
 * its head until its answer is written (or the connection closes), and refused with 429 when there is no room, so
 * many nodes pushing at once cannot make the hub hold a hub.body_bytes_max body each before admission refuses them.
 * Invariants: a refusal is answered only while the router owes no response on the connection (answers leave in
 * request order), else the connection is closed; what arrives after a refused head is dropped and the connection
 * closed (lingering, {@link LingeringClose}); every hold is given back exactly once; on a node (not a hub) nothing is
 * installed.
 */
@Singleton
public class HubBodyGate implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
    /** The handler's name in the pipeline. */
    static final String NAME = "outpost-hub-body-gate";

    private static final String SYNC_PREFIX = "/v1/sync/";

    /** The answer to a vouched push the hub has no room to receive now. */
    static final Answer BUSY = Problems.answer(
            429,
            "Too many pushes",
            "the hub is receiving as many bytes of pushes as its memory budget allows; retry later",
            0,
            null);

    private final LiveConfig config;
    private final Hub hub;

    public HubBodyGate(LiveConfig config, @Nullable Hub hub) {
        this.config = config;
        this.hub = hub;
    }

    @Override
    public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
        if (config.current().hub().enabled() && hub != null) {
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

    /**
     * The memory a vouched request's body will hold while received, taken from its head: KiB to give back once it
     * is answered, 0 for a request that holds none, -1 if the hub has no room.
     */
    private int hold(HttpRequest request) {
        if (!request.uri().startsWith(SYNC_PREFIX)) {
            return 0;
        }
        long declared = HttpUtil.isTransferEncodingChunked(request)
                ? config.current().hub().bodyBytesMax() // a chunked body may take up to the limit
                : HttpUtil.getContentLength(request, 0L);
        return declared > 0 ? hub.holdBody(declared) : 0;
    }

    /** One per connection; its state is touched on the connection's event loop only. */
    private final class Handler extends RouterAhead.Handler {
        /** The rest of a refused request is dropped until its end. */
        private boolean dropping;

        /** What each request owed holds ({@link #hold}), oldest first. */
        private final ArrayDeque<Integer> held = new ArrayDeque<>();

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
                int kib = refused == null ? hold(request) : 0;
                if (refused != null || kib < 0) {
                    refuse(ctx, msg, request, refused != null ? refused : BUSY);
                    return;
                }
                owed++;
                held.add(kib);
            }
            ctx.fireChannelRead(msg);
        }

        private void refuse(ChannelHandlerContext ctx, Object msg, HttpRequest request, Answer answer) {
            dropping = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            if (owed == 0) {
                ctx.writeAndFlush(answer.toNetty(ctx.alloc(), request.protocolVersion(), true))
                        .addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.close(); // answers leave in request order: the router's before this one are not out
            }
        }

        @Override
        void answered() {
            Integer kib = held.poll();
            if (kib != null && kib > 0) {
                hub.releaseBody(kib);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            releaseAll();
            ctx.fireChannelInactive();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            releaseAll();
        }

        /** The connection closed (or the handler left it) with requests unanswered: gives back what they held. */
        private void releaseAll() {
            for (Integer kib; (kib = held.poll()) != null; ) {
                if (kib > 0) {
                    hub.releaseBody(kib);
                }
            }
        }
    }
}

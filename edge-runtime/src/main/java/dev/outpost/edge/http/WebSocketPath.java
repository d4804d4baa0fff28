package dev.outpost.edge.http;

import dev.outpost.edge.live.FramedMemory;
import dev.outpost.edge.live.LiveFeed;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.ReferenceCountUtil;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code GET /v1/ws}: upgrades to a WebSocket carrying JSON control messages and live subscriptions ({@link WsSession};
 * docs/API.md, "WebSocket"), in the Netty pipeline ahead of Micronaut's router like {@link EventTailPath}.
 *
 * <p>Design note. Only an upgrade this path can serve is taken: an HTTP/1.1 GET of the exact path with {@code Upgrade:
 * websocket} and a query that decodes, admitted by the API token (the {@code Authorization} header, or {@code
 * access_token} in the query for browsers, RFC 6750 §2.3), while Micronaut owes no response on the connection;
 * anything else goes on to Micronaut (400 naming a malformed parameter, 401 from the API filter, 404 otherwise). Once
 * upgraded the connection is the session's: the slow-client guard (which knows HTTP requests, not frames) leaves the
 * pipeline, and the connection keeps its budget slot, busy, until it closes. Invariants: a frame is at most {@link
 * #FRAME_BYTES_MAX} and a message (fragments joined) at most {@link #MESSAGE_BYTES_MAX}, beyond which Netty closes the
 * connection with 1009; frames are only read on the event loop.
 */
@Singleton
public class WebSocketPath implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
    /** The handler's name in the pipeline. */
    static final String NAME = "outpost-websocket";

    static final String PATH = "/v1/ws";
    /** The query parameter a browser sends the API token in. */
    static final String ACCESS_TOKEN = "access_token";
    /** Most query parameters decoded (Netty's decoder's default, as before). */
    private static final int QUERY_PARAMETERS_MAX = 1_024;
    /** Largest frame a client may send. */
    static final int FRAME_BYTES_MAX = 64 * 1024;
    /** Largest control message a client may send, its fragments joined. */
    static final int MESSAGE_BYTES_MAX = 64 * 1024;

    private final LiveFeed feed;
    private final ApiScreen tokens;
    private final WsFraming framing = new WsFraming(FramedMemory.process());

    private final LoopWrites writes;

    public WebSocketPath(LiveFeed feed, ApiScreen tokens, LoopWrites writes) {
        this.writes = writes;
        this.feed = feed;
        this.tokens = tokens;
    }

    @Override
    public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
        RouterAhead.install(event, NAME, Handler::new);
        return event.getBean();
    }

    /** One per connection; its state is touched on the connection's event loop only. */
    private final class Handler extends RouterAhead.Handler {
        private WsSession session;

        @Override
        boolean taken() {
            return session != null;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (session != null) {
                if (msg instanceof WebSocketFrame frame) {
                    session.received(frame);
                } else {
                    ReferenceCountUtil.release(msg); // the upgrade request's end, read before the switch
                }
                return;
            }
            if (msg instanceof HttpRequest request) {
                if (owed == 0 && serves(request)) {
                    upgrade(ctx, request);
                    ReferenceCountUtil.release(msg);
                    return;
                }
                owed++;
            }
            ctx.fireChannelRead(msg);
        }

        /** A message over the limit (its fragments joined) closes the session with 1009, as a frame over it does. */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (session != null && cause instanceof TooLongFrameException) {
                ctx.writeAndFlush(new CloseWebSocketFrame(
                                WebSocketCloseStatus.MESSAGE_TOO_BIG,
                                "a message is at most " + MESSAGE_BYTES_MAX + " bytes"))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            if (session != null && cause instanceof CorruptedWebSocketFrameException) {
                // A protocol violation (bad UTF-8, an unmasked or oversized control frame...): the decoder or the
                // validator has already sent the close with its code and closes after it (closing here could cut the
                // close frame off). Passed on, the router logged it as an ERROR.
                return;
            }
            ctx.fireExceptionCaught(cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (session != null) {
                session.closed();
            }
            ctx.fireChannelInactive();
        }

        private void upgrade(ChannelHandlerContext ctx, HttpRequest request) {
            FullHttpRequest full = new DefaultFullHttpRequest(
                    request.protocolVersion(),
                    request.method(),
                    request.uri(),
                    Unpooled.EMPTY_BUFFER,
                    request.headers(),
                    EmptyHttpHeaders.INSTANCE);
            WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(
                            "ws://" + request.headers().get(HttpHeaderNames.HOST) + PATH, null, false, FRAME_BYTES_MAX)
                    .newHandshaker(full);
            if (handshaker == null) {
                WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
                return;
            }
            ChannelPipeline p = ctx.pipeline();
            if (p.get(SlowClientGuard.NAME) != null) {
                p.remove(SlowClientGuard.NAME); // it times HTTP requests; a session is timed by its own pings
            }
            session = new WsSession(ctx, handshaker, feed, framing, writes);
            handshaker.handshake(ctx.channel(), full).addListener(f -> {
                if (!f.isSuccess()) {
                    ctx.close();
                }
            });
            if (p.get("wsdecoder") != null) { // added by the handshake, where the HTTP decoder was
                p.addAfter("wsdecoder", "ws-aggregator", new WebSocketFrameAggregator(MESSAGE_BYTES_MAX));
                // Text that is not UTF-8 fails the connection with 1007 (RFC 6455 §8.1), as Netty's protocol
                // handler would; without it the text was decoded with replacement characters and answered.
                p.addAfter("wsdecoder", "ws-utf8", new Utf8FrameValidator());
            }
        }
    }

    private boolean serves(HttpRequest request) {
        String uri = request.uri();
        String upgrade = request.headers().get(HttpHeaderNames.UPGRADE);
        return HttpMethod.GET.equals(request.method())
                && HttpVersion.HTTP_1_1.equals(request.protocolVersion())
                && request.decoderResult().isSuccess()
                && uri.startsWith(PATH)
                && (uri.length() == PATH.length() || uri.charAt(PATH.length()) == '?')
                && upgrade != null
                && upgrade.toLowerCase(Locale.ROOT).contains("websocket")
                && admitted(request);
    }

    /**
     * Whether the upgrade's credentials admit it. Not taken, whatever the Authorization header says, when the query
     * does not decode or, with api tokens, names an access_token that cannot be one: the router answers 400 naming the
     * parameter ({@link MalformedUriHandler}, {@link WebSocketController}), as it answers every malformed parameter
     * (taken on a valid header, such a request was upgraded and the broken credential went unnoticed).
     */
    private boolean admitted(HttpRequest request) {
        String queryToken;
        try {
            queryToken = queryToken(PercentEscapes.parameters(request.uri(), QUERY_PARAMETERS_MAX), tokens);
        } catch (ProblemException malformed) { // thrown out of channelRead, it left the request unanswered
            return false;
        }
        return tokens.admits(request.headers().get(HttpHeaderNames.AUTHORIZATION))
                || (queryToken != null && tokens.admits(queryToken));
    }

    /**
     * {@code access_token} from the decoded query, as a Bearer credential (browsers cannot set headers on a
     * WebSocket); null if absent or if {@code tokens} requires none (credentials are not looked at then, the header's
     * neither). Given empty or more than once it cannot be a credential: a ProblemException, 400 naming it.
     */
    static String queryToken(Map<String, List<String>> query, ApiScreen tokens) {
        List<String> t = query.get(ACCESS_TOKEN);
        if (t == null || !tokens.required()) {
            return null;
        }
        if (t.size() != 1 || t.getFirst().isEmpty()) {
            throw new ProblemException(
                    400, "Invalid query", ACCESS_TOKEN + " must be given once, holding the API token", 0, ACCESS_TOKEN);
        }
        return "Bearer " + t.getFirst();
    }
}

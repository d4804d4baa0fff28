package dev.outpost.edge.http;

import dev.outpost.edge.hub.Hub;
import dev.outpost.edge.live.FramedMemory;
import dev.outpost.edge.live.LiveFeed;
import dev.outpost.edge.live.Outlet;
import dev.outpost.edge.live.TailRefusal;
import dev.outpost.edge.state.StateRefusal;
import dev.outpost.edge.state.StateService;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Serves {@code GET /v1/events/tail} (server-sent events) in the Netty pipeline, ahead of Micronaut's router: a
 * subscription is a response that never ends, written by the {@link LiveFeed}'s thread as events are acknowledged.
 *
 * <p>Design note. Micronaut streams a response through a reactive chain and a body writer per item; with thousands of
 * subscribers each receiving every event that is the agent's CPU. Here the feed frames each event once and every
 * subscriber's connection is handed a slice of the same bytes, written straight to the channel, and the subscriber's
 * bounded buffer is what its connection has not written yet ({@link dev.outpost.edge.live.Subscriber}). Only a
 * request this path can serve is taken: a keep-alive HTTP/1.1 GET of the exact path, admitted by the token, with
 * parameters that parse, while Micronaut owes no response on the connection. Anything else — a bad parameter, a
 * missing token, a full house of subscribers — goes on to Micronaut, whose {@link TailController} and filters answer
 * it with the same checks (problem+json), so those answers stay in one place. Invariants: once streaming, the
 * connection carries nothing else (further input is discarded); when it closes, the subscription is cancelled once;
 * the agent ending a subscription writes the reason and closes within {@link #CLOSE_GRACE_MILLIS}.
 */
@Singleton
public class EventTailPath implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
    /** The handler's name in the pipeline. */
    static final String NAME = "outpost-event-tail";

    /** How long a connection the agent ends may take to write its last message before it is closed anyway. */
    static final long CLOSE_GRACE_MILLIS = 2_000;

    private static final String STATE_PREFIX = "/v1/state/";
    static final String WATCH_SUFFIX = "/watch";

    private final LiveFeed feed;
    private final ApiScreen tokens;
    private final Hub hub; // null: not a hub
    private final LoopWrites writes;
    private final SseFraming framing = new SseFraming(ByteBufAllocator.DEFAULT);
    /** Per node log a hub tails: framing for one node's tail, and for the fleet-wide one (each on its feed's thread). */
    private final Map<String, SseFraming> nodeFramings = new ConcurrentHashMap<>();

    private final Map<String, SseFraming> fleetFramings = new ConcurrentHashMap<>();

    public EventTailPath(LiveFeed feed, ApiScreen tokens, @Nullable Hub hub, LoopWrites writes) {
        this.writes = writes;
        this.feed = feed;
        this.tokens = tokens;
        this.hub = hub;
    }

    @Override
    public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
        RouterAhead.install(event, NAME, Handler::new);
        return event.getBean();
    }

    /** One per connection; its state is touched on the connection's event loop only. */
    private final class Handler extends RouterAhead.Handler {

        private LiveFeed.Subscription subscription;

        @Override
        boolean taken() {
            return subscription != null;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (subscription != null) {
                ReferenceCountUtil.release(msg); // a streaming connection carries nothing else
                return;
            }
            if (msg instanceof HttpRequest request) {
                String watched = owed == 0 ? watchedNamespace(request) : null;
                if (watched != null) {
                    ReferenceCountUtil.release(msg);
                    watch(ctx, watched);
                    return;
                }
                String path = owed == 0 ? served(request) : null;
                if (path != null) {
                    boolean fleet = path.equals(TailRequest.FLEET_PATH);
                    TailRequest tail = parse(request, fleet);
                    if (tail != null && stream(ctx, tail, fleet)) {
                        ReferenceCountUtil.release(msg);
                        return;
                    }
                }
                owed++;
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (subscription != null) {
                subscription.cancel();
            }
            ctx.fireChannelInactive();
        }

        /** Starts a state watch of the namespace written {@code encoded} in the path, or answers why not (problem+json). */
        private void watch(ChannelHandlerContext ctx, String encoded) {
            String namespace;
            try {
                namespace = QueryStringDecoder.decodeComponent(encoded);
            } catch (IllegalArgumentException e) { // thrown out of channelRead, it left the request unanswered
                String detail = "the namespace has malformed percent-encoding: " + PercentEscapes.RULE;
                refuse(ctx, 400, "Invalid namespace", detail, "namespace");
                return;
            }
            try {
                StateService.checkNamespace(namespace);
            } catch (StateRefusal e) {
                refuse(ctx, 400, "Invalid namespace", e.getMessage(), "namespace");
                return;
            }
            LiveFeed.Subscription s = feed.watch(namespace, new StateWatchStream(ctx, namespace));
            if (s == null) {
                refuse(ctx, 503, "Too many subscribers", "live.subscribers_max subscriptions are held", null);
                return;
            }
            subscription = s;
            ctx.writeAndFlush(streamHead(), ctx.voidPromise());
        }

        private void refuse(ChannelHandlerContext ctx, int status, String title, String detail, String field) {
            byte[] body = Problems.json(status, title, detail, 0, field).getBytes(StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(body));
            r.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, Problems.MEDIA_TYPE)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            if (status == 503) {
                r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
            }
            ctx.writeAndFlush(r, ctx.voidPromise());
        }

        /** Starts the event stream: headers now, events from the feed. False (nothing written) if refused. */
        private boolean stream(ChannelHandlerContext ctx, TailRequest tail, boolean fleet) {
            HttpResponse head = streamHead();
            LiveFeed.Subscription s;
            Outlet outlet = new ChannelOutlet(ctx);
            try {
                s = !fleet
                        ? feed.subscribe(tail.filter(), tail.start(), framing, outlet)
                        : subscribeFleet(tail, outlet);
            } catch (TailRefusal e) {
                return false; // the controller says why
            }
            if (s == null) {
                return false; // live.subscribers_max held: the controller answers 503
            }
            subscription = s;
            ctx.writeAndFlush(head, ctx.voidPromise());
            return true;
        }
    }

    /** The nodes a framing is kept for (those tailed since start; each one of hub.nodes). */
    int framedNodes() {
        return nodeFramings.size();
    }

    /** A hub's tail of one node's log (as on the node), or of every node (live, ids "NODE:SEQ"). */
    private LiveFeed.Subscription subscribeFleet(TailRequest tail, Outlet outlet) {
        if (tail.nodes().isEmpty()) {
            return hub.tail()
                    .subscribeAll(
                            tail.filter(),
                            node -> fleetFramings.computeIfAbsent(
                                    node,
                                    n -> new SseFraming(ByteBufAllocator.DEFAULT, FramedMemory.process(), n, true)),
                            outlet);
        }
        String node = tail.nodes().getFirst();
        LiveFeed feed = hub.tail().feed(node); // refuses a node not in hub.nodes before anything is kept for it
        SseFraming f = nodeFramings.computeIfAbsent(
                node, n -> new SseFraming(ByteBufAllocator.DEFAULT, FramedMemory.process(), n, false));
        return feed.subscribe(tail.filter(), tail.start(), f, outlet);
    }

    /** The head of an event stream (its body follows in chunks, never ending on its own). */
    private static HttpResponse streamHead() {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
                .set("X-Accel-Buffering", "no");
        return head;
    }

    /**
     * The namespace (percent-encoded, as written) of a state watch this path serves — {@code GET
     * /v1/state/{namespace}/watch} asking for {@code text/event-stream} (without it, the same path reads the document
     * whose id is "watch") — or null.
     */
    private String watchedNamespace(HttpRequest request) {
        String uri = request.uri();
        String accept = request.headers().get(HttpHeaderNames.ACCEPT);
        if (!HttpMethod.GET.equals(request.method())
                || !HttpVersion.HTTP_1_1.equals(request.protocolVersion())
                || !request.decoderResult().isSuccess()
                || !uri.startsWith(STATE_PREFIX)
                || !uri.endsWith(WATCH_SUFFIX)
                || accept == null
                || !accept.contains("text/event-stream")
                || !tokens.admits(request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            return null;
        }
        int end = uri.length() - WATCH_SUFFIX.length();
        if (end <= STATE_PREFIX.length() || uri.indexOf('/', STATE_PREFIX.length()) != end) {
            return null;
        }
        return uri.substring(STATE_PREFIX.length(), end);
    }

    /**
     * The tail path this request is for (the fleet one only on a hub with node logs: with hub.backend: kafka the
     * controller refuses it), if this path may serve it; else null.
     */
    private String served(HttpRequest request) {
        String uri = request.uri();
        String path = at(uri, TailRequest.PATH)
                ? TailRequest.PATH
                : at(uri, TailRequest.FLEET_PATH) && hub != null && !hub.kafkaBackend() ? TailRequest.FLEET_PATH : null;
        return path != null && serves(request) ? path : null;
    }

    private static boolean at(String uri, String path) {
        return uri.startsWith(path) && (uri.length() == path.length() || uri.charAt(path.length()) == '?');
    }

    private boolean serves(HttpRequest request) {
        return HttpMethod.GET.equals(request.method())
                && HttpVersion.HTTP_1_1.equals(request.protocolVersion())
                && request.decoderResult().isSuccess()
                && !isWebSocket(request)
                && !request.headers().contains(HttpHeaderNames.CONTENT_LENGTH)
                && !request.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)
                && tokens.admits(request.headers().get(HttpHeaderNames.AUTHORIZATION));
    }

    /** An upgrade to HTTP/2 (h2c, which the JDK's client asks for) is ignored; one to WebSocket is not ours. */
    private static boolean isWebSocket(HttpRequest request) {
        String upgrade = request.headers().get(HttpHeaderNames.UPGRADE);
        return upgrade != null && upgrade.toLowerCase(java.util.Locale.ROOT).contains("websocket");
    }

    private static TailRequest parse(HttpRequest request, boolean fleet) {
        try {
            return TailRequest.parse(request.uri(), request.headers().get("Last-Event-ID"), fleet);
        } catch (ProblemException e) {
            return null; // the controller answers it
        }
    }

    /**
     * A subscriber's connection. The feed's writes are queued on the connection's event loop after the response head
     * (which the loop writes first: it is the thread that subscribed).
     */
    private final class ChannelOutlet implements Outlet {
        private final ChannelHandlerContext ctx;

        ChannelOutlet(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void events(ByteBuf frames, int count, Runnable taken) {
            write(frames, taken);
        }

        @Override
        public void gap(long fromSeq, long toSeq, long skipped, Runnable taken) {
            write(framing.gap(fromSeq, toSeq, skipped), taken);
        }

        @Override
        public void heartbeat(Runnable taken) {
            write(framing.heartbeat(), taken);
        }

        private void write(ByteBuf bytes, Runnable taken) {
            writes.write(ctx, new DefaultHttpContent(bytes), taken);
        }

        @Override
        public void close(String reason) {
            ByteBuf closing = framing.closing(reason);
            writes.run(ctx, () -> {
                ctx.write(new DefaultHttpContent(closing));
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
                ctx.executor().schedule(() -> ctx.channel().close(), CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
            });
        }
    }
}

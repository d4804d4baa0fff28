package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import dev.outpost.edge.config.LiveConfig;
import dev.outpost.edge.ingest.AppendRound;
import dev.outpost.edge.ingest.IngestOutcome;
import dev.outpost.edge.ingest.IngestPipeline;
import dev.outpost.edge.metrics.Metrics;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.MediaType;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.micronaut.http.server.netty.configuration.NettyHttpServerConfiguration;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.EventExecutor;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The one fast path: a handler per HTTP/1 connection ({@link FastPathHandler}) ahead of Micronaut's router that
 * answers the hot requests — {@code POST /v1/events} (one JSON event or NDJSON), the plain {@code GET
 * /v1/state/{ns}/{id}} ({@link StateReadFastPath}) and {@code GET /health} — and hands everything else to the router
 * unchanged. Switched off by {@code http.fast_path: false}.
 *
 * <p>Design note. Through Micronaut, a single-event ingest spent most of its CPU in routing, argument binding, the
 * filter and the response lifecycle (docs/BENCHMARKS.md). The fast path answers the plain shapes of the hot requests
 * with the router's own answers: what to answer is decided once, in code both paths call — {@link IngestAnswers} for
 * ingest outcomes, {@link ApiScreen} for the token ({@link ApiScreen#admits}, {@link ApiScreen#UNAUTHORIZED}), {@link
 * JsonCharset} for the charset rule, {@link OpsController#health} — and framed by {@link Answer}, so status, headers
 * and body are the same bytes (FastPathContractTest sends one suite of requests to an agent with the fast path on and
 * one with it off). What the router does that the fast path does not do itself, it leaves to the router: a request is
 * handed on whenever it is not sure it would answer the same — another method, path, query string, version, Accept,
 * Content-Type (or a charset other than UTF-8), Content-Encoding or Transfer-Encoding other than chunked (the router
 * decompresses), Expect (100-continue), Upgrade, a Content-Length over http.body_bytes_max or of 0 (the router's 413
 * and 400), an Accept-Encoding while response compression is on (the compressor is the router's), a body that turns
 * out empty or over the limit while it arrives (handed on with what arrived). The connection gate, the slow-client
 * guard and the body-rate limit sit in front of both paths in the pipeline, and ingest metrics are the pipeline's, so
 * they hold for both without a second definition.
 */
@Singleton
public class FastPath implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
    /** The handler's name in the pipeline. */
    static final String NAME = "outpost-fast-path";

    static final String EVENTS = "/v1/events";
    static final String HEALTH = "/health";
    private static final AsciiString IDEMPOTENCY_KEY = AsciiString.cached("Idempotency-Key");
    private static final AsciiString ANY = AsciiString.cached("*/*");

    /** What a request is, for the fast path. */
    enum Route {
        /** POST /v1/events with one JSON event. */
        INGEST_JSON,
        /** POST /v1/events with an NDJSON batch. */
        INGEST_NDJSON,
        /** GET /health. */
        HEALTH
    }

    private final boolean enabled;
    private final StateReadFastPath state;
    private final IngestPipeline ingest;
    private final ApiScreen tokens;
    private final Agent agent;
    private final long bodyBytesMax;
    private final boolean compression;
    private final LongAdder ingests;
    private final LongAdder healths;
    private final LongAdder raw = new LongAdder();
    private final LongAdder ackRounds = new LongAdder();
    private final Map<EventExecutor, LoopAcks> acks = new ConcurrentHashMap<>();
    private final Map<EventExecutor, AppendRound> rounds = new ConcurrentHashMap<>();

    public FastPath(
            LiveConfig config,
            StateReadFastPath state,
            IngestPipeline ingest,
            ApiScreen tokens,
            Agent agent,
            Metrics metrics,
            NettyHttpServerConfiguration server) {
        this.enabled = config.current().http().fastPath();
        this.state = state;
        this.ingest = ingest;
        this.tokens = tokens;
        this.agent = agent;
        this.bodyBytesMax = config.current().http().bodyBytesMax();
        this.compression = server.getCompressionThreshold() >= 0;
        this.ingests = new LongAdder();
        this.healths = new LongAdder();
        String help = "Requests answered by the fast path ahead of the router (http.fast_path), by route.";
        metrics.counterFn("outpost_http_fast_answers_total", "route", "ingest", help, ingests::sum);
        metrics.counterFn("outpost_http_fast_answers_total", "route", "health", help, healths::sum);
        metrics.counterFn(
                "outpost_http_fast_raw_answers_total",
                "Requests the fast path answered from the bytes read, ahead of Netty's HTTP codec (any route).",
                raw::sum);
        metrics.counterFn(
                "outpost_http_fast_ack_rounds_total",
                "Tasks group commit ran on an event loop to answer the fast path's fsync-durable ingests: at most one"
                        + " per event loop per fsync, however many requests it answers.",
                ackRounds::sum);
    }

    @Override
    public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
        if (enabled) {
            RouterAhead.install(event, NAME, () -> new FastPathHandler(this));
            RouterAhead.installBeforeCodec(event, RawFastPath.NAME, () -> new RawFastPath(this));
        }
        return event.getBean();
    }

    /** Whether the fast path is on (http.fast_path). */
    boolean enabled() {
        return enabled;
    }

    long bodyBytesMax() {
        return bodyBytesMax;
    }

    /** Whether the router compresses answers (then the fast path leaves requests with Accept-Encoding to it). */
    boolean compression() {
        return compression;
    }

    /** One request answered ahead of the codec ({@link RawFastPath}). */
    void answeredRaw() {
        raw.increment();
    }

    /** The state GET's answer as bytes ({@link StateReadFastPath#rawAnswer}), or null to hand the request on. */
    ByteBuf stateRaw(
            ByteBufAllocator alloc, String namespace, String id, String authorization, boolean acceptEncoding) {
        return state.rawAnswer(alloc, namespace, id, authorization, acceptEncoding);
    }

    /** The state GET's answer, or null to leave the request to the router. */
    FullHttpResponse stateRead(ChannelHandlerContext ctx, HttpRequest request) {
        return state.answer(ctx, request);
    }

    /** The answer to GET /health (counted). */
    Answer health() {
        healths.increment();
        return OpsController.health(agent);
    }

    /** Whether a /v1 request with these headers passes the token check (else it gets {@link ApiScreen#UNAUTHORIZED}). */
    boolean admits(HttpHeaders h) {
        return admits(h.get(HttpHeaderNames.AUTHORIZATION));
    }

    /** Whether a /v1 request with this Authorization header (or null) passes the token check. */
    boolean admits(String authorization) {
        return tokens.admits(authorization);
    }

    /**
     * Runs one ingest request (counted) through the pipeline, as the router's controller does; an outcome that waits
     * for an fsync completes on {@code acks} (the connection's event loop).
     */
    CompletableFuture<IngestOutcome> ingest(
            byte[] body, int length, boolean ndjson, String idempotencyKey, LoopAcks acks) {
        ingests.increment();
        return ingest.ingest(new IngestPipeline.Request(body, length, ndjson, idempotencyKey, acks));
    }

    /**
     * As {@link #ingest(byte[], int, boolean, String, LoopAcks)} in {@code round}'s loop: one JSON event is appended
     * with the others the loop admits in this pass ({@link AppendRound}; its {@code body} must be its own), a batch
     * after them.
     */
    CompletableFuture<IngestOutcome> ingestInRound(
            byte[] body, int length, boolean ndjson, String idempotencyKey, AppendRound round) {
        ingests.increment();
        return ingest.ingest(new IngestPipeline.Request(body, length, ndjson, idempotencyKey, round.acks(), round));
    }

    /** The one {@link AppendRound} of {@code loop}, shared by its connections. */
    AppendRound round(EventExecutor loop) {
        return rounds.computeIfAbsent(loop, l -> {
            LoopAcks a = acks(l);
            return new AppendRound(ingest, a::executeUncounted, a);
        });
    }

    /** The one {@link LoopAcks} of {@code loop}, shared by its connections. */
    LoopAcks acks(EventExecutor loop) {
        return acks.computeIfAbsent(loop, l -> new LoopAcks(l, ackRounds));
    }

    /** The Idempotency-Key of a request {@link #route} took (at most one). */
    static String idempotencyKey(HttpRequest request) {
        return request.headers().get(IDEMPOTENCY_KEY);
    }

    /**
     * What the fast path makes of a request's headers: a route it answers exactly as the router would, or null to
     * hand the request to the router.
     */
    Route route(HttpRequest request) {
        HttpVersion v = request.protocolVersion();
        if (request.decoderResult().isFailure() || (v != HttpVersion.HTTP_1_1 && v != HttpVersion.HTTP_1_0)) {
            return null;
        }
        HttpHeaders h = request.headers();
        if (!plainConnection(h) || h.contains(HttpHeaderNames.UPGRADE) || h.contains(HttpHeaderNames.EXPECT)) {
            return null;
        }
        String accept = h.get(HttpHeaderNames.ACCEPT);
        if (accept != null && !ANY.contentEquals(accept) && !MediaType.APPLICATION_JSON.equals(accept)) {
            return null; // the router's 406, or its choice among several types
        }
        String uri = request.uri();
        if (HttpMethod.GET.equals(request.method()) && uri.equals(HEALTH)) {
            boolean bodiless =
                    !h.contains(HttpHeaderNames.CONTENT_LENGTH) && !h.contains(HttpHeaderNames.TRANSFER_ENCODING);
            return bodiless ? Route.HEALTH : null;
        }
        if (!HttpMethod.POST.equals(request.method()) || !uri.equals(EVENTS) || !plainBody(h)) {
            return null;
        }
        if (compression && h.contains(HttpHeaderNames.ACCEPT_ENCODING)) {
            return null; // a large answer would be compressed by the router's handler
        }
        if (repeated(h, IDEMPOTENCY_KEY)) {
            return null;
        }
        return ingestKind(h.get(HttpHeaderNames.CONTENT_TYPE));
    }

    /** No Connection header, or just keep-alive or close (both paths close after HTTP/1.0 and after close). */
    private static boolean plainConnection(HttpHeaders h) {
        String c = h.get(HttpHeaderNames.CONNECTION);
        return c == null
                || (!repeated(h, HttpHeaderNames.CONNECTION)
                        && (HttpHeaderValues.KEEP_ALIVE.contentEqualsIgnoreCase(c)
                                || HttpHeaderValues.CLOSE.contentEqualsIgnoreCase(c)));
    }

    /** A body the router would read as it is: not encoded, chunked or of a length from 1 to the limit. */
    private boolean plainBody(HttpHeaders h) {
        if (h.contains(HttpHeaderNames.CONTENT_ENCODING)) {
            return false;
        }
        String te = h.get(HttpHeaderNames.TRANSFER_ENCODING);
        String cl = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (te != null) {
            return cl == null
                    && !repeated(h, HttpHeaderNames.TRANSFER_ENCODING)
                    && HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(te);
        }
        if (cl == null || repeated(h, HttpHeaderNames.CONTENT_LENGTH)) {
            return false; // no body: the router's "Required Body" 400
        }
        long length;
        try {
            length = Long.parseLong(cl);
        } catch (NumberFormatException e) {
            return false;
        }
        return length > 0 && length <= bodyBytesMax;
    }

    /** Whether {@code name} is present more than once (without building the list of its values). */
    private static boolean repeated(HttpHeaders h, CharSequence name) {
        java.util.Iterator<? extends CharSequence> values = h.valueCharSequenceIterator(name);
        if (!values.hasNext()) {
            return false;
        }
        values.next();
        return values.hasNext();
    }

    /** JSON or NDJSON by Content-Type as the router's controller tells them, or null for any other type or charset. */
    static Route ingestKind(String contentType) {
        if (contentType == null || contentType.equals(MediaType.APPLICATION_JSON)) {
            return Route.INGEST_JSON;
        }
        if (contentType.equals(EventsController.NDJSON)) {
            return Route.INGEST_NDJSON;
        }
        if (contentType.indexOf(';') < 0) {
            return null;
        }
        MediaType type;
        try {
            type = MediaType.of(contentType);
        } catch (IllegalArgumentException malformed) {
            return null;
        }
        Map<CharSequence, String> params = type.getParametersMap();
        String charset = params.get("charset");
        if (params.size() != 1 || charset == null || !JsonCharset.utf8(charset)) {
            return null;
        }
        return type.getName().equals(MediaType.APPLICATION_JSON)
                ? Route.INGEST_JSON
                : type.getName().equals(EventsController.NDJSON) ? Route.INGEST_NDJSON : null;
    }

    /** Whether the connection closes after the answer to {@code request} (as Micronaut's handler decides). */
    static boolean closes(HttpRequest request) {
        return !request.protocolVersion().isKeepAliveDefault() || !HttpUtil.isKeepAlive(request);
    }
}

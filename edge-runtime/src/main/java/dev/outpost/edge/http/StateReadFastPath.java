package dev.outpost.edge.http;

import dev.outpost.edge.metrics.Metrics;
import dev.outpost.edge.state.StateService;
import dev.outpost.store.StateDoc;
import io.micronaut.http.server.netty.configuration.NettyHttpServerConfiguration;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import jakarta.inject.Singleton;
import java.util.concurrent.atomic.LongAdder;

/**
 * Answers the plain case of {@code GET /v1/state/{namespace}/{id}} for the fast path ({@link FastPath}, in the Netty
 * pipeline ahead of Micronaut's router); every other request, and every GET it is not sure about, goes on to
 * Micronaut and {@link StateController} unchanged.
 *
 * <p>Design note. A state read is a ~1 µs Chronicle Map lookup, but through Micronaut it cost
 * ~20 µs of CPU: routing, argument binding, the filter chain, the response lifecycle and its body
 * writers were ~80 % of the agent's samples in a JFR profile of the GET benchmark (docs/
 * BENCHMARKS.md, "State GET fast path"). On a 2-core box that the clients share, that overhead is
 * the throughput. So this handler answers the one shape that is hot and simple — a keep-alive
 * HTTP/1.1 GET of an existing document, two path segments of the id alphabet, no body, no
 * conditional or connection headers, an Accept that is absent or JSON — with exactly the bytes the
 * controller would send: the body is {@link StateController#json}, the ETag {@link
 * StateController#etag}, the token check {@link ApiScreen#admits}. Anything else — a missing
 * document (404 problem), a rejected token (401), an odd path or header, percent-encoding, a query
 * string — is passed on untouched, so those answers stay the controller's and the filters'.
 * Invariants: responses leave in request order, because the fast path only answers while Micronaut
 * owes no response on the connection (it counts requests handed on and final responses written
 * back) and after the fast path's own earlier answers ({@link FastPathHandler}); the request still goes through the HTTP codec and the connection gate in front of it;
 * the read runs on the event loop, as the controller's GET already did (it never blocks). A
 * response the controller would compress (Accept-Encoding and a body over the compression
 * threshold) is left to it. Asked by {@link FastPathHandler}, installed right before Micronaut's inbound
 * handler on HTTP/1 connections only.
 */
@Singleton
public class StateReadFastPath {
    static final String PREFIX = "/v1/state/";
    /** Room for the envelope around a document (names, version, times, origin), so the buffer rarely grows. */
    private static final int DOC_ENVELOPE_BYTES = 512;
    /** Room for the status line and the three headers of a state answer. */
    private static final int HEAD_BYTES = 128;

    private static final AsciiString ETAG = AsciiString.cached("ETag");
    private static final AsciiString JSON = AsciiString.cached("application/json");
    private static final AsciiString ANY = AsciiString.cached("*/*");

    private final StateService state;
    private final ApiScreen tokens;
    private final long compressionThreshold;
    private final LongAdder reads;

    public StateReadFastPath(
            StateService state, Metrics metrics, ApiScreen tokens, NettyHttpServerConfiguration server) {
        this.state = state;
        this.tokens = tokens;
        this.reads = metrics.counter(
                "outpost_state_fast_reads_total",
                "GET /v1/state/{namespace}/{id} answered by the fast path ahead of the router.");
        this.compressionThreshold = server.getCompressionThreshold();
    }

    /** The response to {@code request}, or null to leave the request to Micronaut. */
    FullHttpResponse answer(ChannelHandlerContext ctx, HttpRequest request) {
        if (!HttpMethod.GET.equals(request.method())
                || !HttpVersion.HTTP_1_1.equals(request.protocolVersion())
                || request.decoderResult().isFailure()) {
            return null;
        }
        String uri = request.uri();
        if (!uri.startsWith(PREFIX)) {
            return null;
        }
        int slash = uri.indexOf('/', PREFIX.length());
        if (slash < 0 || !plainSegment(uri, PREFIX.length(), slash) || !plainSegment(uri, slash + 1, uri.length())) {
            return null;
        }
        HttpHeaders h = request.headers();
        if (h.contains(HttpHeaderNames.CONTENT_LENGTH)
                || h.contains(HttpHeaderNames.TRANSFER_ENCODING)
                || (h.contains(HttpHeaderNames.CONNECTION)
                        && !h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE, true))
                || h.contains(HttpHeaderNames.UPGRADE)
                || h.contains(HttpHeaderNames.EXPECT)
                || h.contains(HttpHeaderNames.IF_NONE_MATCH)
                || h.contains(HttpHeaderNames.IF_MATCH)
                || h.contains(HttpHeaderNames.IF_MODIFIED_SINCE)
                || h.contains(HttpHeaderNames.RANGE)) {
            return null;
        }
        String accept = h.get(HttpHeaderNames.ACCEPT);
        if (accept != null && !JSON.contentEquals(accept) && !ANY.contentEquals(accept)) {
            return null;
        }
        StateDoc d = document(
                uri.substring(PREFIX.length(), slash), uri.substring(slash + 1), h.get(HttpHeaderNames.AUTHORIZATION));
        ByteBuf body = d == null ? null : body(ctx.alloc(), d, h.contains(HttpHeaderNames.ACCEPT_ENCODING));
        if (body == null) {
            return null;
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        r.headers()
                .set(ETAG, StateController.etag(d.version()))
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        return r;
    }

    /**
     * The raw fast path's state GET ({@link RawFastPath}, whose parser checked the request's shape as {@link #answer}
     * does): the whole answer as HTTP/1.1 bytes, the same as {@link #answer}'s response leaves Netty's encoder; or
     * null to leave the request to the codec and the paths behind it.
     */
    ByteBuf rawAnswer(
            ByteBufAllocator alloc, String namespace, String id, String authorization, boolean acceptEncoding) {
        StateDoc d = document(namespace, id, authorization);
        ByteBuf body = d == null ? null : body(alloc, d, acceptEncoding);
        if (body == null) {
            return null;
        }
        ByteBuf head = alloc.buffer(HEAD_BYTES);
        Answer.statusLine(head, 200);
        Answer.header(head, ETAG, StateController.etag(d.version()));
        Answer.header(head, HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        Answer.header(head, HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.readableBytes()));
        Answer.endHead(head);
        return alloc.compositeBuffer(2).addComponents(true, head, body);
    }

    /** The document, if the token passes and it exists (else null: the router answers, and says why). */
    private StateDoc document(String namespace, String id, String authorization) {
        if (!tokens.admits(authorization)) {
            return null;
        }
        try {
            return state.get(namespace, id);
        } catch (RuntimeException e) {
            return null; // the controller answers it (and says why)
        }
    }

    /** The document's JSON (counted as a fast read), or null when the router would compress it. */
    private ByteBuf body(ByteBufAllocator alloc, StateDoc d, boolean acceptEncoding) {
        ByteBuf body = alloc.buffer(d.doc().length + DOC_ENVELOPE_BYTES);
        try {
            StateController.jsonUtf8(d, body);
        } catch (RuntimeException e) {
            body.release();
            throw e;
        }
        if (body.readableBytes() >= compressionThreshold && acceptEncoding) {
            body.release();
            return null;
        }
        reads.increment();
        return body;
    }

    /**
     * Whether {@code s[from, to)} is a non-empty path segment of the state id alphabet (A-Z a-z 0-9 .
     * _ - :) that needs no decoding and no normalising (not "." or "..").
     */
    static boolean plainSegment(String s, int from, int to) {
        if (from >= to
                || (s.charAt(from) == '.' && (to - from == 1 || (to - from == 2 && s.charAt(from + 1) == '.')))) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z'
                    || c >= 'A' && c <= 'Z'
                    || c >= '0' && c <= '9'
                    || c == '.'
                    || c == '_'
                    || c == '-'
                    || c == ':')) {
                return false;
            }
        }
        return true;
    }
}

package dev.outpost.edge.http;

import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One answer of the API, decided once and written by either path: through Micronaut's router ({@link #toMicronaut})
 * or by the fast path in the Netty pipeline ({@link #toNetty}). Status, Content-Type, the extra headers (in order) and
 * the body bytes are the answer's; the two writers only frame it, so the paths cannot drift apart.
 *
 * <p>The Netty writer frames it exactly as Micronaut's {@code PipeliningServerHandler} frames a full response: the
 * headers in the order Micronaut sets them (Content-Type first — named {@code Content-Type} when set as a string, as
 * problems are, and {@code content-type} when set from a {@link MediaType} — then the extra headers, then {@code
 * content-length}), the request's protocol version, and {@code connection: close} when the connection closes after an
 * HTTP/1.1 answer (an HTTP/1.0 answer closes without saying so). {@code FastPathContractTest} holds the two to the same
 * bytes.
 *
 * @param status the HTTP status code
 * @param contentType the media type of the body
 * @param headers extra headers as name, value pairs, in the order they are written
 * @param body the body (UTF-8 JSON)
 */
record Answer(int status, String contentType, List<String> headers, byte[] body) {
    private static final AsciiString CONTENT_TYPE_AS_STRING = AsciiString.cached("Content-Type");
    /** Our own names and values need no validation per answer. */
    private static final DefaultHttpHeadersFactory HEADERS =
            DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    /** A JSON (application/json) answer without extra headers. */
    static Answer json(int status, byte[] body) {
        return new Answer(status, MediaType.APPLICATION_JSON, List.of(), body);
    }

    /** This answer with one more header after the others. */
    Answer with(String name, String value) {
        String[] h = headers.toArray(new String[headers.size() + 2]);
        h[headers.size()] = name;
        h[headers.size() + 1] = value;
        return new Answer(status, contentType, List.of(h), body);
    }

    /** Problems set their type as a string (Micronaut keeps the header's spelling); JSON answers as a media type. */
    private boolean typeAsString() {
        return contentType.equals(Problems.MEDIA_TYPE);
    }

    /** The answer as the router sends it. */
    MutableHttpResponse<byte[]> toMicronaut() {
        MutableHttpResponse<byte[]> r =
                HttpResponse.<byte[]>status(HttpStatus.valueOf(status)).body(body);
        if (typeAsString()) {
            r.contentType(contentType);
        } else {
            r.contentType(MediaType.of(contentType));
        }
        for (int i = 0; i < headers.size(); i += 2) {
            r.header(headers.get(i), headers.get(i + 1));
        }
        return r;
    }

    /**
     * The answer as the fast path sends it to a request of {@code version}; {@code close} if the connection closes
     * after it (HTTP/1.0, or {@code Connection: close}).
     */
    FullHttpResponse toNetty(ByteBufAllocator alloc, HttpVersion version, boolean close) {
        ByteBuf content = alloc.buffer(body.length);
        content.writeBytes(body);
        HttpHeaders h = HEADERS.newHeaders();
        // no trailers: a full response's own trailer map would be one more header table per answer
        FullHttpResponse r = new DefaultFullHttpResponse(
                version, HttpResponseStatus.valueOf(status), content, h, EmptyHttpHeaders.INSTANCE);
        h.set(typeAsString() ? CONTENT_TYPE_AS_STRING : HttpHeaderNames.CONTENT_TYPE, contentType);
        for (int i = 0; i < headers.size(); i += 2) {
            h.set(headers.get(i), headers.get(i + 1));
        }
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        if (close && version.isKeepAliveDefault()) {
            h.add(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }

    /**
     * The answer on a kept-alive HTTP/1.1 connection as bytes, exactly as {@link #toNetty}'s response leaves Netty's
     * encoder (the same status line, headers in the same order, the body): for the raw fast path ({@link
     * RawFastPath}), which writes ahead of the codec.
     */
    ByteBuf toHttp11(ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer(HEAD_BYTES + body.length);
        statusLine(out, status);
        header(out, typeAsString() ? CONTENT_TYPE_AS_STRING : HttpHeaderNames.CONTENT_TYPE, contentType);
        for (int i = 0; i < headers.size(); i += 2) {
            header(out, headers.get(i), headers.get(i + 1));
        }
        header(out, HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length));
        endHead(out);
        out.writeBytes(body);
        return out;
    }

    /** Room for a status line and a few headers, so the buffer rarely grows. */
    private static final int HEAD_BYTES = 160;

    private static final int CRLF = ('\r' << 8) | '\n';

    /** {@code HTTP/1.1 <code> <reason>} and CRLF, as Netty's encoder writes an HTTP/1.1 response's status line. */
    static void statusLine(ByteBuf out, int status) {
        byte[] line = status >= 0 && status < STATUS_LINES.length ? STATUS_LINES[status] : null;
        if (line == null) {
            HttpResponseStatus s = HttpResponseStatus.valueOf(status);
            line = ("HTTP/1.1 " + s.codeAsText() + " " + s.reasonPhrase() + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
            if (status >= 0 && status < STATUS_LINES.length) {
                STATUS_LINES[status] = line; // a benign race: every thread computes the same bytes
            }
        }
        out.writeBytes(line);
    }

    /** Status lines by code, filled on first use (answers are written from a handful of codes). */
    private static final byte[][] STATUS_LINES = new byte[600][];

    /** {@code name: value} and CRLF, as Netty's encoder writes a header. */
    static void header(ByteBuf out, CharSequence name, CharSequence value) {
        ascii(out, name);
        out.writeShort((':' << 8) | ' ');
        ascii(out, value);
        out.writeShort(CRLF);
    }

    /**
     * Writes {@code text} one byte per char as Netty's encoder does (a char over 255 becomes '?'), copying arrays rather
     * than setting bytes one by one (which took a tenth of a single-event ingest's CPU in a direct buffer).
     */
    private static void ascii(ByteBuf out, CharSequence text) {
        switch (text) {
            case AsciiString a -> out.writeBytes(a.array(), a.arrayOffset(), a.length());
            case String s -> out.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
            default -> out.writeCharSequence(text, StandardCharsets.US_ASCII);
        }
    }

    /** The empty line that ends a head. */
    static void endHead(ByteBuf out) {
        out.writeShort(CRLF);
    }
}

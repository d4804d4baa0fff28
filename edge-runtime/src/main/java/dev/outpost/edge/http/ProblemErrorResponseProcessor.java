package dev.outpost.edge.http;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.response.Error;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import io.micronaut.http.server.netty.NettyHttpRequest;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import jakarta.inject.Singleton;
import java.util.stream.Collectors;

/**
 * Every error Micronaut produces itself (404, 405, 413 body too large, 415, unreadable body) is
 * answered as RFC 9457 problem+json, like the agent's own errors. The router answers a request line
 * or headers over Netty's limits with the body's 413 too; those become 414 (URI Too Long) and 431
 * (Request Header Fields Too Large), so the client is told what to shorten.
 */
@Singleton
@Replaces(ErrorResponseProcessor.class)
public class ProblemErrorResponseProcessor implements ErrorResponseProcessor<String> {
    @Override
    public MutableHttpResponse<String> processResponse(ErrorContext ctx, MutableHttpResponse<?> base) {
        int status = base.getStatus().getCode();
        String detail = ctx.getErrors().stream().map(Error::getMessage).collect(Collectors.joining("; "));
        Throwable decoding = status == 413 ? decoderFailure(ctx) : null;
        if (decoding instanceof TooLongHttpLineException) {
            base.status(HttpStatus.REQUEST_URI_TOO_LONG);
            status = 414;
            detail = "the request line (method, path and query) is too long";
        } else if (decoding instanceof TooLongHttpHeaderException) {
            base.status(HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE);
            status = 431;
            detail = "the request headers are too large";
        } else if (status == 413) {
            detail = "the request body is larger than http.body_bytes_max; " + detail;
        }
        String json = Problems.json(status, base.getStatus().getReason(), detail.isEmpty() ? null : detail, 0, null);
        return base.body(json).contentType(Problems.MEDIA_TYPE);
    }

    /** Why Netty could not decode the request's head, or null. */
    private static Throwable decoderFailure(ErrorContext ctx) {
        if (ctx.getRequest() instanceof NettyHttpRequest<?> n) {
            DecoderResult r = n.getNativeRequest().decoderResult();
            return r.isFailure() ? r.cause() : null;
        }
        return null;
    }
}

package dev.outpost.edge.http;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.response.Error;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import jakarta.inject.Singleton;
import java.util.stream.Collectors;

/**
 * Every error Micronaut produces itself (404, 405, 413 body too large, 415, unreadable body) is
 * answered as RFC 9457 problem+json, like the agent's own errors.
 */
@Singleton
@Replaces(ErrorResponseProcessor.class)
public class ProblemErrorResponseProcessor implements ErrorResponseProcessor<String> {
    @Override
    public MutableHttpResponse<String> processResponse(ErrorContext ctx, MutableHttpResponse<?> base) {
        int status = base.getStatus().getCode();
        String detail = ctx.getErrors().stream().map(Error::getMessage).collect(Collectors.joining("; "));
        if (status == 413) {
            detail = "the request body is larger than http.body_bytes_max; " + detail;
        }
        String json = Problems.json(status, base.getStatus().getReason(), detail.isEmpty() ? null : detail, 0, null);
        return base.body(json).contentType(Problems.MEDIA_TYPE);
    }
}

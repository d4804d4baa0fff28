package dev.outpost.edge.http;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.netty.handler.codec.compression.DecompressionException;
import jakarta.inject.Singleton;

/**
 * A body that does not decode as its Content-Encoding says (gzip that is not gzip, a damaged deflate stream) is the
 * client's error: 400 naming Content-Encoding, not the 500 (and logged stack trace) the router answered for it.
 */
@Produces
@Singleton
@Requires(classes = {DecompressionException.class, ExceptionHandler.class})
public class BadContentEncodingHandler implements ExceptionHandler<DecompressionException, HttpResponse<?>> {
    @Override
    @SuppressWarnings("rawtypes") // Micronaut's interface declares the raw type
    public HttpResponse<?> handle(HttpRequest request, DecompressionException e) {
        // The decoder has already taken Content-Encoding off the request's headers (and decodes a Transfer-Encoding
        // such as gzip the same way), so the detail cannot quote the value.
        return Problems.response(
                400,
                "Bad Request",
                "the body does not decode as its Content-Encoding says: " + e.getMessage(),
                0,
                "Content-Encoding");
    }
}

package dev.outpost.edge.http;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.micronaut.http.server.exceptions.URISyntaxHandler;
import jakarta.inject.Singleton;
import java.net.URISyntaxException;

/**
 * A request target the router cannot parse as a URI (a malformed percent-escape such as {@code ?stream=%zz}, a
 * character a URI may not hold) is 400 naming the query parameter it is in, where Micronaut answered a bare "Malformed
 * URI". The same problem as {@link PercentEscapes} makes for the paths ahead of the router.
 */
@Produces
@Singleton
@Replaces(URISyntaxHandler.class)
@Requires(classes = {URISyntaxException.class, ExceptionHandler.class})
public class MalformedUriHandler implements ExceptionHandler<URISyntaxException, HttpResponse<?>> {
    @Override
    @SuppressWarnings("rawtypes") // Micronaut's interface declares the raw type
    public HttpResponse<?> handle(HttpRequest request, URISyntaxException e) {
        // request.getUri() would throw again: the target as written is the exception's input.
        String uri = e.getInput();
        int at = e.getIndex();
        if (at < 0) {
            at = PercentEscapes.malformedAt(uri, 0);
        }
        if (at >= 0 && PercentEscapes.malformedAt(uri, at) == at) {
            ProblemException p = PercentEscapes.problem(uri, at);
            return Problems.response(p.status(), p.title(), p.getMessage(), 0, p.field());
        }
        String parameter = at < 0 ? null : PercentEscapes.parameterAt(uri, at);
        String where = at < 0 ? "" : " at character " + (at + 1);
        return Problems.response(
                400,
                parameter == null ? "Invalid path" : "Invalid query",
                (parameter == null ? "the request target" : "parameter " + parameter) + " is not a valid URI part: "
                        + e.getReason() + where,
                0,
                parameter);
    }
}

package dev.outpost.edge.http;

import dev.outpost.edge.state.StateRefusal;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;

/** A {@link StateRefusal} becomes its problem+json response: the one place that gives each kind a status. */
@Produces
@Singleton
@Requires(classes = {StateRefusal.class, ExceptionHandler.class})
public class StateRefusalHandler implements ExceptionHandler<StateRefusal, HttpResponse<?>> {
    @Override
    @SuppressWarnings("rawtypes") // Micronaut's interface declares the raw type
    public HttpResponse<?> handle(HttpRequest request, StateRefusal e) {
        return response(e);
    }

    static MutableHttpResponse<String> response(StateRefusal e) {
        return switch (e.kind()) {
            case INVALID_NAMESPACE -> Problems.response(400, "Invalid namespace", e.getMessage(), 0, e.field());
            case INVALID_ID -> Problems.response(400, "Invalid id", e.getMessage(), 0, e.field());
            case INVALID_DOCUMENT -> Problems.response(400, "Invalid document", e.getMessage(), 0, e.field());
            case NOT_AN_OBJECT -> Problems.response(422, "Invalid document", e.getMessage(), 0, e.field());
            case TOO_LARGE -> Problems.response(413, "Document too large", e.getMessage(), 0, e.field());
            case NOT_FOUND -> Problems.response(404, "Not found", e.getMessage(), 0, e.field());
            case PRECONDITION_FAILED -> Problems.response(412, "Precondition failed", e.getMessage(), 0, e.field());
        };
    }
}

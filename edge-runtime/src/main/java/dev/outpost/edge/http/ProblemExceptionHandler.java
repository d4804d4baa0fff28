package dev.outpost.edge.http;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;

/** A {@link ProblemException} thrown anywhere in a request becomes its problem+json response. */
@Produces
@Singleton
@Requires(classes = {ProblemException.class, ExceptionHandler.class})
public class ProblemExceptionHandler implements ExceptionHandler<ProblemException, HttpResponse<?>> {
    @Override
    @SuppressWarnings("rawtypes") // Micronaut's interface declares the raw type
    public HttpResponse<?> handle(HttpRequest request, ProblemException e) {
        return Problems.response(e.status(), e.title(), e.getMessage(), e.line(), e.field());
    }
}

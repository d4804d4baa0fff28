package dev.outpost.edge.http;

import dev.outpost.store.DiskFullException;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;

/**
 * A write refused because the data directory's disk is full, thrown anywhere in a request (e.g. a
 * catalog write), becomes 507 with Retry-After instead of a 500.
 */
@Produces
@Singleton
@Requires(classes = {DiskFullException.class, ExceptionHandler.class})
public class DiskFullExceptionHandler implements ExceptionHandler<DiskFullException, HttpResponse<?>> {
    @Override
    @SuppressWarnings("rawtypes") // Micronaut's interface declares the raw type
    public HttpResponse<?> handle(HttpRequest request, DiskFullException e) {
        Problems.logDiskFull(e);
        return Problems.diskFull(e);
    }
}

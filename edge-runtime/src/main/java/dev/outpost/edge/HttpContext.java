package dev.outpost.edge;

import dev.outpost.edge.status.StatusRecorder;
import io.micronaut.context.ApplicationContext;
import io.micronaut.http.server.RouteExecutor;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The HTTP layer's Micronaut context, started on a thread of its own while the agent opens its stores, then
 * given the agent's services.
 *
 * <p>Design note. Starting a context (the environment, the bean definitions of every module, the startup
 * events) and building the routes from the controllers' bean definitions ({@link RouteExecutor}: no controller
 * is created) need none of the agent's services. Invariants: the context is started with the properties alone,
 * the route executor is its only bean created before the services are registered ({@link #withServices}) —
 * should it ever need one, every start fails at once, loudly — and no bean of ours is asked for before that —
 * {@link StatusRecorder}, the one bean the HTTP layer needs at once, is created there explicitly; a context
 * that started is closed if the agent does not start ({@link #closeWhenStarted}), and an agent whose context
 * failed is closed by the caller, so neither outlives a failed start.
 */
final class HttpContext {
    private HttpContext() {}

    /** Starts a context with {@code properties} on a thread of its own. */
    static CompletableFuture<ApplicationContext> startAhead(Map<String, Object> properties) {
        CompletableFuture<ApplicationContext> started = new CompletableFuture<>();
        Thread.ofPlatform().name("outpost-http-start").start(() -> {
            try {
                ServiceIndex.useIfGiven(); // before Micronaut first looks for a service
                ApplicationContext ctx = ApplicationContext.builder()
                        .properties(properties)
                        .banner(false)
                        .deduceEnvironment(false)
                        // Everything Micronaut needs comes from the properties: no application.yml or bootstrap
                        // files, environment variables or system properties to look for at start (a start-up cost).
                        .deduceCloudEnvironment(false)
                        .enableDefaultPropertySources(false)
                        .environmentPropertySource(false)
                        .bootstrapEnvironment(false)
                        .start();
                // The routes, built from the controllers' bean definitions (no controller is created): most of
                // creating the server, and none of it needs a service.
                try {
                    ctx.getBean(RouteExecutor.class);
                } catch (RuntimeException | Error e) {
                    ctx.close();
                    throw e;
                }
                started.complete(ctx);
            } catch (RuntimeException | Error e) {
                started.completeExceptionally(e);
            }
        });
        return started;
    }

    /** Waits for the context, registers {@code services} in it and creates the beans needed at once. */
    static ApplicationContext withServices(CompletableFuture<ApplicationContext> context, Object[] services) {
        ApplicationContext ctx;
        try {
            ctx = context.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
        for (Object service : services) {
            ctx.registerSingleton(service);
        }
        ctx.getBean(StatusRecorder.class);
        return ctx;
    }

    /** Closes the context once it has started (now, or when its start finishes). */
    static void closeWhenStarted(CompletableFuture<ApplicationContext> context) {
        context.whenComplete((ctx, failure) -> {
            if (ctx != null && ctx.isRunning()) {
                ctx.close();
            }
        });
    }
}

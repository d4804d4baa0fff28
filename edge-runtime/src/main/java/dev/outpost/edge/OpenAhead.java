package dev.outpost.edge;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * A store opened on a thread of its own while the main thread opens the others, then handed over: the state
 * store (Chronicle Map's file, 100–160 ms on a small device) opens beside the event log (Chronicle Queue's
 * files, 230–280 ms), so the start pays for the longer of the two, not their sum.
 *
 * <p>Design note. Invariants: the store opened ahead needs nothing the main thread opens (it holds its own
 * lock on its own files), so the result does not depend on which thread finishes first; {@link #get} returns
 * the store or throws what opening it threw, as opening it on the main thread would have; {@link #close}
 * waits for the opening to end and closes the store if it opened, so a start that fails elsewhere still
 * releases it, and nothing is left open when the agent's constructor throws.
 */
@SuppressWarnings("try") // close() declares Exception because the stores' close() does
final class OpenAhead<T extends AutoCloseable> implements AutoCloseable {
    private final CompletableFuture<T> opening = new CompletableFuture<>();

    private OpenAhead() {}

    /** Starts opening with {@code open} on a thread named {@code name}; returns at once. */
    static <T extends AutoCloseable> OpenAhead<T> start(String name, Supplier<T> open) {
        OpenAhead<T> ahead = new OpenAhead<>();
        Thread.ofPlatform().daemon().name(name).start(() -> {
            try {
                ahead.opening.complete(open.get());
            } catch (Throwable t) { // handed to the main thread by get()
                ahead.opening.completeExceptionally(t);
            }
        });
        return ahead;
    }

    /** The opened store, once open; what opening it threw, if it failed. */
    T get() {
        try {
            return opening.join();
        } catch (CompletionException e) {
            switch (e.getCause()) {
                case RuntimeException r -> throw r;
                case Error err -> throw err;
                default -> throw e;
            }
        }
    }

    @Override
    public void close() throws Exception {
        T store = opening.handle((opened, failure) -> opened).join();
        if (store != null) {
            store.close();
        }
    }
}

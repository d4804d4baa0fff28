package dev.outpost.compress;

import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Native codec contexts of one kind that are not in use: a caller takes one for one call and gives it back. At most
 * {@link #IDLE_MAX} are kept; one given back beyond that is closed.
 *
 * <p>Not per thread: zstd-jni frees a context's native memory only when it is closed (its contexts have no cleaner),
 * and the HTTP layer runs requests on a new virtual thread each, whose thread-locals die with it: a context kept in a
 * thread-local leaked a native context per request. Here the contexts alive are those in use plus at most {@link
 * #IDLE_MAX} idle, whatever the threads.
 */
final class NativeContexts<T extends Closeable> {
    /** Idle contexts kept per kind and codec: native calls do not unmount a virtual thread, so cores bound the use. */
    static final int IDLE_MAX = Math.max(2, Runtime.getRuntime().availableProcessors());

    /** Contexts created and not yet closed, in this process (every codec, every kind). */
    private static final LongAdder OPEN = new LongAdder();

    private final Supplier<T> create;
    private final ArrayBlockingQueue<T> idle = new ArrayBlockingQueue<>(IDLE_MAX);

    NativeContexts(Supplier<T> create) {
        this.create = create;
    }

    /** An idle context, or a new one. */
    T take() {
        T c = idle.poll();
        if (c == null) {
            c = create.get();
            OPEN.increment();
        }
        return c;
    }

    /** Gives back a context taken here after a call that completed (kept idle, or closed beyond {@link #IDLE_MAX}). */
    void give(T c) {
        if (!idle.offer(c)) {
            close(c);
        }
    }

    /** Closes a context taken here (after a call that failed half-way, its state is not trusted). */
    void close(T c) {
        try {
            c.close();
        } catch (IOException | RuntimeException e) {
            // zstd-jni's close throws neither for a context; nothing held by it is ours
        }
        OPEN.decrement();
    }

    /** Native contexts created and not closed, in this process: bounded unless something leaks them. */
    static long open() {
        return OPEN.sum();
    }
}

package dev.outpost.edge;

import dev.outpost.store.ClassPreload;

/**
 * Gets the store's libraries ready on a thread of its own while the main thread starts opening the stores:
 * Chronicle's core and sqlite-jdbc's native library ({@link HttpContext} starts Micronaut's context beside
 * them).
 *
 * <p>Design note. On a small device the start is mostly one thread doing first-time work — class
 * initialisation, bindings generated at run time, service lookups — and the second core idles. Invariants:
 * everything done here is initialisation the main thread would otherwise do itself (no store is opened,
 * no configuration read), each part once per process under the JVM's class-initialisation lock, so the
 * main thread, reaching a part still in progress, waits for it rather than doing it twice; the start's
 * result does not depend on whether or when this thread runs, and a failure here shows where the main
 * thread next uses the part. It begins once logging is set up ({@code LogSetup}): the libraries log
 * while they initialise, and SLF4J initialised from two threads at once hands one of them stand-in
 * loggers (a line in the wrong format, or none). sqlite-jdbc's native library needs the configured directory, so {@link
 * Agent} starts it ({@link #sqlite()}) once that is known.
 */
final class StartAhead {
    private StartAhead() {}

    /** Starts the thread; returns at once. Call after logging is set up. */
    static void begin() {
        run("outpost-start-ahead", ClassPreload::chronicle);
    }

    /** Loads sqlite-jdbc's native library on a thread of its own (after {@code org.sqlite.tmpdir} is set). */
    static void sqlite() {
        run("outpost-start-ahead-sqlite", ClassPreload::sqlite);
    }

    private static void run(String name, Runnable work) {
        Thread.ofPlatform().daemon().name(name).start(() -> {
            try {
                work.run();
            } catch (RuntimeException | LinkageError e) { // the main thread meets it again, with context
            }
        });
    }
}

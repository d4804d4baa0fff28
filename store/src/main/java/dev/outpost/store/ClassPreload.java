package dev.outpost.store;

/**
 * Initialises the store's libraries ahead of their first use, for a process that wants to do it on a
 * thread of its own while it does something else first (the agent's start: {@code StartAhead} in
 * edge-runtime).
 *
 * <p>Design note. Chronicle's first queue initialises its core (the JVM and OS probes, and a POSIX binding
 * that jnr-ffi generates with ASM, which {@link DeferredPosix} replaces where the agent needs it): most of opening
 * the event log in a fresh process. sqlite-jdbc's first connection unpacks its native library and compares
 * the copy with the jar's byte by byte. Invariants: these methods only initialise classes and load
 * libraries — the same work and the same result as the first real use; they open, create or lock no store
 * file. Class initialisation and sqlite-jdbc's loader each happen once per process under the JVM's (or the
 * loader's) lock, so a store opened while one of these runs waits for it instead of repeating it, and a
 * failure here is left for that first real use to report with its cause.
 */
public final class ClassPreload {
    private ClassPreload() {}

    /** Chronicle Queue's and Chronicle Map's static state: what the first queue and map would set up. */
    public static void chronicle() {
        DeferredPosix.install();
        initialise("net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder");
        // What building the first queue then initialises: its metadata's wire and the disk-space monitor.
        initialise("net.openhft.chronicle.wire.WireInternal");
        initialise("net.openhft.chronicle.wire.BinaryWire");
        initialise("net.openhft.chronicle.threads.DiskSpaceMonitor");
        initialise("net.openhft.chronicle.map.ChronicleMapBuilder");
        // The state file's header model, which chronicle-values derives by reflection when the first map opens
        // (the class itself ships pre-generated: VanillaGlobalMutableState$$Native).
        try {
            net.openhft.chronicle.values.Values.nativeClassFor(
                    net.openhft.chronicle.hash.VanillaGlobalMutableState.class);
        } catch (RuntimeException | LinkageError e) { // reported where the first map opens
        }
    }

    /**
     * sqlite-jdbc's native library, loaded as the first connection would: from {@code org.sqlite.tmpdir}
     * if set, so set that first.
     */
    public static void sqlite() {
        try {
            org.sqlite.SQLiteJDBCLoader.initialize();
        } catch (Exception | LinkageError e) { // reported by Catalog.open, which loads it again
        }
    }

    private static void initialise(String className) {
        try {
            Class.forName(className, true, ClassPreload.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) { // reported where the class is first used
        }
    }
}

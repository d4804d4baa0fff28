package dev.outpost.edge.engine;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The Linux nice value of the calling thread: how the kernel weighs it against the agent's other threads when the cores
 * are all busy.
 *
 * <p>Design note. The engine follows the log behind ingest; when both want the two cores, ingest (acknowledged writes)
 * comes first and the engine catches up when the cores are free (docs/DECISIONS.md, "Engine priority"). A nice value
 * does exactly that without a heuristic: the scheduler gives an idle core to the engine at once, and under contention
 * it weighs a nice-10 thread about a tenth of a nice-0 one. Linux applies {@code setpriority(PRIO_PROCESS, tid, n)} to
 * the one thread {@code tid} (a documented departure from POSIX that Linux keeps). Raising one's own nice value needs
 * no privilege. Called through the FFM API (no JNI library of ours); the thread id comes from {@code
 * /proc/thread-self}. Invariant: never throws; where the platform cannot (not Linux, no /proc, native access
 * refused) it reports why and the thread keeps its priority.
 */
public final class ThreadNice {
    /** The highest (least favoured) nice value Linux knows. */
    public static final int NICE_MAX = 19;

    /** {@code PRIO_PROCESS} of setpriority(2): the "who" is a thread id on Linux. */
    private static final int PRIO_PROCESS = 0;

    private ThreadNice() {}

    /**
     * Sets the calling thread's nice value.
     *
     * @param nice 0 (as the rest of the agent) to {@link #NICE_MAX}
     * @return empty if set, else why not
     */
    public static Optional<String> setForCurrentThread(int nice) {
        if (nice < 0 || nice > NICE_MAX) {
            throw new IllegalArgumentException("nice " + nice + " is outside 0-" + NICE_MAX);
        }
        try {
            int tid = currentTid();
            int rc = (int) setpriority().invokeExact(PRIO_PROCESS, tid, nice);
            return rc == 0 ? Optional.empty() : Optional.of("setpriority returned " + rc);
        } catch (Throwable e) { // FFM refuses in many ways (no Linux, native access denied); none is fatal
            return Optional.of(e.toString());
        }
    }

    /** The calling thread's nice value, read from /proc (for tests and the status). */
    public static int ofCurrentThread() throws IOException {
        String stat = Files.readString(Path.of("/proc/thread-self/stat"));
        // Field 19 (nice) counts from the first field after the command, which may hold spaces: ") " ends it.
        String[] fields = stat.substring(stat.lastIndexOf(") ") + 2).split(" ");
        return Integer.parseInt(fields[16]);
    }

    private static int currentTid() throws IOException {
        // /proc/thread-self -> "<pid>/task/<tid>"
        Path link = Files.readSymbolicLink(Path.of("/proc/thread-self"));
        return Integer.parseInt(link.getFileName().toString());
    }

    @SuppressWarnings("restricted") // a downcall; the launcher grants native access (--enable-native-access)
    private static MethodHandle setpriority() {
        Linker linker = Linker.nativeLinker();
        MemorySegment fn = linker.defaultLookup()
                .find("setpriority")
                .orElseThrow(() -> new UnsupportedOperationException("no setpriority in the C library"));
        return linker.downcallHandle(
                fn,
                FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }
}

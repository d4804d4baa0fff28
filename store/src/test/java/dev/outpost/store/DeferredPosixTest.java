package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.openhft.posix.internal.jnr.JNRPosixAPI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The deferred POSIX binding answers as the real one, and a process that installs it starts its stores. */
class DeferredPosixTest {
    /** Linux's open(2) flags (the binding's OpenFlag enum holds another system's values). */
    private static final int O_RDWR = 02;

    private static final int O_CREAT = 0100;

    @TempDir
    Path dir;

    @Test
    void callsAreTheRealBindings() throws Exception {
        DeferredPosix deferred = DeferredPosix.building();
        JNRPosixAPI real = new JNRPosixAPI();
        assertEquals(ProcessHandle.current().pid(), deferred.getpid());
        assertEquals(real.strerror(2), deferred.strerror(2));
        assertEquals(real.get_nprocs(), deferred.get_nprocs());

        Path file = dir.resolve("allocated");
        int fd = deferred.open(file.toString(), O_RDWR | O_CREAT, 0644);
        assertTrue(fd >= 0, "open: " + deferred.lastErrorStr());
        try {
            assertEquals(0, deferred.fallocate(fd, 0, 0, 1 << 20), "fallocate: " + deferred.lastErrorStr());
        } finally {
            assertEquals(0, deferred.close(fd));
        }
        assertEquals(1 << 20, Files.size(file), "fallocate extended the file");
        assertTrue(deferred.close(-1) < 0, "closing no file fails");
        assertEquals(9, deferred.lastError(), "EBADF, read on the caller's thread");
    }

    @Test
    void aProcessStartingLikeTheAgentOpensItsStateStore() throws Exception {
        Path file = dir.resolve("state.cm3");
        List<String> cmd = ChildJvm.command(DeferredPosixChild.class, file.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            assertTrue(
                    p.waitFor(60, TimeUnit.SECONDS),
                    "the child finished (no deadlock between the binding and Chronicle's start)");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("BINDING DeferredPosix"), out);
            assertTrue(out.contains("STORED 1"), out);
        } finally {
            p.destroyForcibly();
        }
    }
}

package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileDescriptor;
import java.io.RandomAccessFile;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.core.Jvm;
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
        DeferredPosix deferred = DeferredPosix.create();
        JNRPosixAPI real = new JNRPosixAPI();
        Path file = dir.resolve("allocated");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            assertEquals(0, deferred.fallocate(fd(raf.getFD()), 0, 0, 1 << 20));
        }
        assertEquals(1 << 20, Files.size(file), "fallocate extended the file");
        assertFalse(deferred.built(), "fallocate needed no jnr-ffi binding");

        assertEquals(ProcessHandle.current().pid(), deferred.getpid());
        assertTrue(deferred.built(), "other calls build it");
        assertEquals(real.strerror(2), deferred.strerror(2));
        assertEquals(real.get_nprocs(), deferred.get_nprocs());

        Path other = dir.resolve("other");
        int fd = deferred.open(other.toString(), O_RDWR | O_CREAT, 0644);
        assertTrue(fd >= 0, "open: " + deferred.lastErrorStr());
        try {
            assertEquals(0, deferred.fallocate(fd, 0, 0, 8192), "fallocate: " + deferred.lastErrorStr());
        } finally {
            assertEquals(0, deferred.close(fd));
        }
        assertEquals(8192, Files.size(other));
        assertTrue(deferred.close(-1) < 0, "closing no file fails");
        assertEquals(9, deferred.lastError(), "EBADF, read on the caller's thread");
    }

    /** The descriptor's number, read as Chronicle Map's PosixFallocate reads it. */
    private static int fd(FileDescriptor descriptor) throws ReflectiveOperationException {
        Field f = FileDescriptor.class.getDeclaredField("fd");
        Jvm.setAccessible(f);
        return f.getInt(descriptor);
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
            assertTrue(out.contains("JNR BUILT false"), "the new state file was allocated without jnr-ffi: " + out);
        } finally {
            p.destroyForcibly();
        }
    }
}

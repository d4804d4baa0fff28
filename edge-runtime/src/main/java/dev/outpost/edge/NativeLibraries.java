package dev.outpost.edge;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the native libraries of the codecs, of sqlite-jdbc and of JNA are loaded from: a directory the distribution's
 * build unpacked them into ({@code app/native}, named by its launcher), else unpacked at each start (the codecs' and
 * sqlite-jdbc's into compress.native_dir, JNA's into the user's cache directory).
 *
 * <p>JNA comes in through Chronicle: its core initialises Java-Thread-Affinity, which binds the C library with JNA.
 * Left to itself JNA unpacks its library and runs {@code /sbin/ldconfig -p} (a child process) to learn the system's
 * library directories, all while the event log waits for Chronicle's core: {@link #useForJna} names the directories
 * (the C library is found by name whatever they are) and the unpacked library.
 *
 * <p>Design note. Loading what the build unpacked spares each start unpacking ~2 MB into the data directory (and
 * sqlite-jdbc's byte-by-byte comparison of its copy with the jar's): start time, and writes to a device's flash.
 * Invariants: a library that does not load from there (a noexec mount, a missing file) is unpacked as before, so the
 * prebuilt directory only ever saves work; an operator's own {@code org.sqlite.lib.path} is left alone.
 */
final class NativeLibraries {
    /**
     * Where the distribution's launcher says the native libraries were unpacked when it was built
     * ({@code -Doutpost.native.prebuilt}, native/dist/outpost); null from a checkout.
     */
    static final String PREBUILT_NATIVES_PROPERTY = "outpost.native.prebuilt";

    /** sqlite-jdbc's library file in that directory. */
    static final String SQLITE_LIBRARY = "libsqlitejdbc.so";

    /** JNA's library file in that directory. */
    static final String JNA_LIBRARY = "libjnidispatch.so";

    /** Free space sqlite-jdbc's native library needs to be unpacked (it is about 2 MiB), with margin. */
    static final long SQLITE_UNPACK_BYTES_MIN = 16L << 20;

    private NativeLibraries() {}

    /**
     * sqlite-jdbc unpacks its native library like the codecs do: into the same directory. If that directory is
     * unusable (the fallback case), or its disk is full (the agent must still start: it unpacks at every start),
     * sqlite-jdbc keeps its default (java.io.tmpdir).
     */
    static void useForSqlite(Path nativeDir) {
        Path prebuilt = prebuilt();
        if (prebuilt != null
                && Files.isRegularFile(prebuilt.resolve(SQLITE_LIBRARY))
                && System.getProperty("org.sqlite.lib.path") == null) {
            // Loaded from there: nothing unpacked into the data directory, nothing compared at each start. If it does
            // not load (e.g. a noexec mount), sqlite-jdbc unpacks its own as below.
            System.setProperty("org.sqlite.lib.path", prebuilt.toString());
            System.setProperty("org.sqlite.lib.name", SQLITE_LIBRARY);
        }
        if (Files.isDirectory(nativeDir) && usableBytes(nativeDir) >= SQLITE_UNPACK_BYTES_MIN) {
            System.setProperty("org.sqlite.tmpdir", nativeDir.toString());
        }
    }

    /**
     * JNA's settings for this process, before anything initialises Chronicle's core: the system's library
     * directories, so JNA does not run ldconfig to find them, and the prebuilt library, so it unpacks nothing
     * (if that does not load, JNA unpacks its own as before). An operator's own settings are left alone.
     */
    static void useForJna() {
        if (System.getProperty("jna.platform.library.path") == null) {
            System.setProperty("jna.platform.library.path", systemLibraryDirs(System.getProperty("os.arch")));
        }
        Path prebuilt = prebuilt();
        if (prebuilt != null
                && Files.isRegularFile(prebuilt.resolve(JNA_LIBRARY))
                && System.getProperty("jna.boot.library.path") == null) {
            System.setProperty("jna.boot.library.path", prebuilt.toString());
        }
    }

    /** The directories JNA would list for {@code arch} without ldconfig's: Debian's multiarch ones first. */
    static String systemLibraryDirs(String arch) {
        String triple = switch (arch) {
            case "amd64", "x86_64" -> "x86_64-linux-gnu";
            case "aarch64", "arm64" -> "aarch64-linux-gnu";
            case "arm" -> "arm-linux-gnueabihf";
            default -> arch + "-linux-gnu";
        };
        return String.join(
                java.io.File.pathSeparator,
                "/usr/lib/" + triple,
                "/lib/" + triple,
                "/usr/lib64",
                "/lib64",
                "/usr/lib",
                "/lib");
    }

    /** The directory of {@link #PREBUILT_NATIVES_PROPERTY}, or null. */
    static Path prebuilt() {
        String dir = System.getProperty(PREBUILT_NATIVES_PROPERTY);
        return dir == null || dir.isBlank() ? null : Path.of(dir);
    }

    private static long usableBytes(Path dir) {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}

package dev.outpost.edge;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the native libraries of the codecs and of sqlite-jdbc are loaded from: a directory the distribution's build
 * unpacked them into ({@code app/native}, named by its launcher), else unpacked at each start into compress.native_dir.
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

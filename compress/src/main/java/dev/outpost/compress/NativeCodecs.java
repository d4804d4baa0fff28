package dev.outpost.compress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jpountz.lz4.LZ4Factory;

/**
 * Loads the native libraries of zstd-jni and lz4-java from a configured directory, once per
 * process, and says exactly what it got.
 *
 * <p>Both libraries unpack a shared object into a directory and load it from there; on a device
 * whose temp directory is mounted noexec that fails. Invariants: nothing changes behaviour
 * silently. Without native LZ4, LZ4 runs in pure Java (same format, slower) and {@link
 * Status#message()} says so. Without native Zstd, every Zstd use throws {@link FrameException}
 * with kind CODEC_UNAVAILABLE, and {@link CodecPolicy} never chooses Zstd; with {@link
 * Mode#REFUSE}, {@link #load} throws instead, so the agent does not start.
 */
public final class NativeCodecs {
    /** What to do when a native library cannot be loaded. */
    public enum Mode {
        /** Go on: LZ4 in pure Java, no Zstd; the status message says so. */
        FALLBACK,
        /** Stop: {@link #load} throws {@link IllegalStateException}. */
        REFUSE
    }

    /**
     * What was loaded.
     *
     * @param zstd true if zstd-jni's native library is loaded
     * @param lz4Native true if LZ4 runs natively (else pure Java)
     * @param directory where the libraries were unpacked
     * @param message one line for the startup log
     */
    public record Status(boolean zstd, boolean lz4Native, Path directory, String message) {}

    /** zstd-jni's system property naming the library file to load instead of unpacking its own. */
    private static final String ZSTD_NATIVE_PATH = "ZstdNativePath";

    private static volatile Status status;
    private static volatile LZ4Factory lz4;

    private NativeCodecs() {}

    /** Loads both libraries from {@code dir} (created if missing). Later calls return the first result. */
    public static synchronized Status load(Path dir, Mode mode) {
        return load(dir, mode, null);
    }

    /**
     * As {@link #load(Path, Mode)}, but zstd-jni's library is loaded from {@code prebuilt} (a directory that holds it,
     * as unpacked when a distribution was built; null: none) when it is there and loads: nothing is unpacked for it
     * at each start. If it does not load, it is unpacked into {@code dir} as without.
     */
    public static synchronized Status load(Path dir, Mode mode, Path prebuilt) {
        if (status != null) {
            return status;
        }
        String dirProblem = null;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            dirProblem = "cannot create " + dir + ": " + e;
        }
        boolean zstd = false;
        String zstdWhy = dirProblem;
        Path zstdFrom = loadPrebuiltZstd(prebuilt);
        if (zstdFrom != null) {
            zstd = true;
            linkZstdInBackground();
        } else if (dirProblem == null) {
            try {
                com.github.luben.zstd.util.Native.load(dir.toFile());
                zstd = com.github.luben.zstd.util.Native.isLoaded();
                if (zstd) {
                    linkZstdInBackground();
                }
            } catch (Throwable t) { // UnsatisfiedLinkError, or whatever the unpacking threw
                zstdWhy = String.valueOf(t);
            }
        }
        boolean lz4Native = false;
        String lz4Why = dirProblem;
        LZ4Factory factory = null;
        if (dirProblem == null) {
            // lz4-java unpacks into java.io.tmpdir with no setting of its own: point it at dir
            // for the one call, then restore.
            String tmp = System.getProperty("java.io.tmpdir");
            try {
                System.setProperty("java.io.tmpdir", dir.toString());
                factory = LZ4Factory.nativeInstance();
                lz4Native = true;
            } catch (Throwable t) {
                lz4Why = String.valueOf(t);
            } finally {
                System.setProperty("java.io.tmpdir", tmp);
            }
        }
        if (factory == null) {
            factory = LZ4Factory.fastestJavaInstance();
        }
        String message = "native codecs from " + dir + ": zstd "
                + (zstd
                        ? "loaded" + (zstdFrom == null ? "" : " (from " + zstdFrom + ")")
                        : "NOT loaded (" + zstdWhy + "); Zstd is off: wire and cold data use LZ4")
                + ", lz4 " + (lz4Native ? "native" : "in pure Java (" + lz4Why + "); same format, slower");
        if (mode == Mode.REFUSE && (!zstd || !lz4Native)) {
            throw new IllegalStateException(message
                    + "; hint: point the native directory at a filesystem that allows executables (not noexec),"
                    + " or allow the fallback");
        }
        lz4 = factory;
        status = new Status(zstd, lz4Native, dir, message);
        return status;
    }

    /** zstd-jni's library loaded from {@code prebuilt}: its path, or null (none there, or it did not load). */
    private static Path loadPrebuiltZstd(Path prebuilt) {
        if (prebuilt == null) {
            return null;
        }
        Path lib;
        // The one the build unpacked from this build's zstd-jni jar (libzstd-jni-VERSION.so).
        try (var files = Files.list(prebuilt)) {
            lib = files.filter(f -> f.getFileName().toString().startsWith("libzstd-jni-"))
                    .findFirst()
                    .orElse(null);
        } catch (IOException e) {
            return null;
        }
        if (lib == null) {
            return null;
        }
        System.setProperty(ZSTD_NATIVE_PATH, lib.toString());
        try {
            com.github.luben.zstd.util.Native.load();
            return com.github.luben.zstd.util.Native.isLoaded() ? lib : null;
        } catch (Throwable t) { // e.g. a noexec mount: unpacked into the native directory instead
            return null;
        } finally {
            System.clearProperty(ZSTD_NATIVE_PATH);
        }
    }

    /**
     * zstd-jni binds its native functions on first use (a downcall handle each, ~150 ms of CPU on a
     * small device). Done here on a thread of its own, in parallel with whatever the process does
     * next, the first compression (or Netty's first HTTP connection, whose compressor asks zstd for
     * its default level) does not pay for it.
     */
    private static void linkZstdInBackground() {
        Thread.ofPlatform().daemon().name("outpost-zstd-link").start(() -> {
            try {
                com.github.luben.zstd.Zstd.defaultCompressionLevel();
            } catch (Throwable t) { // a broken binding shows at first real use, with its cause
            }
        });
    }

    /** The status; loads from the JVM's temp directory with fallback if nobody loaded before. */
    public static Status status() {
        Status s = status;
        return s != null ? s : load(Path.of(System.getProperty("java.io.tmpdir"), "outpost-native"), Mode.FALLBACK);
    }

    static LZ4Factory lz4() {
        status();
        return lz4;
    }

    static void requireZstd(String operation) {
        if (!status().zstd()) {
            throw new FrameException(
                    FrameException.Kind.CODEC_UNAVAILABLE,
                    "cannot " + operation + ": zstd's native library is not loaded (" + status.message() + ")");
        }
    }

    /** Prints the status for a directory: {@code NativeCodecs DIR [fallback|refuse] [PREBUILT]} (used by tests). */
    public static void main(String[] args) {
        Mode mode = args.length > 1 && args[1].equals("refuse") ? Mode.REFUSE : Mode.FALLBACK;
        try {
            System.out.println(load(Path.of(args[0]), mode, args.length > 2 ? Path.of(args[2]) : null)
                    .message());
        } catch (IllegalStateException e) {
            System.out.println("refused: " + e.getMessage());
            System.exit(3);
        }
    }
}

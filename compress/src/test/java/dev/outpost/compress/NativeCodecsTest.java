package dev.outpost.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Native loading, in child JVMs: a loaded library cannot be unloaded within one process. */
class NativeCodecsTest {
    @TempDir
    Path dir;

    private static String run(Path nativeDir, String mode, int[] exit) throws Exception {
        return run(nativeDir, mode, null, exit);
    }

    private static String run(Path nativeDir, String mode, Path prebuilt, int[] exit) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(NativeCodecs.class.getName());
        cmd.add(nativeDir.toString());
        cmd.add(mode);
        if (prebuilt != null) {
            cmd.add(prebuilt.toString());
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        exit[0] = p.exitValue();
        return out;
    }

    @Test
    void loadsFromTheConfiguredDirectory() throws Exception {
        int[] exit = new int[1];
        Path nativeDir = dir.resolve("native");
        String out = run(nativeDir, "refuse", exit);
        assertEquals(0, exit[0], out);
        assertTrue(out.contains("zstd loaded") && out.contains("lz4 native"), out);
        // Both libraries delete the unpacked file once loaded; the unusable-directory test below
        // shows the directory is the one used.
        assertTrue(out.contains("native codecs from " + nativeDir), out);
    }

    @Test
    void anUnusableDirectoryIsSaidClearlyAndFallsBackOrRefuses() throws Exception {
        Path notADir = dir.resolve("a-file");
        Files.writeString(notADir, "x"); // like a noexec or read-only mount: nothing can be unpacked there
        int[] exit = new int[1];
        String out = run(notADir, "fallback", exit);
        assertEquals(0, exit[0], out);
        assertTrue(out.contains("zstd NOT loaded"), out);
        assertTrue(out.contains("lz4 in pure Java"), out);
        out = run(notADir, "refuse", exit);
        assertEquals(3, exit[0], out);
        assertTrue(out.contains("refused:") && out.contains("not noexec"), out);
    }

    /** zstd-jni's library for this machine, copied out of its jar on the class path into {@code dir}. */
    private static Path unpackZstdInto(Path dir) throws Exception {
        String arch = System.getProperty("os.arch").equals("aarch64") ? "aarch64" : "amd64";
        Path jar = Path.of(com.github.luben.zstd.Zstd.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        try (var zip = new java.util.zip.ZipFile(jar.toFile())) {
            var entry = zip.stream()
                    .filter(e -> e.getName().startsWith("linux/" + arch + "/libzstd-jni-"))
                    .findFirst()
                    .orElseThrow();
            Path lib = dir.resolve(Path.of(entry.getName()).getFileName().toString());
            Files.createDirectories(dir);
            try (var in = zip.getInputStream(entry)) {
                Files.copy(in, lib);
            }
            return lib;
        }
    }

    @Test
    void zstdLoadsFromThePrebuiltDirectoryAndFromTheNativeDirectoryIfItCannot() throws Exception {
        int[] exit = new int[1];
        Path prebuilt = dir.resolve("prebuilt");
        Path lib = unpackZstdInto(prebuilt);
        String out = run(dir.resolve("native"), "refuse", prebuilt, exit);
        assertEquals(0, exit[0], out);
        assertTrue(out.contains("zstd loaded (from " + lib + ")"), out);

        Files.writeString(lib, "not a library"); // e.g. damaged: unpacked into the native directory as without
        out = run(dir.resolve("native"), "refuse", prebuilt, exit);
        assertEquals(0, exit[0], out);
        assertTrue(out.contains("zstd loaded,"), out);
    }
}

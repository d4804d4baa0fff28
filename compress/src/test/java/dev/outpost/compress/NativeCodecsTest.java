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
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(NativeCodecs.class.getName());
        cmd.add(nativeDir.toString());
        cmd.add(mode);
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
}

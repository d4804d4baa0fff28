package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Platform;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution's native libraries load from the directory its build unpacked them into: nothing is unpacked at
 * a start, and JNA (which Chronicle's core brings in) runs no ldconfig.
 */
class NativeLibrariesTest {
    @TempDir
    Path dir;

    @Test
    void libraryDirectoriesAreDebiansForTheArchitecture() {
        String dirs = NativeLibraries.systemLibraryDirs("amd64");
        assertTrue(dirs.startsWith("/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:"), dirs);
        assertTrue(dirs.endsWith(":/usr/lib:/lib"), dirs);
        assertTrue(NativeLibraries.systemLibraryDirs("aarch64").startsWith("/usr/lib/aarch64-linux-gnu:"));
    }

    /**
     * An agent started like the distribution's launcher starts it: JNA's library is the one in the prebuilt
     * directory, and no child process ran (JNA runs {@code ldconfig -p} when it is not told the directories).
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS) // an agent that neither listens nor exits fails, not hangs
    void anAgentStartLoadsThePrebuiltJnaAndStartsNoProcess() throws Exception {
        Path prebuilt = Files.createDirectories(dir.resolve("native"));
        // As native/dist/build.sh unpacks them, named as the launcher names them (native/dist/outpost)
        String arch = System.getProperty("os.arch");
        String cpu = arch.equals("amd64") ? "x86_64" : arch;
        unpack("/com/sun/jna/" + Platform.RESOURCE_PREFIX + "/" + NativeLibraries.JNA_LIBRARY, prebuilt);
        unpack("/org/sqlite/native/Linux/" + cpu + "/" + NativeLibraries.SQLITE_LIBRARY, prebuilt);
        unpack("/linux/" + arch + "/libzstd-jni-" + com.github.luben.zstd.util.ZstdVersion.VERSION + ".so", prebuilt);
        unpack("/net/jpountz/util/linux/" + arch + "/liblz4-java.so", prebuilt);
        unpack(
                "/META-INF/native/libnetty_transport_native_epoll_" + cpu.replace("aarch64", "aarch_64") + ".so",
                prebuilt);
        Path config = dir.resolve("outpost.yaml");
        Files.writeString(config, "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n");
        Path recording = dir.resolve("start.jfr");
        ProcessBuilder pb = AgentProcess.command(config, dir);
        pb.command().add(1, "-D" + NativeLibraries.PREBUILT_NATIVES_PROPERTY + "=" + prebuilt);
        pb.command()
                .add(1, "-Djava.library.path=" + prebuilt + ":/usr/java/packages/lib:/usr/lib64:/lib64:/lib:/usr/lib");
        pb.command().add(1, "-XX:StartFlightRecording=filename=" + recording + ",settings=default");
        startAndStop(pb.redirectErrorStream(true));

        List<String> started = new ArrayList<>();
        List<String> loaded = new ArrayList<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
            switch (e.getEventType().getName()) {
                case "jdk.ProcessStart" -> started.add(e.getString("command"));
                case "jdk.NativeLibraryLoad" -> loaded.add(e.getString("name"));
                default -> {}
            }
        }
        String jdk = System.getProperty("java.home");
        List<String> ours =
                loaded.stream().filter(l -> !l.startsWith(jdk)).sorted().toList();
        List<String> expected;
        try (var files = Files.list(prebuilt)) {
            expected = files.map(Path::toString).sorted().toList();
        }
        assertEquals(5, expected.size());
        assertEquals(expected, ours, "every library not the JDK's loaded from the prebuilt directory, none unpacked");
        assertEquals(List.of(), started, "processes the agent started");
    }

    private static void unpack(String resource, Path dir) throws Exception {
        try (InputStream in = NativeLibrariesTest.class.getResourceAsStream(resource)) {
            assertTrue(in != null, "on the class path: " + resource);
            Files.copy(in, dir.resolve(resource.substring(resource.lastIndexOf('/') + 1)));
        }
    }

    /** Starts the agent, waits until it listens, stops it with SIGTERM; returns what it printed. */
    private static List<String> startAndStop(ProcessBuilder pb) throws Exception {
        Process p = pb.start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
                if (line.contains("listening on http://")) {
                    p.toHandle().destroy(); // SIGTERM, streams left open: the recording is written as it exits
                }
            }
        } finally {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        assertEquals(143, p.exitValue(), "stopped by SIGTERM after listening: " + lines);
        return lines;
    }
}

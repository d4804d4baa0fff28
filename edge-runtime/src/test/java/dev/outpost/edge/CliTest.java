package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's command line, as a real child process. */
@Tag("slow") // child processes: a JVM start per test
class CliTest {
    @TempDir
    Path dir;

    private static String run(ProcessBuilder pb, int[] exit) throws Exception {
        return AgentProcess.runToEnd(pb, exit);
    }

    @Test
    void badConfigStopsStartupNamingTheKeyAndAllowedValues() throws Exception {
        Path cfg = dir.resolve("bad.yaml");
        Files.writeString(cfg, "data:\n  dir: " + dir.resolve("data") + "\nlog:\n  durability: sometimes\n");
        int[] exit = new int[1];
        String out = run(AgentProcess.command(cfg, dir), exit);
        assertEquals(Main.EXIT_USAGE, exit[0], out);
        assertTrue(out.contains("'log.durability' = 'sometimes' is not allowed; allowed values: os, fsync"), out);
        Files.writeString(cfg, "http:\n  prot: 1\n");
        out = run(AgentProcess.command(cfg, dir), exit);
        assertEquals(Main.EXIT_USAGE, exit[0]);
        assertTrue(out.contains("unknown key 'http.prot'"), out);
    }

    @Test
    void runsWithDefaultsInTheWorkingDirectoryAndNeverPhonesHome() throws Exception {
        // No config file: data goes to ./data; port 7070 may be taken on a dev box, so this test only
        // checks the defaults wiring through a config that keeps everything default but the port.
        Path cfg = dir.resolve("port-only.yaml");
        Files.writeString(cfg, "http:\n  port: 0\n");
        ProcessBuilder pb = AgentProcess.command(cfg, dir);
        pb.directory(dir.toFile());
        Process p = pb.start();
        try {
            java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
            String line = r.readLine();
            assertTrue(line != null && line.contains("listening on http://127.0.0.1:"), String.valueOf(line));
            int port =
                    Integer.parseInt(line.substring(line.lastIndexOf(':') + 1).trim());
            HttpResponse<String> resp = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events"))
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":\"s\",\"data\":{}}"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, resp.statusCode());
            assertTrue(Files.isDirectory(dir.resolve("data").resolve("log")), "data in ./data by default");
        } finally {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        try (Stream<Path> home = Files.list(dir)) {
            assertEquals(
                    0,
                    home.filter(f -> f.getFileName().toString().startsWith(".chronicle.analytics"))
                            .count(),
                    "Chronicle must not write its analytics files in HOME");
        }
    }

    /** `outpost run` with no file: ./data, 127.0.0.1:7070, offline; SIGTERM stops it cleanly. */
    @Test
    void runsWithNoConfigFileOnTheDefaultPort() throws Exception {
        ProcessBuilder pb = AgentProcess.command(null, dir);
        pb.directory(dir.toFile());
        pb.redirectError(dir.resolve("stderr.txt").toFile());
        Process p = pb.start();
        try {
            java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
            String line = r.readLine();
            assertEquals(
                    "outpost: listening on http://127.0.0.1:7070",
                    line,
                    "needs port 7070 free; stderr: " + Files.readString(dir.resolve("stderr.txt")));
            HttpResponse<String> health = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:7070/health"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertTrue(Files.isDirectory(dir.resolve("data").resolve("log")), "data in ./data");
            String log = Files.readString(dir.resolve("stderr.txt"));
            assertTrue(log.contains("offline"), log);
        } finally {
            p.destroy();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertTrue(Files.readString(dir.resolve("stderr.txt")).contains("outpost: stopped cleanly"));
    }

    /** A native directory where nothing can be unpacked (like a noexec mount). */
    @Test
    void unusableNativeDirectoryRefusesOrFallsBackSayingSo() throws Exception {
        Path notADir = dir.resolve("not-a-dir");
        Files.writeString(notADir, "x");
        Path cfg = dir.resolve("native.yaml");
        Files.writeString(
                cfg,
                "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\ncompress:\n  native_dir: " + notADir
                        + "\n  native_missing: refuse\n");
        int[] exit = new int[1];
        String out = run(AgentProcess.command(cfg, dir), exit);
        assertEquals(Main.EXIT_START_FAILED, exit[0], out);
        assertTrue(out.contains("cannot start") && out.contains("zstd NOT loaded"), out);
        Files.writeString(cfg, Files.readString(cfg).replace("refuse", "fallback"));
        try (AgentProcess agent = AgentProcess.start(cfg, dir)) {
            HttpResponse<String> r = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port + "/v1/events"))
                                    .header("Content-Type", "application/x-ndjson")
                                    .POST(HttpRequest.BodyPublishers.ofString(
                                            ("{\"stream\":\"s\",\"data\":{\"pad\":\"" + "y".repeat(300) + "\"}}\n")
                                                    .repeat(5)))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), "ingest works on pure-Java LZ4");
            String metrics = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertTrue(metrics.contains("outpost_native_zstd_loaded 0"), metrics);
            assertTrue(metrics.contains("outpost_native_lz4_loaded 0"), metrics);
            assertTrue(agent.log().contains("WARN") && agent.log().contains("lz4 in pure Java"), agent.log());
        }
    }

    @Test
    void aMemoryBudgetSmallerThanHeapPlusStateFileStopsStartup() throws Exception {
        Path cfg = dir.resolve("small.yaml");
        Files.writeString(
                cfg, "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\nbudget:\n  memory: 200MiB\n");
        int[] exit = new int[1];
        String out = run(AgentProcess.command(cfg, dir), exit); // the child runs with -Xmx192m
        assertEquals(Main.EXIT_USAGE, exit[0], out);
        assertTrue(
                out.contains("budget.memory") && out.contains("OUTPOST_HEAP") && out.contains("state.documents_max"),
                out);
    }

    @Test
    void unknownCommandAndOptionAreUsageErrors() throws Exception {
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {"fly"}));
        assertEquals(Main.EXIT_USAGE, Main.run(new String[] {"run", "--colour"}));
        assertEquals(0, Main.run(new String[] {"help"}));
    }
}

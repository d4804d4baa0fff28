package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent with default settings as a child process: started fresh, given three events,
 * stopped with SIGTERM, started again and stopped again. Neither start logs a warning or an error
 * (Chronicle's map recovery used to warn after every clean stop), each stop says once what the
 * event log holds (it used to say "closed at seq 0" per empty lane), and the fresh data directory
 * is small (the state file used to be preallocated at 72 MiB).
 */
class CleanRestartTest {
    /**
     * What a fresh agent with defaults occupies after three events, allocated on disk (du): the
     * state map for its first 1,024 documents (0.9 MiB), sqlite's unpacked library (1.1 MiB), the
     * log's written pages and its lanes' metadata, the catalog. Measured 3.4 MiB.
     */
    static final long FRESH_ALLOCATED_MIB_MAX = 6;
    /**
     * The same as budget.disk counts it (apparent sizes): 20 MiB of it is the log's current cycle
     * file, sparse, created at log.block_bytes plus a quarter. Measured 22.6 MiB.
     */
    static final long FRESH_APPARENT_MIB_MAX = 24;
    /** The state file of a fresh agent: sized for 1,024 documents of the default 512 bytes. Measured 904 KiB. */
    static final long FRESH_STATE_FILE_KIB_MAX = 1024;

    static final String STOP_LINE = "outpost: stopped cleanly (event log closed at seq 3 holding seq 1..3,"
            + " by lane: normal 1..3; empty: critical, high, bulk)";

    @TempDir
    Path dir;

    @Test
    void aCleanRestartLogsNoWarningAndAFreshAgentIsSmall() throws Exception {
        Path cfg = dir.resolve("outpost.yaml");
        Path data = dir.resolve("data");
        Files.writeString(cfg, "data:\n  dir: " + data + "\nhttp:\n  port: 0\n");
        String first;
        try (AgentProcess agent = AgentProcess.start(cfg, dir)) {
            HttpResponse<String> r = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port + "/v1/events"))
                                    .header("Content-Type", "application/x-ndjson")
                                    .POST(HttpRequest.BodyPublishers.ofString(
                                            "{\"stream\":\"a\",\"id\":\"1\",\"data\":{}}\n"
                                                    + "{\"stream\":\"a\",\"id\":\"2\",\"data\":{}}\n"
                                                    + "{\"stream\":\"a\",\"id\":\"3\",\"data\":{}}\n"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            long allocated = allocatedKib(data);
            long apparent = apparentBytes(data);
            long stateFile = Files.size(data.resolve("state").resolve("state.g1.e1024.cm3"));
            System.out.printf(
                    "CleanRestartTest: fresh agent after 3 events: %d KiB allocated, %d KiB apparent, state file %d KiB%n",
                    allocated, apparent >> 10, stateFile >> 10);
            assertTrue(allocated <= FRESH_ALLOCATED_MIB_MAX << 10, "allocated " + allocated + " KiB");
            assertTrue(apparent <= FRESH_APPARENT_MIB_MAX << 20, "apparent " + apparent + " bytes");
            assertTrue(stateFile <= FRESH_STATE_FILE_KIB_MAX << 10, "state file " + stateFile + " bytes");
            int code = agent.terminate();
            assertTrue(code == 143 || code == 0, "SIGTERM exit code " + code);
            first = agent.log();
        }
        assertQuiet(first, "fresh start");
        String second;
        try (AgentProcess agent = AgentProcess.start(cfg, dir)) {
            int code = agent.terminate();
            assertTrue(code == 143 || code == 0, "SIGTERM exit code " + code);
            second = agent.log();
        }
        assertQuiet(second, "start after a clean stop");
    }

    /** No WARN or ERROR line at all; one line about the event log at the stop, and it says what is held. */
    private static void assertQuiet(String log, String which) {
        List<String> lines = log.lines().toList();
        List<String> loud = lines.stream()
                .filter(l -> l.contains(" WARN ") || l.contains("ERROR") || l.contains("WARNING"))
                .toList();
        assertEquals(List.of(), loud, which + " logged warnings or errors:\n" + log);
        List<String> closing =
                lines.stream().filter(l -> l.contains("event log closed")).toList();
        assertEquals(List.of(STOP_LINE), closing, which + ": one line about the log at the stop:\n" + log);
    }

    private static long apparentBytes(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .mapToLong(p -> p.toFile().length())
                    .sum();
        }
    }

    /** Disk blocks in use under {@code dir}, in KiB, as du counts them (sparse files count what is written). */
    private static long allocatedKib(Path dir) throws IOException, InterruptedException {
        int[] exit = new int[1];
        String out = AgentProcess.runToEnd(new ProcessBuilder("du", "-sk", dir.toString()), exit);
        assertEquals(0, exit[0], out);
        return Long.parseLong(out.strip().split("\\s+")[0]);
    }
}

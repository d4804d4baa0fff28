package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent as a child process, SIGKILLed, its log damaged mid-file (a document header zeroed before the written
 * end), restarted: the events before the damage read back, new events are numbered above every number handed out
 * before, they read back after another SIGKILL and restart, and the loss is counted, listed and logged.
 */
@Tag("slow")
class TornLogAgentTest {
    private static final Pattern SEQS = Pattern.compile("\"seqs\":\\[([0-9,]*)]");
    private static final Pattern SEQ = Pattern.compile("^\\{\"seq\":(\\d+),");

    @TempDir
    Path dir;

    final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void aTornLogAfterSigkillLosesNoNumberAndEveryLaterWriteReadsBack() throws Exception {
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(cfg, """
                data:
                  dir: %s
                http:
                  port: 0
                state:
                  documents_max: 1000
                log:
                  compression: none
                """.formatted(dir.resolve("data")));
        long handedOut = 0;
        try (AgentProcess agent = AgentProcess.start(cfg, dir)) {
            for (int i = 0; i < 40; i++) {
                handedOut = Math.max(handedOut, post(agent.port, i).getLast());
            }
            agent.kill();
        }
        assertEquals(40, handedOut);
        Path lane = dir.resolve("data").resolve("log").resolve("normal");
        Path cycle;
        try (Stream<Path> s = Files.list(lane)) {
            cycle = s.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
        try (RandomAccessFile raf = new RandomAccessFile(cycle.toFile(), "rw")) {
            raf.seek(DataCheckTest.excerptHeaders(lane).get(25));
            raf.writeInt(0);
        }
        List<Long> acknowledged = new ArrayList<>();
        try (AgentProcess agent = AgentProcess.start(cfg, dir)) {
            List<Long> readable = events(agent.port);
            for (long s = 1; s <= 25; s++) {
                assertTrue(readable.contains(s), "before the damage: " + readable);
            }
            for (int i = 0; i < 5; i++) {
                long seq = post(agent.port, 100 + i).getFirst();
                assertTrue(seq > handedOut, "new number " + seq + " above the " + handedOut + " handed out");
                acknowledged.add(seq);
            }
            assertTrue(events(agent.port).containsAll(acknowledged), "acknowledged writes read back");
            String metrics = get(agent.port, "/metrics");
            assertTrue(metrics.contains("outpost_log_quarantined_total 15"), "15 groups lost, counted");
            assertTrue(get(agent.port, "/v1/quarantine").contains("\"kind\":\"log-group\""), "and listed");
            agent.kill();
            assertTrue(agent.log().contains("is torn") && agent.log().contains("advice"), agent.log());
        }
        try (AgentProcess agent = AgentProcess.start(cfg, dir)) {
            List<Long> all = events(agent.port);
            assertTrue(all.containsAll(acknowledged), "after another SIGKILL and restart: " + all);
            long next = post(agent.port, 200).getFirst();
            assertEquals(acknowledged.getLast() + 1, next);
        }
    }

    private List<Long> post(int port, int i) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events"))
                        .timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":\"s\",\"data\":{\"i\":" + i + "}}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        Matcher m = SEQS.matcher(r.body());
        assertTrue(m.find(), r.body());
        List<Long> out = new ArrayList<>();
        for (String s : m.group(1).split(",")) {
            out.add(Long.parseLong(s));
        }
        return out;
    }

    private List<Long> events(int port) throws Exception {
        List<Long> out = new ArrayList<>();
        for (String line : get(port, "/v1/events?limit=5000&stream=s").lines().toList()) {
            Matcher m = SEQ.matcher(line);
            if (m.find()) {
                out.add(Long.parseLong(m.group(1)));
            }
        }
        return out;
    }

    private String get(int port, String path) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }
}

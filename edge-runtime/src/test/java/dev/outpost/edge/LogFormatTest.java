package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.outpost.edge.config.ConfigException;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.store.LogFields;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #16 point 4: {@code node.log_format: json} makes every line the agent writes to stderr one Elastic Common
 * Schema JSON object, from start to a clean stop; a warning about an operation names its lane and stream as fields and
 * says what to do. A real agent (a child process) on a 16 MiB disk budget is written bulk data until it sheds.
 */
@Tag("slow")
class LogFormatTest {
    private static final JsonFactory JSON = new JsonFactory();
    /** What every line has (ECS), whoever logged it. */
    private static final Set<String> ECS_FIELDS = Set.of(
            "@timestamp",
            "log.level",
            "message",
            "ecs.version",
            "service.name",
            "service.node.name",
            "log.logger",
            "process.thread.name");

    @TempDir
    Path dir;

    @Test
    void jsonLinesNameTheLaneStreamAndAdvice() throws Exception {
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(cfg, """
                node:
                  id: log-node
                  log_format: json
                data:
                  dir: %s
                http:
                  port: 0
                  body_bytes_max: 128KiB
                log:
                  block_bytes: 1MiB
                  compression: none
                ingest:
                  batch_events_max: 1000
                state:
                  documents_max: 16
                  doc_bytes_max: 64KiB
                budget:
                  disk: 16MiB
                streams:
                  bulky:
                    priority: bulk
                """.formatted(dir.resolve("data")));
        List<Map<String, String>> lines;
        try (AgentProcess agent = AgentProcess.start(cfg, dir)) {
            fillUntilShed(agent.port);
            Await.atMost(Duration.ofSeconds(10)).until(agent::log, l -> l.contains("\"" + LogFields.ADVICE + "\""));
            assertEquals(143, agent.terminate(), "SIGTERM: a clean stop");
            String log = agent.log();
            Files.writeString(Path.of("target", "log-format-json.log"), log); // to look at
            lines = parse(log);
        }
        for (Map<String, String> line : lines) {
            assertTrue(line.keySet().containsAll(ECS_FIELDS), "ECS fields in " + line);
            assertEquals("outpost", line.get("service.name"));
            assertEquals("log-node", line.get("service.node.name"));
        }
        Map<String, String> warning = lines.stream()
                .filter(l -> "WARN".equals(l.get("log.level")) && l.containsKey(LogFields.LANE))
                .findFirst()
                .orElseThrow();
        assertEquals("bulk", warning.get(LogFields.LANE), warning.toString());
        assertEquals("bulky", warning.get(LogFields.STREAM), warning.toString());
        assertTrue(warning.get(LogFields.ADVICE).contains("budget.disk"), warning.toString());
        for (Map<String, String> line : lines) {
            if (Set.of("WARN", "ERROR").contains(line.get("log.level"))) {
                assertTrue(line.containsKey(LogFields.ADVICE), "a warning says what to do: " + line);
            }
        }
        assertEquals(LogFields.ADVICE, dev.outpost.governor.Governor.ADVICE_FIELD, "one name for the advice");
        assertTrue(
                lines.stream().anyMatch(l -> l.get("message").startsWith("stopped cleanly")),
                "the clean stop is a JSON line too");
    }

    @Test
    void aBadFormatStopsStartupNamingTheKeyAndItsValues() throws Exception {
        Path cfg = dir.resolve("bad.yaml");
        Files.writeString(cfg, "node:\n  log_format: xml\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(cfg));
        assertTrue(e.getMessage().contains("node.log_format"), e.getMessage());
        assertTrue(e.getMessage().contains("text") && e.getMessage().contains("json"), e.getMessage());
    }

    /** Bulk batches until the agent refuses them (507: the disk budget). */
    private static void fillUntilShed(int port) throws Exception {
        StringBuilder batch = new StringBuilder();
        while (batch.length() < 100_000) {
            batch.append("{\"stream\":\"bulky\",\"data\":{\"pad\":\"")
                    .append("z".repeat(400))
                    .append("\"}}\n");
        }
        HttpClient http = HttpClient.newHttpClient();
        int status = 200;
        for (int i = 0; i < 400 && status == 200; i++) {
            status = http.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events"))
                                    .header("Content-Type", "application/x-ndjson")
                                    .POST(HttpRequest.BodyPublishers.ofString(batch.toString()))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        }
        assertEquals(507, status, "bulk writes are shed once the disk budget is under pressure");
    }

    /** Every line of {@code log} as one JSON object (scalar members; nested ones as their JSON kind). */
    private static List<Map<String, String>> parse(String log) throws IOException {
        List<Map<String, String>> lines = new ArrayList<>();
        for (String line : log.split("\n")) {
            Map<String, String> fields = new LinkedHashMap<>();
            try (JsonParser p = JSON.createParser(line)) {
                assertEquals(JsonToken.START_OBJECT, p.nextToken(), "a JSON object: " + line);
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    JsonToken t = p.nextToken();
                    if (t.isStructStart()) {
                        p.skipChildren();
                        fields.put(name, t.name());
                    } else {
                        fields.put(name, p.getText());
                    }
                }
                assertNull(p.nextToken(), "one object per line: " + line);
            }
            lines.add(fields);
        }
        assertTrue(lines.size() > 3, log);
        return lines;
    }
}

package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigException;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.config.OutpostConfig;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Streams declared in YAML and over HTTP, and schema validation at ingest. */
class StreamsApiTest extends AgentHttpTest {
    private static String traffic(long bytes, String protocol) {
        return "{\"stream\":\"traffic\",\"data\":{\"source_ip\":\"10.0.0.1\",\"destination_ip\":\"10.0.0.2\","
                + "\"bytes_transferred\":" + bytes + ",\"protocol\":\"" + protocol + "\"}}";
    }

    @Test
    void theTrafficLedgerExampleValidatesEventsNamingFieldAndLine() throws Exception {
        String example = Files.readString(Path.of("..", "docs", "examples", "traffic-ledger.yaml"))
                .replace("dir: ./data-traffic", "dir: " + dir.resolve("data"));
        Files.writeString(dir.resolve("outpost.yaml"), harness(roomyMemory(example + "http:\n  port: 0\n")));
        agent = Main.start(ConfigLoader.load(dir.resolve("outpost.yaml")));
        assertEquals(
                200,
                send("POST", "/v1/events", "application/json", traffic(1200, "TCP"))
                        .statusCode());
        String batch = traffic(5, "UDP") + "\n" + traffic(7, "SMTP") + "\n" + traffic(9, "TCP") + "\n";
        HttpResponse<String> bad = send("POST", "/v1/events", "application/x-ndjson", batch);
        assertEquals(422, bad.statusCode(), bad.body());
        assertTrue(
                bad.body().contains("\"line\":2") && bad.body().contains("\"field\":\"/data/protocol\""), bad.body());
        HttpResponse<String> neg = send("POST", "/v1/events", "application/json", traffic(-1, "TCP"));
        assertTrue(neg.body().contains("/data/bytes_transferred: must be >= 0"), neg.body());
        HttpResponse<String> missing = send(
                "POST", "/v1/events", "application/json", "{\"stream\":\"traffic\",\"data\":{\"source_ip\":\"a\"}}");
        assertTrue(missing.body().contains("required field is missing"), missing.body());
        assertEquals(1, agent.agent().log().lastSeq(), "nothing of a rejected batch is stored");
        HttpResponse<String> declared =
                send("PUT", "/v1/streams/traffic", "application/json", "{\"priority\":\"bulk\"}");
        assertEquals(409, declared.statusCode(), "a stream declared in config is changed in config");
        assertTrue(send("GET", "/v1/streams", null, null)
                .body()
                .contains("\"name\":\"alerts\",\"priority\":\"critical\""));
    }

    @Test
    void streamsDefinedOverHttpPersistAndValidate() throws Exception {
        start("");
        HttpResponse<String> put = send(
                "PUT",
                "/v1/streams/sensors",
                "application/json",
                "{\"priority\":\"high\",\"retention_seconds\":3600,\"schema\":{\"type\":\"object\",\"properties\":"
                        + "{\"temp\":{\"type\":\"number\",\"minimum\":-50,\"maximum\":150},"
                        + "\"site\":{\"type\":\"string\",\"maxLength\":8}},\"additionalProperties\":false}}");
        assertEquals(200, put.statusCode(), put.body());
        assertEquals(
                200,
                send(
                                "POST",
                                "/v1/events",
                                "application/json",
                                "{\"stream\":\"sensors\",\"data\":{\"temp\":21.5,\"site\":\"s-1\"}}")
                        .statusCode());
        assertEquals(
                422,
                send("POST", "/v1/events", "application/json", "{\"stream\":\"sensors\",\"data\":{\"temp\":200}}")
                        .statusCode());
        HttpResponse<String> extra =
                send("POST", "/v1/events", "application/json", "{\"stream\":\"sensors\",\"data\":{\"other\":1}}");
        assertTrue(extra.body().contains("\"field\":\"/data/other\""), extra.body());
        assertEquals(
                200,
                send("POST", "/v1/events", "application/json", "{\"stream\":\"undeclared\",\"data\":{}}")
                        .statusCode(),
                "undeclared streams are accepted");
        HttpResponse<String> badSchema = send(
                "PUT", "/v1/streams/x", "application/json", "{\"schema\":{\"type\":\"object\",\"pattern\":\"^a\"}}");
        assertEquals(400, badSchema.statusCode());
        assertTrue(
                badSchema.body().contains("'pattern'") && badSchema.body().contains("not supported"), badSchema.body());
        assertEquals(
                400,
                send("PUT", "/v1/streams/x", "application/json", "{\"priority\":\"urgent\"}")
                        .statusCode());
        assertEquals(
                400, send("PUT", "/v1/streams/_x", "application/json", "{}").statusCode());
        agent.close();
        agent = null;
        start("");
        HttpResponse<String> after = send("GET", "/v1/streams/sensors", null, null);
        assertTrue(after.body().contains("\"priority\":\"high\",\"retention_seconds\":3600"), after.body());
        assertEquals(
                422,
                send("POST", "/v1/events", "application/json", "{\"stream\":\"sensors\",\"data\":{\"temp\":200}}")
                        .statusCode(),
                "the schema survives a restart");
        assertEquals(404, send("GET", "/v1/streams/nope", null, null).statusCode());
    }

    @Test
    void badStreamDeclarationsStopStartupNamingTheKey() throws Exception {
        Path cfg = dir.resolve("bad.yaml");
        Files.writeString(cfg, "streams:\n  s:\n    priority: urgent\n");
        assertEquals("streams.s.priority", badKey(cfg));
        Files.writeString(cfg, "streams:\n  s:\n    retention: 5\n");
        assertEquals("streams.s.retention", badKey(cfg));
        Files.writeString(cfg, "streams:\n  s:\n    schema: {type: object, pattern: x}\n");
        assertEquals("streams.s.schema", badKey(cfg));
        Files.writeString(cfg, "streams:\n  s:\n    priority: high\n");
        OutpostConfig ok = ConfigLoader.load(cfg);
        assertEquals("high", ok.streams().get("s").priority());
    }

    private static String badKey(Path cfg) {
        try {
            ConfigLoader.load(cfg);
            throw new AssertionError("expected a config error");
        } catch (ConfigException e) {
            return e.key();
        }
    }
}

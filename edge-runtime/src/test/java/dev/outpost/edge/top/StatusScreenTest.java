package dev.outpost.edge.top;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code outpost top --once} against a real agent: the frame shows what the agent's own endpoints say. */
class StatusScreenTest {
    @TempDir
    Path dir;

    @Test
    void oneFrameShowsLevelPressureRatesLanesAndDataAtRisk() throws Exception {
        Path cfg = dir.resolve("c.yaml");
        Files.writeString(
                cfg,
                "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n  api_token: t0ken\n"
                        // in-process: the governor measures the whole test JVM, so the budget must hold it
                        + "budget:\n  memory: 16GiB\n");
        try (Main.RunningAgent agent = Main.start(ConfigLoader.load(cfg))) {
            String url = "http://127.0.0.1:" + agent.port();
            HttpClient http = HttpClient.newHttpClient();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(url + "/v1/events"))
                                .header("Authorization", "Bearer t0ken")
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(
                                        "{\"stream\":\"s\",\"data\":{\"i\":" + i + "}}"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = StatusScreen.run(
                    new String[] {"--url", url, "--token", "t0ken", "--once", "--interval-millis", "200"},
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            String frame = out.toString(StandardCharsets.UTF_8);
            assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
            assertTrue(frame.contains("level low") && frame.contains("link offline"), frame);
            assertTrue(frame.contains("memory ") && frame.contains("disk "), frame);
            assertTrue(frame.contains("ingest ") && frame.contains("ev/s"), frame);
            assertTrue(
                    frame.matches("(?s).*\\nnormal +3 +\\d+ +\\d+s\\n.*"),
                    "three events in the normal lane:\n" + frame);
            assertTrue(frame.contains("data at risk  3 events"), frame);

            code = StatusScreen.run(new String[] {"--url", url, "--once"}, new PrintStream(out), new PrintStream(err));
            assertEquals(1, code, "without the token the agent refuses, and top says so");
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("401"), err.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void anUnreachableAgentOrABadOptionIsSaidPlainly() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(2, StatusScreen.run(new String[] {"--colour"}, System.out, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown option '--colour'"));
        assertEquals(1, StatusScreen.run(new String[] {"--url", "http://127.0.0.1:1", "--once"}, System.out, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("cannot read http://127.0.0.1:1"));
    }
}

package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** A real agent on loopback with its data in a temp directory, and a small HTTP client for it. */
abstract class AgentHttpTest {
    @TempDir
    Path dir;

    Main.RunningAgent agent;
    final HttpClient http = HttpClient.newHttpClient();

    /** Starts an agent: data in the temp directory, any free port, then {@code extra} YAML. */
    void start(String extra) throws Exception {
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(
                cfg, harness("data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n" + roomyMemory(extra)));
        agent = Main.start(ConfigLoader.load(cfg));
    }

    /**
     * The agent runs inside the test JVM, whose RSS (every test's agents, the build) is not the
     * agent's own: unless a test sets budget.memory, give it room so memory shedding does not
     * depend on what ran before.
     */
    static String roomyMemory(String extra) {
        if (extra.contains("  memory:")) {
            return extra;
        }
        return extra.contains("budget:\n")
                ? extra.replace("budget:\n", "budget:\n  memory: 64GiB\n")
                : extra + "\nbudget:\n  memory: 64GiB\n";
    }

    /** The system property the build sets to run the HTTP API tests with the fast path off (pom.xml). */
    static final String FAST_PATH_PROPERTY = "outpost.test.http.fast_path";

    /**
     * A test agent's configuration with what the build asks of every HTTP test agent: with {@value
     * #FAST_PATH_PROPERTY} set, {@code http.fast_path} as it says (issue #14: the API tests run once through the router
     * alone). {@code yaml} must have an {@code http:} section.
     */
    static String harness(String yaml) {
        String fastPath = System.getProperty(FAST_PATH_PROPERTY);
        if (fastPath == null) {
            return yaml;
        }
        if (!yaml.contains("\nhttp:\n") && !yaml.startsWith("http:\n")) {
            throw new IllegalArgumentException("no http section to set fast_path in");
        }
        return yaml.startsWith("http:\n")
                ? "http:\n  fast_path: " + fastPath + "\n" + yaml.substring(6)
                : yaml.replaceFirst("\nhttp:\n", "\nhttp:\n  fast_path: " + fastPath + "\n");
    }

    @AfterEach
    void stop() {
        if (agent != null && "false".equals(System.getProperty(FAST_PATH_PROPERTY))) {
            assertEquals(
                    0,
                    agent.agent().metrics().value("outpost_http_fast_answers_total{route=\"ingest\"}"),
                    "the fast path is off: the router answered every ingest");
        }
        if (agent != null) {
            agent.close();
            agent = null;
        }
    }

    /** One request; {@code headers} are name, value pairs. */
    HttpResponse<String> send(String method, String path, String contentType, String body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port() + path))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}

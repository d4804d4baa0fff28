package dev.outpost.edge.http;

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
        Files.writeString(cfg, "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n" + roomyMemory(extra));
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

    @AfterEach
    void stop() {
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

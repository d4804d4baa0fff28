package dev.outpost.edge.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue #13 point 6: the load generator's SSE and WebSocket subscribers against a real agent. */
class SubscribersLoadTest {
    @TempDir
    Path dir;

    private static long value(String summary, String key) {
        Matcher m = Pattern.compile(" " + key + "=(\\d+)").matcher(summary);
        assertTrue(m.find(), key + " in " + summary);
        return Long.parseLong(m.group(1));
    }

    @Test
    void subscribersOfBothKindsGetEveryEventAndReportDeliveryLatency() throws Exception {
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(
                cfg, "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\nbudget:\n  memory: 16GiB\n");
        try (Main.RunningAgent agent = Main.start(ConfigLoader.load(cfg))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int exit = LoadGenerator.run(
                    new String[] {
                        "--url", "http://127.0.0.1:" + agent.port() + "/v1/events",
                        "--mode", "batch",
                        "--batch", "50",
                        "--connections", "2",
                        "--rate", "20",
                        "--warmup-seconds", "0.5",
                        "--duration-seconds", "2",
                        "--sse-subscribers", "3",
                        "--ws-subscribers", "3"
                    },
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            String summary = out.toString(StandardCharsets.UTF_8);
            assertEquals(0, exit, summary);
            assertEquals(6, value(summary, "subscribed"), summary);
            assertEquals(0, value(summary, "subscriber_errors"), summary);
            long events = value(summary, "events");
            // Each subscriber gets every event posted in the window (some just outside it may count too).
            assertTrue(value(summary, "delivered") >= 6 * events * 9 / 10, summary);
            assertTrue(summary.contains("delivery_p99_ms="), summary);
        }
    }
}

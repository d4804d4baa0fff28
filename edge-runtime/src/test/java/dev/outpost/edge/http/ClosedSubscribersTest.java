package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A tail whose client went away gives its live.subscribers_max slot back while nothing is ingested: it was let go
 * only when the next event was offered, so on an idle agent closed tails refused new ones with 503 indefinitely.
 */
class ClosedSubscribersTest extends AgentHttpTest {
    @Test
    void aClosedTailFreesItsSlotOnAnIdleAgent() throws Exception {
        start("live:\n  subscribers_max: 2\n");
        for (int i = 0; i < 2; i++) {
            try (Socket s = new Socket("127.0.0.1", agent.port())) {
                s.getOutputStream()
                        .write("GET /v1/events/tail HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                InputStream in = s.getInputStream();
                byte[] head = new byte[12];
                assertEquals(12, in.readNBytes(head, 0, 12));
                assertTrue(new String(head, StandardCharsets.US_ASCII).endsWith("200"), new String(head));
            }
        }
        Await.atMostMillis(5_000).until(() -> agent.agent().metrics().value("outpost_live_subscribers") == 0);
        try (SseSubscriber s = SseSubscriber.open(http, agent.port(), "/v1/events/tail")) {
            assertEquals(200, s.status());
        }
    }
}

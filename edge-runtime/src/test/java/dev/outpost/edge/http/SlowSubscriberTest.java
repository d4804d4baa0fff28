package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue #13 point 4: a subscriber that reads nothing never slows ingest or the other subscribers; it is skipped
 * forward with a gap message, or cut with the reason, as live.overflow says, and both are counted.
 */
class SlowSubscriberTest extends AgentHttpTest {
    private static final int BATCHES = 40;
    private static final int EVENTS_PER_BATCH = 1_000;
    private static final String PAD = "x".repeat(900);

    private long metric(String name) {
        return agent.agent().metrics().value(name);
    }

    /** A subscriber that sends its request and then reads nothing, with a small receive window. */
    private Socket stalledSubscriber() throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", agent.port()));
        s.getOutputStream()
                .write("GET /v1/events/tail?stream=flood HTTP/1.1\r\nHost: x\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
        Await.atMost(Duration.ofSeconds(10)).until(() -> metric("outpost_live_subscribers") >= 1);
        return s;
    }

    /**
     * Posts ~40 MB; every request must be answered while the stalled subscriber reads nothing. With {@code fast}, each
     * batch is read by it before the next is posted (the test's client shares the box with the agent; paced so, it
     * keeps up by construction, and must get every event).
     */
    private void flood(SseSubscriber fast) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < EVENTS_PER_BATCH; i++) {
            b.append("{\"stream\":\"flood\",\"data\":{\"pad\":\"").append(PAD).append("\"}}\n");
        }
        String batch = b.toString();
        for (int i = 0; i < BATCHES; i++) {
            HttpResponse<String> r = send("POST", "/v1/events", EventsController.NDJSON, batch);
            assertEquals(200, r.statusCode(), r.body());
            for (int e = 0; fast != null && e < EVENTS_PER_BATCH; e++) {
                assertEquals("event", fast.nextEvent(Duration.ofSeconds(10)).event(), "batch " + i + " event " + e);
            }
        }
    }

    /** Reads what the socket has until {@code pattern} shows up or the connection ends. */
    static String readUntil(Socket s, Pattern pattern) throws Exception {
        s.setSoTimeout(15_000);
        InputStream in = s.getInputStream();
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) >= 0; ) {
            seen.write(buf, 0, n);
            // Only the tail can hold a new match; keep the search cheap on tens of MB.
            String text = seen.toString(StandardCharsets.ISO_8859_1);
            if (pattern.matcher(text.substring(Math.max(0, text.length() - 4 * buf.length)))
                    .find()) {
                return text;
            }
        }
        return seen.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void aStalledSubscriberIsSkippedForwardWithAGapWhileAFastOneGetsEverything() throws Exception {
        start(
                "live:\n  buffer_bytes_max: 256KiB\n  buffer_messages_max: 1000\n  lag_events_max: 5000\n  overflow: skip\n");
        try (Socket stalled = stalledSubscriber();
                SseSubscriber fast = SseSubscriber.open(http, agent.port(), "/v1/events/tail?stream=flood")) {
            flood(fast);
            assertTrue(metric("outpost_live_skipped_events_total") > 0, "the stalled subscriber was skipped");
            String got = readUntil(stalled, Pattern.compile("event: gap\ndata: \\{[^\n]*\\}\n"));
            Matcher gap = Pattern.compile("id: (\\d+)\nevent: gap\ndata: \\{\"from_seq\":(\\d+),\"to_seq\":(\\d+),"
                            + "\"skipped\":(\\d+)\\}")
                    .matcher(got);
            assertTrue(gap.find(), "a gap message names what was missed");
            assertEquals(gap.group(1), gap.group(3), "the gap's id is the last seq skipped: a resume cursor");
            assertTrue(Long.parseLong(gap.group(2)) <= Long.parseLong(gap.group(3)));
            assertTrue(metric("outpost_live_gaps_total") >= 1);
        }
    }

    @Test
    void withDisconnectAStalledSubscriberIsCutWithTheReason() throws Exception {
        start(
                "live:\n  buffer_bytes_max: 256KiB\n  buffer_messages_max: 1000\n  lag_events_max: 5000\n  overflow: disconnect\n");
        try (Socket stalled = stalledSubscriber()) {
            flood(null);
            Await.atMost(Duration.ofSeconds(10))
                    .until(() -> metric("outpost_live_overflow_disconnects_total") == 1
                            && metric("outpost_live_subscribers") == 0);
            String got = readUntil(stalled, Pattern.compile("(?!)")); // to the end: times out unless it was closed
            assertTrue(got.startsWith("HTTP/1.1 200"), "the stream had started, then the agent closed it");
        }
    }
}

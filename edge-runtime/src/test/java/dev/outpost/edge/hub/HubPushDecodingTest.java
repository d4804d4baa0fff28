package dev.outpost.edge.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.compress.Choice;
import dev.outpost.compress.FrameCodec;
import dev.outpost.edge.Main;
import dev.outpost.edge.sync.TestFleet;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.sync.wire.PushBatch;
import dev.outpost.sync.wire.SyncProtocol;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a real hub decodes the pushes it is sent over HTTP: the resources a push may cost it, and what it refuses. */
class HubPushDecodingTest {
    @TempDir
    Path dir;

    final HttpClient http = HttpClient.newHttpClient();

    /** A batch of edge-1's records {@code from .. from+n-1} of the normal lane, encoded with {@code choice}. */
    static byte[] batch(FrameCodec codec, long from, int n, Choice choice) {
        List<PushBatch.Record> records = new ArrayList<>();
        for (long seq = from; seq < from + n; seq++) {
            String json = "{\"stream\":\"t\",\"id\":\"e" + seq + "\",\"data\":{\"v\":" + seq + "}}";
            records.add(new PushBatch.Record(
                    seq, HybridClock.atMillis(System.currentTimeMillis()), "t", json.getBytes(StandardCharsets.UTF_8)));
        }
        return new PushBatch("edge-1", Lane.NORMAL, from, from + n - 1, records).encode(codec, choice, null);
    }

    HttpResponse<String> push(Main.RunningAgent hub, byte[] body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.port() + SyncProtocol.PUSH_PATH))
                        .header("Authorization", "Bearer " + TestFleet.TOKEN_1)
                        .header(SyncProtocol.NODE_HEADER, "edge-1")
                        .header("Content-Type", SyncProtocol.PUSH_CONTENT_TYPE)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    String metrics(Main.RunningAgent hub) throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.port() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    /**
     * Each push is decoded on a new (virtual) thread of the hub: a codec made per push, or contexts kept per thread,
     * left a native Zstd decompression context behind per push (zstd-jni frees one only when it is closed).
     */
    @Test
    void pushesDoNotLeaveNativeZstdContextsBehind() throws Exception {
        try (TestFleet fleet = new TestFleet(dir)) {
            Main.RunningAgent hub = fleet.hub("");
            FrameCodec codec = new FrameCodec();
            int pushes = 100;
            int records = 20;
            List<byte[]> bodies = new ArrayList<>();
            for (int i = 0; i <= pushes; i++) {
                bodies.add(batch(codec, 1 + (long) i * records, records, Choice.zstd(3, false)));
            }
            HttpResponse<String> first = push(hub, bodies.get(0)); // makes the context the others reuse
            assertEquals(200, first.statusCode(), first.body());
            long before = FrameCodec.zstdContextsOpen();
            for (int i = 1; i <= pushes; i++) {
                HttpResponse<String> r = push(hub, bodies.get(i));
                assertEquals(200, r.statusCode(), r.body());
            }
            long grown = FrameCodec.zstdContextsOpen() - before;
            assertEquals(0, grown, "native Zstd contexts left open by " + pushes + " pushes, one at a time");
            assertTrue(
                    metrics(hub).contains("outpost_hub_records_stored_total " + (pushes + 1) * records + "\n"),
                    "every push stored");
        }
    }
}

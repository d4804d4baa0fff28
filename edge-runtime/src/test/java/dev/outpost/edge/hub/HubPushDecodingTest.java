package dev.outpost.edge.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.compress.Choice;
import dev.outpost.compress.Dictionary;
import dev.outpost.compress.FrameCodec;
import dev.outpost.compress.Purpose;
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

    /** A hub whose budget.memory is 128 MiB: 16 MiB for the pushes in hand, at most 16 MiB / 3 of records a push. */
    static Main.RunningAgent smallHub(TestFleet fleet, Path dir) throws Exception {
        return fleet.start("small-hub", """
                node:
                  id: hq
                data:
                  dir: %s
                http:
                  port: 0
                budget:
                  memory: 128MiB
                hub:
                  nodes:
                    edge-1: %s
                """.formatted(dir.resolve("small-hub-data"), TestFleet.TOKEN_1), true);
    }

    /**
     * A push body of {@code from .. from} whose frame is {@code compressed} bytes of garbage declaring {@code declared}
     * bytes of Zstd-compressed records (frame format: compress/FrameCodec; the header checksum is right).
     */
    static byte[] lying(long from, int declared, int compressed) {
        return lying(from, 0, declared, compressed);
    }

    /** As {@link #lying(long, int, int)}, the frame naming dictionary {@code dictId} (0: none). */
    static byte[] lying(long from, long dictId, int declared, int compressed) {
        byte[] real = batch(new FrameCodec(), from, 1, Choice.NONE);
        int frameOffset = 7 + "edge-1".length() + 24;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(real, 0, frameOffset);
        out.write(0xC5); // frame magic
        out.write(1 << 4 | dev.outpost.compress.Codec.ZSTD.id); // version 1, Zstd
        varint(out, dictId);
        varint(out, declared);
        varint(out, compressed);
        out.writeBytes(new byte[4]); // content checksum: never reached
        byte[] garbage = new byte[compressed];
        new java.util.Random(7).nextBytes(garbage);
        out.writeBytes(garbage);
        return out.toByteArray();
    }

    static void varint(java.io.ByteArrayOutputStream out, long v) {
        while (v >= 0x80) {
            out.write((int) (v & 0x7F | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    static long metric(String metrics, String name) {
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("(?m)^" + name + " ([0-9.]+)$").matcher(metrics);
        assertTrue(m.find(), name + " is exported");
        return (long) Double.parseDouble(m.group(1));
    }

    /**
     * 200 KiB declaring 200 MiB (within the codec's 1024:1 ratio): the hub allocated the 200 MiB before Zstd found the
     * payload was garbage (the limit was 64 x hub.body_bytes_max, 1 GiB); now the declared size is read first and
     * refused with 413 naming the limit, nothing allocated, nothing stored, and the hub goes on serving.
     */
    @Test
    void aPushDeclaringMoreThanTheHubsShareIsRefusedBeforeDecoding() throws Exception {
        try (TestFleet fleet = new TestFleet(dir)) {
            Main.RunningAgent hub = smallHub(fleet, dir);
            HttpResponse<String> r = push(hub, lying(1, 200 << 20, 200 << 10));
            assertEquals(413, r.statusCode(), r.body());
            assertEquals(
                    "application/problem+json",
                    r.headers().firstValue("Content-Type").orElse(""));
            long limit = 128L * 1024 * 1024 / Hub.PUSH_MEMORY_SHARE / Hub.PUSH_MEMORY_PER_DECODED_BYTE;
            assertTrue(r.body().contains("declares " + (200 << 20) + " uncompressed bytes"), r.body());
            assertTrue(r.body().contains("at most " + limit + " bytes of records per push"), r.body());
            assertEquals(0, metric(metrics(hub), "outpost_hub_records_stored_total"), "nothing stored");
            HttpResponse<String> good = push(hub, batch(new FrameCodec(), 1, 20, Choice.zstd(3, false)));
            assertEquals(200, good.statusCode(), good.body());
            assertEquals(20, metric(metrics(hub), "outpost_hub_records_stored_total"), "the hub still serves");
        }
    }

    /**
     * Admission charges a push for the records it declares: a small body of 2 MiB of records (compressed ~50:1) was
     * charged 4 x its body and admitted where its records did not fit; now it is turned away (429) until they fit.
     */
    @Test
    void admissionChargesTheDeclaredRecords() throws Exception {
        try (TestFleet fleet = new TestFleet(dir)) {
            Main.RunningAgent hub = smallHub(fleet, dir);
            List<PushBatch.Record> records = new ArrayList<>();
            String pad = "a".repeat(1000);
            for (long seq = 1; seq <= 2000; seq++) {
                String json = "{\"stream\":\"t\",\"id\":\"e" + seq + "\",\"data\":{\"pad\":\"" + pad + "\"}}";
                records.add(new PushBatch.Record(seq, 1, "t", json.getBytes(StandardCharsets.UTF_8)));
            }
            byte[] body = new PushBatch("edge-1", Lane.NORMAL, 1, 2000, records)
                    .encode(new FrameCodec(), Choice.zstd(3, false), null);
            assertTrue(body.length < 100 << 10, "compressed to " + body.length + " bytes");
            Hub h = hub.agent().hub();
            int held = h.admit(
                    3 << 20, 3 << 20); // a raw push of 3 MiB in hand holds 12 of the 16 MiB: ~6 MiB are not free
            assertTrue(held > 0);
            try {
                HttpResponse<String> r = push(hub, body);
                assertEquals(429, r.statusCode(), r.body());
                assertEquals(0, metric(metrics(hub), "outpost_hub_records_stored_total"), "nothing stored");
            } finally {
                h.release(held);
            }
            HttpResponse<String> r = push(hub, body);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(2000, metric(metrics(hub), "outpost_hub_records_stored_total"));
        }
    }

    HttpResponse<String> putDictionary(Main.RunningAgent hub, String id, byte[] bytes) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(
                                "http://127.0.0.1:" + hub.port() + SyncProtocol.DICTIONARIES_PATH + id + "?stream=t"))
                        .header("Authorization", "Bearer " + TestFleet.TOKEN_1)
                        .header(SyncProtocol.NODE_HEADER, "edge-1")
                        .header("Content-Type", "application/octet-stream")
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** 256 bytes that start with the Zstd dictionary magic (37 A4 30 EC) and hold garbage. */
    static byte[] malformedDictionary() {
        byte[] bad = new byte[256];
        new java.util.Random(8).nextBytes(bad);
        bad[0] = 0x37;
        bad[1] = (byte) 0xA4;
        bad[2] = 0x30;
        bad[3] = (byte) 0xEC;
        return bad;
    }

    /**
     * A malformed dictionary was accepted, and every push naming it was then a 500 (Zstd's IllegalStateException out of
     * the decoder); now the upload is 400 problem+json naming the body, and a push naming one stored before (put in the
     * catalog directly, as an older hub did) is 400 like any damaged frame; the hub goes on serving.
     */
    @Test
    void aDictionaryZstdCannotLoadIsRefusedAtUploadAndItsPushesAre400() throws Exception {
        try (TestFleet fleet = new TestFleet(dir)) {
            Main.RunningAgent hub = fleet.hub("");
            byte[] bad = malformedDictionary();
            String id = Long.toHexString(Dictionary.idOf(bad));
            HttpResponse<String> up = putDictionary(hub, id, bad);
            assertEquals(400, up.statusCode(), up.body());
            assertEquals(
                    "application/problem+json",
                    up.headers().firstValue("Content-Type").orElse(""));
            assertTrue(up.body().contains("\"field\":\"body\""), up.body());
            assertTrue(hub.agent().catalog().dictionaries(10).isEmpty(), "nothing stored");

            hub.agent().catalog().putDictionary("t", Purpose.WIRE, Dictionary.of(bad), 0);
            HttpResponse<String> r = push(hub, lying(1, Dictionary.idOf(bad), 4096, 64));
            assertEquals(400, r.statusCode(), r.body());
            assertTrue(r.body().contains("dictionary " + id + " cannot be loaded"), r.body());
            HttpResponse<String> good = push(hub, batch(new FrameCodec(), 1, 20, Choice.zstd(3, false)));
            assertEquals(200, good.statusCode(), good.body());
        }
    }

    /**
     * Two dictionaries whose content hashes share their 32-bit id (found by a birthday search over raw-content
     * dictionaries): the second upload threw the catalog's StoreException out of the controller, a 500; now it is 409
     * problem+json naming the id, and the first one is kept.
     */
    @Test
    void aDictionaryWhoseIdIsTakenIs409() throws Exception {
        java.util.Map<Long, byte[]> seen = new java.util.HashMap<>();
        byte[][] pair = null;
        for (int i = 0; pair == null; i++) {
            byte[] b = ("raw content dictionary " + i).getBytes(StandardCharsets.UTF_8);
            byte[] other = seen.putIfAbsent(Dictionary.idOf(b), b);
            if (other != null) {
                pair = new byte[][] {other, b};
            }
        }
        String id = Long.toHexString(Dictionary.idOf(pair[0]));
        try (TestFleet fleet = new TestFleet(dir)) {
            Main.RunningAgent hub = fleet.hub("");
            assertEquals(200, putDictionary(hub, id, pair[0]).statusCode());
            assertEquals(200, putDictionary(hub, id, pair[0]).statusCode(), "the same dictionary again");
            HttpResponse<String> r = putDictionary(hub, id, pair[1]);
            assertEquals(409, r.statusCode(), r.body());
            assertEquals(
                    "application/problem+json",
                    r.headers().firstValue("Content-Type").orElse(""));
            assertTrue(r.body().contains("\"field\":\"id\""), r.body());
            assertEquals(
                    Dictionary.of(pair[0]), hub.agent().catalog().find(Dictionary.idOf(pair[0])), "the first kept");
        }
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

package dev.outpost.edge.loadgen;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/** Builds the pool of complete HTTP request byte arrays up front, so the send loop only writes. */
final class Payloads {
    /** Upper bound on the memory the request pool may take. */
    private static final long POOL_BYTES_BUDGET = 16L << 20;

    private static final int MAX_POOL = 64;

    /** Most documents a state mode may address (each has pre-built requests). */
    static final int DOCUMENTS_MAX = 100_000;

    /** Most distinct bodies per document in state-put mode. */
    private static final int PUT_VARIANTS_MAX = 4;

    private static final String[] DOORS = {"open", "closed", "ajar"};
    private static final String[] FIRMWARE = {"2.4.1", "2.4.2", "2.5.0"};
    private static final String[] STATES = {"ok", "warn", "idle", "run"};

    private Payloads() {}

    /**
     * No event {@link #event} builds for {@code targetBytes} is shorter than this (a padded one has exactly {@code
     * targetBytes}; one without room for a padding note falls short by at most the note's own bytes).
     */
    static int eventBytesMin(int targetBytes) {
        return Math.max(0, targetBytes - ",\"note\":\"\"".length() - 1);
    }

    /** One telemetry event as compact JSON, padded to {@code targetBytes} when there is room. */
    static String event(SplittableRandom rnd, String stream, int targetBytes) {
        String head =
                "{\"stream\":\"" + jsonEscape(stream) + "\",\"key\":\"dev-" + rnd.nextInt(1, 1000) + "\",\"data\":{";
        return fields(rnd, head, "}}", targetBytes);
    }

    /** One state document (a flat JSON object of readings) as compact JSON, padded like {@link #event}. */
    static String document(SplittableRandom rnd, int targetBytes) {
        return fields(rnd, "{\"device\":\"dev-" + rnd.nextInt(1, 1000) + "\",", "}", targetBytes);
    }

    /** {@code head}, random readings, a padding note when there is room, then {@code tail}. */
    private static String fields(SplittableRandom rnd, String head, String tail, int targetBytes) {
        StringBuilder sb = new StringBuilder(Math.max(targetBytes, 64) + 16).append(head);
        sb.append("\"temp\":").append(rnd.nextInt(-200, 450) / 10.0);
        String[] optional = {
            ",\"hum\":" + rnd.nextInt(100, 990) / 10.0,
            ",\"rpm\":" + rnd.nextInt(0, 6000),
            ",\"site\":\"store-" + String.format("%04d", rnd.nextInt(1, 5000)) + "\"",
            ",\"volt\":" + rnd.nextInt(2100, 2500) / 10.0,
            ",\"door\":\"" + DOORS[rnd.nextInt(DOORS.length)] + "\"",
            ",\"fw\":\"" + FIRMWARE[rnd.nextInt(FIRMWARE.length)] + "\"",
            ",\"state\":\"" + STATES[rnd.nextInt(STATES.length)] + "\"",
            ",\"ok\":" + rnd.nextBoolean(),
            ",\"vib\":[" + rnd.nextInt(0, 100) / 100.0 + "," + rnd.nextInt(0, 100) / 100.0 + ","
                    + rnd.nextInt(0, 100) / 100.0 + "]",
            ",\"count\":" + rnd.nextInt(0, 1_000_000),
        };
        final String noteOpen = ",\"note\":\"";
        // Keep room for a padding note of at least one character, unless a field fills it exactly.
        final int noteMin = noteOpen.length() + 2;
        for (String f : optional) {
            int after = sb.length() + f.length() + tail.length();
            if (after + noteMin <= targetBytes || after == targetBytes) {
                sb.append(f);
            }
        }
        int room = targetBytes - sb.length() - tail.length() - noteOpen.length() - 1;
        if (room > 0) {
            sb.append(noteOpen);
            for (int i = 0; i < room; i++) {
                sb.append((char) ('a' + rnd.nextInt(26)));
            }
            sb.append('"');
        }
        return sb.append(tail).toString();
    }

    /** A pool of distinct requests (headers and body), each a single byte array. */
    static byte[][] requests(
            String method,
            String hostHeader,
            String path,
            boolean batch,
            int eventsPerRequest,
            String stream,
            int eventBytes) {
        long approxRequest = (long) eventsPerRequest * (eventBytes + 1) + 256;
        int poolSize = (int) Math.max(1, Math.min(MAX_POOL, POOL_BYTES_BUDGET / approxRequest));
        SplittableRandom rnd = new SplittableRandom(42);
        byte[][] pool = new byte[poolSize][];
        for (int r = 0; r < poolSize; r++) {
            ByteArrayOutputStream body =
                    new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, approxRequest));
            if (batch) {
                for (int i = 0; i < eventsPerRequest; i++) {
                    body.writeBytes(event(rnd, stream, eventBytes).getBytes(StandardCharsets.UTF_8));
                    body.write('\n');
                }
            } else {
                body.writeBytes(event(rnd, stream, eventBytes).getBytes(StandardCharsets.UTF_8));
            }
            byte[] b = body.toByteArray();
            String headers = method + " " + path + " HTTP/1.1\r\n"
                    + "Host: " + hostHeader + "\r\n"
                    + "User-Agent: outpost-loadgen\r\n"
                    + "Content-Type: " + (batch ? "application/x-ndjson" : "application/json") + "\r\n"
                    + "Content-Length: " + b.length + "\r\n"
                    + "\r\n";
            byte[] h = headers.getBytes(StandardCharsets.US_ASCII);
            byte[] req = new byte[h.length + b.length];
            System.arraycopy(h, 0, req, 0, h.length);
            System.arraycopy(b, 0, req, h.length, b.length);
            pool[r] = req;
        }
        return pool;
    }

    /**
     * state-put: {@code PUT base/d-i} with a JSON document body, for every document and up to {@link
     * #PUT_VARIANTS_MAX} different bodies each; entry {@code r} is document {@code r % documents}, so
     * the first {@code documents} entries put each document once.
     */
    static byte[][] statePuts(String hostHeader, String basePath, int documents, int docBytes, long seed) {
        long approxRequest = docBytes + 192L + basePath.length();
        int variants = (int) Math.max(1, Math.min(PUT_VARIANTS_MAX, POOL_BYTES_BUDGET / (approxRequest * documents)));
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[][] pool = new byte[documents * variants][];
        for (int r = 0; r < pool.length; r++) {
            byte[] b = document(rnd, docBytes).getBytes(StandardCharsets.UTF_8);
            String headers = "PUT " + basePath + "/d-" + (r % documents) + " HTTP/1.1\r\n"
                    + "Host: " + hostHeader + "\r\n"
                    + "User-Agent: outpost-loadgen\r\n"
                    + "Content-Type: application/json\r\n"
                    + "Content-Length: " + b.length + "\r\n"
                    + "\r\n";
            byte[] h = headers.getBytes(StandardCharsets.US_ASCII);
            byte[] req = new byte[h.length + b.length];
            System.arraycopy(h, 0, req, 0, h.length);
            System.arraycopy(b, 0, req, h.length, b.length);
            pool[r] = req;
        }
        return pool;
    }

    /** state-get: {@code GET base/d-i} for every document, entry {@code i} being document {@code i}. */
    static byte[][] stateGets(String hostHeader, String basePath, int documents) {
        byte[][] pool = new byte[documents][];
        for (int i = 0; i < documents; i++) {
            pool[i] = ("GET " + basePath + "/d-" + i + " HTTP/1.1\r\n"
                            + "Host: " + hostHeader + "\r\n"
                            + "User-Agent: outpost-loadgen\r\n"
                            + "Accept: application/json\r\n"
                            + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
        }
        return pool;
    }

    static String jsonEscape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }
}

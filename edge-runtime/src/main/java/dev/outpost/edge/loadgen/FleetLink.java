package dev.outpost.edge.loadgen;

import dev.outpost.store.Lane;
import dev.outpost.sync.wire.SyncProtocol;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * The simulated fleet's HTTP link to its hubs: the requests an edge's pusher makes ({@code POST /v1/sync/push} with
 * a push batch body, {@code GET /v1/sync/cursor?lane=L}), each with the node's {@code X-Outpost-Node} and {@code
 * Authorization: Bearer} token as the edge's HubClient sends them.
 *
 * <p>Design note. Invariant: at most {@code hubConcurrency} requests are in flight per hub address (a semaphore per
 * hub, taken before the request and given back after its answer is read), so however many nodes are simulated the
 * connections to a hub stay bounded: the JDK client opens a connection only for a request that finds none idle.
 * Callers are virtual threads, one per node; they block cheaply on the semaphore and on the answer.
 */
final class FleetLink implements AutoCloseable {
    /** Timeout of one request, milliseconds. */
    static final long REQUEST_TIMEOUT_MILLIS = 30_000;

    /** Longest Retry-After obeyed, seconds (as the edge's HubClient). */
    static final long RETRY_AFTER_SECONDS_MAX = 300;

    /** A hub's answer: its status, body and Retry-After (seconds; 1 when absent). */
    record Answer(int status, byte[] body, long retryAfterSeconds, long nanos) {}

    private final List<URI> hubs;
    private final Semaphore[] slots;
    private final HttpClient http;

    FleetLink(List<URI> hubs, int hubConcurrency) {
        this.hubs = hubs;
        this.slots = new Semaphore[hubs.size()];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Semaphore(hubConcurrency, true);
        }
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    int hubCount() {
        return hubs.size();
    }

    URI hub(int i) {
        return hubs.get(i);
    }

    /** Pushes an encoded batch to hub {@code hub} as {@code node}; {@code backlog}: what the node has left after it. */
    Answer push(int hub, FleetNodes.Identity node, byte[] body, long backlogRecords, long backlogBytes)
            throws IOException, InterruptedException {
        HttpRequest req = request(hub, node, SyncProtocol.PUSH_PATH)
                .header("Content-Type", SyncProtocol.PUSH_CONTENT_TYPE)
                .header(SyncProtocol.BACKLOG_RECORDS_HEADER, Long.toString(backlogRecords))
                .header(SyncProtocol.BACKLOG_BYTES_HEADER, Long.toString(backlogBytes))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        return send(hub, req);
    }

    /** What hub {@code hub} holds of the node's lane (GET /v1/sync/cursor). */
    Answer cursor(int hub, FleetNodes.Identity node, Lane lane) throws IOException, InterruptedException {
        return send(
                hub,
                request(hub, node, SyncProtocol.CURSOR_PATH + "?lane=" + lane.id())
                        .GET()
                        .build());
    }

    private HttpRequest.Builder request(int hub, FleetNodes.Identity node, String pathAndQuery) {
        return HttpRequest.newBuilder(hubs.get(hub).resolve(pathAndQuery))
                .timeout(Duration.ofMillis(REQUEST_TIMEOUT_MILLIS))
                .header("Authorization", "Bearer " + node.token())
                .header(SyncProtocol.NODE_HEADER, node.id());
    }

    private Answer send(int hub, HttpRequest req) throws IOException, InterruptedException {
        slots[hub].acquire();
        try {
            long t0 = System.nanoTime();
            HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
            return new Answer(r.statusCode(), r.body(), retryAfterSeconds(r), System.nanoTime() - t0);
        } finally {
            slots[hub].release();
        }
    }

    /** The Retry-After of an answer in seconds: 1 if absent or unreadable, capped. */
    static long retryAfterSeconds(HttpResponse<?> r) {
        String h = r.headers().firstValue("Retry-After").orElse("1");
        try {
            return Math.min(RETRY_AFTER_SECONDS_MAX, Math.max(0, Long.parseLong(h.strip())));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    @Override
    public void close() {
        http.close();
    }
}

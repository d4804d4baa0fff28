package dev.outpost.edge.http;

import dev.outpost.store.LogFields;
import dev.outpost.sync.wire.SyncProtocol;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hub to hub: a node's sync request (push, cursor, dictionary) that reached a hub of a Kafka-backed fleet which does
 * not own the node's shard is sent on to the hub that does, and its answer relayed as it is (docs/FLEET-KAFKA.md, "A
 * push"). The edge behind one address cannot tell.
 *
 * <p>Design note. Forwarding only routes; it decides nothing: the owner authenticates the node again (its own token
 * travels with the request) and stores or refuses. Invariants: one hop at most (a forwarded request carries {@link
 * #FORWARDED_HEADER}, and a hub that does not own the shard answers it 503 instead of forwarding again, so two hubs
 * with stale directories cannot bounce a request between them); an owner that cannot be reached in {@link
 * #FORWARD_TIMEOUT_MILLIS} is a 503 with Retry-After, never an acknowledgement; a timed-out forward whose push the
 * owner did store is harmless, the node's resend is deduplicated by its sequence numbers.
 */
final class OwnerForward {
    /** Marks a request one hub forwarded to another. */
    static final String FORWARDED_HEADER = "X-Outpost-Forwarded";

    /** Longest a connection to the owner may take to open. */
    static final long CONNECT_TIMEOUT_MILLIS = 2_000;

    /** Longest a forwarded request may take, answer included (under the edge's own request timeout). */
    static final long FORWARD_TIMEOUT_MILLIS = 20_000;

    /** The request headers that travel with a forwarded request. */
    private static final List<String> PASSED = List.of(
            SyncProtocol.NODE_HEADER,
            "Authorization",
            "Content-Type",
            SyncProtocol.BACKLOG_RECORDS_HEADER,
            SyncProtocol.BACKLOG_BYTES_HEADER);

    private static final Logger LOG = LoggerFactory.getLogger(OwnerForward.class);

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofMillis(CONNECT_TIMEOUT_MILLIS))
            .build();

    /** Whether {@code request} was forwarded here by another hub (and so must not be forwarded again). */
    static boolean forwarded(HttpRequest<?> request) {
        return request.getHeaders().contains(FORWARDED_HEADER);
    }

    /**
     * Sends {@code request} (with {@code body}, null for none) to the same path at {@code ownerUrl} and returns the
     * owner's answer; a 503 with Retry-After if the owner cannot be reached.
     */
    MutableHttpResponse<?> forward(String ownerUrl, HttpRequest<?> request, byte[] body) {
        String query = request.getUri().getRawQuery();
        URI target = URI.create(ownerUrl + request.getUri().getRawPath() + (query == null ? "" : "?" + query));
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(target)
                .timeout(Duration.ofMillis(FORWARD_TIMEOUT_MILLIS))
                .header(FORWARDED_HEADER, "1")
                .method(
                        request.getMethodName(),
                        body == null
                                ? java.net.http.HttpRequest.BodyPublishers.noBody()
                                : java.net.http.HttpRequest.BodyPublishers.ofByteArray(body));
        for (String h : PASSED) {
            String v = request.getHeaders().get(h);
            if (v != null) {
                b.header(h, v);
            }
        }
        java.net.http.HttpResponse<byte[]> answer;
        try {
            answer = client.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            return unreachable(ownerUrl, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unreachable(ownerUrl, e);
        }
        return relay(answer);
    }

    private static MutableHttpResponse<?> relay(java.net.http.HttpResponse<byte[]> answer) {
        MutableHttpResponse<byte[]> r = HttpResponse.<byte[]>status(HttpStatus.valueOf(answer.statusCode()))
                .body(answer.body());
        answer.headers().firstValue("Content-Type").ifPresent(ct -> r.header("Content-Type", ct));
        answer.headers().firstValue("Retry-After").ifPresent(ra -> r.header("Retry-After", ra));
        answer.headers().firstValue("WWW-Authenticate").ifPresent(w -> r.header("WWW-Authenticate", w));
        return r;
    }

    private static MutableHttpResponse<?> unreachable(String ownerUrl, Exception e) {
        LOG.atWarn()
                .addKeyValue(
                        LogFields.ADVICE,
                        "none needed while the fleet's hubs restart (the node retries); else check that"
                                + " hub.kafka_advertised_url of each hub is reachable from the others")
                .log("forward to the shard's owner {} failed: {}", ownerUrl, e.toString());
        return Problems.response(
                503,
                "Owner unreachable",
                "the hub that owns this node's shard (" + ownerUrl + ") cannot be reached now; retry",
                0,
                null);
    }
}

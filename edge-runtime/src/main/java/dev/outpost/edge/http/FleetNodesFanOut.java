package dev.outpost.edge.http;

import dev.outpost.store.LogFields;
import dev.outpost.store.json.JsonTree;
import io.micronaut.http.HttpRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/fleet/nodes} on a fleet of hubs (hub.backend: kafka): each hub knows only the nodes whose shards it
 * owns (their received ranges and activity), so the hub asked merges its own answer with the owners' answers for the
 * others (docs/FLEET-KAFKA.md, "What stays per hub").
 *
 * <p>Design note. The owners are asked in parallel, once each, with {@link OwnerForward#FORWARDED_HEADER} so that
 * they answer from what they hold instead of asking further, and with the caller's own Authorization. Invariants: the
 * answer lists exactly the nodes of this hub's hub.nodes, in its order; an entry another hub owns carries {@code hub}
 * (the owner's URL) and is the owner's entry, or this hub's with {@code hub_unreachable: true} when the owner did not
 * answer in {@link #OWNER_TIMEOUT_MILLIS}; the whole answer never waits longer than that for the owners.
 */
final class FleetNodesFanOut {
    /** Longest the owners' answers are waited for. */
    static final long OWNER_TIMEOUT_MILLIS = 5_000;

    private static final Logger LOG = LoggerFactory.getLogger(FleetNodesFanOut.class);

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofMillis(OwnerForward.CONNECT_TIMEOUT_MILLIS))
            .build();

    /**
     * Merges {@code local} (this hub's FleetNodes JSON) with the owners' entries for the nodes in {@code owners} (node
     * to owner URL).
     */
    byte[] merge(byte[] local, Map<String, String> owners, HttpRequest<?> request) {
        Map<String, Future<Map<String, Object>>> asked = new LinkedHashMap<>();
        try (ExecutorService ask = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String url : new java.util.LinkedHashSet<>(owners.values())) {
                asked.put(url, ask.submit(() -> entries(url, request)));
            }
            Map<String, Map<String, Object>> byUrl = new HashMap<>();
            for (Map.Entry<String, Future<Map<String, Object>>> e : asked.entrySet()) {
                byUrl.put(e.getKey(), answer(e.getKey(), e.getValue()));
            }
            return JsonTree.write(merged(local, owners, byUrl));
        }
    }

    private static Object merged(byte[] local, Map<String, String> owners, Map<String, Map<String, Object>> byUrl) {
        @SuppressWarnings("unchecked")
        Map<String, Object> tree = (Map<String, Object>) JsonTree.parse(local, 0, local.length);
        List<Object> out = new ArrayList<>();
        for (Object o : (List<?>) tree.get("nodes")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> entry = new LinkedHashMap<>((Map<String, Object>) o);
            String url = owners.get((String) entry.get("node"));
            if (url != null) {
                Map<String, Object> theirs = byUrl.get(url);
                Object their = theirs == null ? null : theirs.get((String) entry.get("node"));
                if (their instanceof Map<?, ?> m) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) m);
                    entry = copy;
                } else {
                    entry.put("hub_unreachable", Boolean.TRUE);
                }
                entry.put("hub", url);
            }
            out.add(entry);
        }
        Map<String, Object> result = new LinkedHashMap<>(tree);
        result.put("nodes", out);
        return result;
    }

    /** The owner's entries by node; null when it did not answer in time. */
    private static Map<String, Object> answer(String url, Future<Map<String, Object>> f) {
        try {
            return f.get(OWNER_TIMEOUT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            f.cancel(true);
            LOG.atWarn()
                    .addKeyValue(
                            LogFields.ADVICE,
                            "none needed while hubs restart; else check the hubs' hub.kafka_advertised_url")
                    .log("fleet nodes: the hub at {} did not answer: {}", url, e.toString());
            return null;
        }
    }

    private Map<String, Object> entries(String url, HttpRequest<?> request) throws Exception {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(URI.create(url + "/v1/fleet/nodes"))
                .timeout(Duration.ofMillis(OWNER_TIMEOUT_MILLIS))
                .header(OwnerForward.FORWARDED_HEADER, "1");
        String auth = request.getHeaders().get("Authorization");
        if (auth != null) {
            b.header("Authorization", auth);
        }
        java.net.http.HttpResponse<byte[]> r =
                client.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new java.io.IOException("status " + r.statusCode());
        }
        Map<String, Object> out = new HashMap<>();
        if (JsonTree.parse(r.body(), 0, r.body().length) instanceof Map<?, ?> tree
                && tree.get("nodes") instanceof List<?> nodes) {
            for (Object o : nodes) {
                if (o instanceof Map<?, ?> m && m.get("node") instanceof String node) {
                    out.put(node, m);
                }
            }
        }
        return out;
    }
}

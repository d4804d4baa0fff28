package dev.outpost.sync;

import dev.outpost.store.AckedRanges;
import dev.outpost.store.Catalog;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge side of pull: long-polls the hub for changes addressed to this node or to all nodes
 * (state documents, stream definitions, configuration) and hands each to an {@link Applier}.
 *
 * <p>Design note. The position is the hub sequence number of the last change applied, persisted
 * in the catalog (cursor {@code pull:<hub>}, the range 1..position) after each answer is applied,
 * so a change is applied at least once; appliers are idempotent (state changes resolve by HLC
 * last-writer-wins, so a replayed change loses to itself and is skipped). One poll at a time, on
 * its own thread; failures back off with full jitter. Exceptions from the applier are contained:
 * the change is counted as failed and skipped.
 */
public final class Puller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Puller.class);

    /** Prefix of the catalog cursor holding the pull position. */
    public static final String CURSOR_PREFIX = "pull:";

    /** How long the hub holds a poll open when it has nothing, milliseconds. */
    public static final long POLL_WAIT_MILLIS = 20_000;

    /** The kinds of change a hub publishes. */
    static final java.util.List<String> KINDS = java.util.List.of("state", "stream", "config");

    /** Applies one change from the hub: the NDJSON line of its data, with its hub HLC. */
    @FunctionalInterface
    public interface Applier {
        void apply(String kind, String json, long hlc);
    }

    private final URI hub;
    private final String node;
    private final String token;
    private final Catalog catalog;
    private final Applier applier;
    private final HttpClient http;
    private final Backoff backoff;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long position;
    private volatile long lastSuccessMillis;
    private volatile String lastError;

    /** Changes applied. */
    public final LongAdder applied = new LongAdder();
    /** Changes whose applier threw (skipped). */
    public final LongAdder failedChanges = new LongAdder();

    /** @param sslContext the TLS context for an https:// hub, or null for the JDK's default */
    public Puller(
            URI hub,
            String node,
            String token,
            Catalog catalog,
            long backoffBaseMillis,
            long backoffCapMillis,
            javax.net.ssl.SSLContext sslContext,
            Applier applier) {
        this.hub = hub;
        this.node = node;
        this.token = token;
        this.catalog = catalog;
        this.applier = applier;
        this.http = Pusher.client(Duration.ofSeconds(5), sslContext);
        this.backoff = new Backoff(backoffBaseMillis, backoffCapMillis, ThreadLocalRandom.current());
        AckedRanges r = catalog.syncCursor(CURSOR_PREFIX + hub, "pull");
        this.position = r.firstGap(1) - 1;
        this.thread = Thread.ofPlatform().name("outpost-sync-pull").daemon().unstarted(this::loop);
    }

    public Puller start() {
        thread.start();
        return this;
    }

    /** The hub sequence of the last change applied. */
    public long position() {
        return position;
    }

    public long lastSuccessMillis() {
        return lastSuccessMillis;
    }

    public String lastError() {
        return lastError;
    }

    private void loop() {
        int failures = 0;
        while (running) {
            try {
                pollOnce(POLL_WAIT_MILLIS);
                if (failures > 0) {
                    LOG.info("sync: pull from {} recovered after {} failures", hub, failures);
                }
                failures = 0;
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                failures++;
                lastError = Pusher.describe(e);
                if (failures == 1) {
                    LOG.warn("sync: pull from {} failed: {}; backing off", hub, lastError);
                }
                try {
                    Thread.sleep(Math.max(1, backoff.waitMillis(failures)));
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** One long poll: applies what the hub sends and persists the new position. */
    void pollOnce(long waitMillis) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(
                        hub.resolve("/v1/sync/pull?after=" + position + "&wait_millis=" + waitMillis))
                .timeout(Duration.ofMillis(waitMillis + 15_000))
                .header("Authorization", "Bearer " + token)
                .header(Pusher.NODE_HEADER, node)
                .GET()
                .build();
        HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (resp.statusCode() != 200) {
            throw new SyncException(
                    "pull changes",
                    hub.toString(),
                    "the hub answered " + resp.statusCode() + ": "
                            + resp.body().substring(0, Math.min(300, resp.body().length())),
                    resp.statusCode(),
                    null);
        }
        long next = position;
        for (String line : resp.body().split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("{\"next\":")) {
                next = Math.max(next, Long.parseLong(line.replaceAll("\\D", "")));
                continue;
            }
            // {"seq":S,"hlc":H,"change":{"target":T,"kind":"state"|"stream"|"config", ...}}
            long seq = number(line, "\"seq\":");
            long hlc = number(line, "\"hlc\":");
            try {
                // An unknown kind (a newer hub) is skipped like a change that fails: never a stuck poll.
                applier.apply(kind(line), line, hlc);
                applied.increment();
            } catch (RuntimeException e) {
                failedChanges.increment();
                LOG.error("sync: change {} from {} could not be applied and is skipped", seq, hub, e);
            }
            next = Math.max(next, seq);
        }
        if (next > position) {
            AckedRanges r = new AckedRanges();
            r.add(1, next);
            catalog.putSyncCursor(CURSOR_PREFIX + hub, "pull", r);
            position = next;
        }
        lastSuccessMillis = System.currentTimeMillis();
    }

    /** The change's kind: the first "kind" key, which the hub writes before any document. */
    static String kind(String line) {
        for (String k : KINDS) {
            int at = line.indexOf("\"kind\":\"");
            if (at >= 0 && line.startsWith(k + "\"", at + 8)) {
                return k;
            }
        }
        throw new SyncException(
                "read pulled change", "hub answer", "no kind (one of " + KINDS + ") in " + line, 0, null);
    }

    private static long number(String line, String key) {
        int i = line.indexOf(key);
        if (i < 0) {
            throw new SyncException("read pulled change", "hub answer", "no " + key + " in " + line, 0, null);
        }
        int j = i + key.length();
        int k = j;
        while (k < line.length() && Character.isDigit(line.charAt(k))) {
            k++;
        }
        return Long.parseLong(line.substring(j, k));
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        http.close();
    }
}

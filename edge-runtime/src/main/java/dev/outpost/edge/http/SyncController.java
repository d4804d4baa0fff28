package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.StoreException;
import dev.outpost.sync.HubReceiver;
import dev.outpost.sync.PushBatch;
import dev.outpost.sync.Pusher;
import dev.outpost.sync.SyncException;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sync over HTTP. Hub side: {@code POST /v1/sync/push} and {@code GET /v1/sync/cursor}, for nodes
 * authenticated by their own token ({@code hub.nodes}). Edge side: {@code GET /v1/sync/status}.
 */
@Controller("/v1/sync")
public class SyncController {
    private static final Logger LOG = LoggerFactory.getLogger(SyncController.class);

    /** Paths authenticated by a node token instead of http.api_token. */
    static final Set<String> NODE_AUTHENTICATED = Set.of("/v1/sync/push", "/v1/sync/cursor", "/v1/sync/pull");

    /** Prefix of node-authenticated dictionary uploads. */
    static final String DICTIONARY_PATH = "/v1/sync/dictionaries/";

    /** Longest a pull is held open waiting for a change, milliseconds. */
    static final long PULL_WAIT_MILLIS_MAX = 30_000;

    /** Most changes in one pull answer. */
    static final int PULL_CHANGES_MAX = 1000;

    /** Most hub log records one pull reads looking for changes. */
    static final int PULL_SCAN_RECORDS_MAX = 100_000;

    /** Most records one /v1/sync/status reads per lane to bring its kept backlog count up to date. */
    static final int STATUS_SCAN_RECORDS_MAX = 200_000;

    private final Agent agent;

    public SyncController(Agent agent) {
        this.agent = agent;
    }

    /** The node a request is from, if its token is right; else null (the caller answers 401). */
    private String authenticate(HttpRequest<?> request) {
        String node = request.getHeaders().get(Pusher.NODE_HEADER);
        String auth = request.getHeaders().get("Authorization");
        if (node == null || auth == null || !auth.startsWith("Bearer ")) {
            return null;
        }
        String token = agent.config().hub().nodes().get(node);
        byte[] given = auth.substring(7).getBytes(StandardCharsets.UTF_8);
        // Compared even for an unknown node, so timing does not tell which nodes exist.
        byte[] expected = (token == null ? "\u0000unknown-node-token" : token).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, given) && token != null ? node : null;
    }

    private static HttpResponse<?> unauthorized() {
        return Problems.response(
                        401,
                        "Unauthorized",
                        "unknown node or wrong token: send 'X-Outpost-Node: <node.id>' and 'Authorization: Bearer"
                                + " <its token in the hub's hub.nodes>'",
                        0,
                        "Authorization")
                .header("WWW-Authenticate", "Bearer");
    }

    private HttpResponse<?> notHub() {
        return Problems.response(
                404, "Not a hub", "this agent is not in hub mode (run 'outpost hub' or set hub.enabled)", 0, null);
    }

    @Post(value = "/push", consumes = Pusher.CONTENT_TYPE, produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> push(HttpRequest<?> request, @Body byte[] body) {
        if (!agent.config().hub().enabled()) {
            return notHub();
        }
        String node = authenticate(request);
        if (node == null) {
            return unauthorized();
        }
        String claimed = PushBatch.peekNode(body, body.length);
        if (claimed != null && !claimed.equals(node)) {
            return Problems.response(
                    403, "Forbidden", "node '" + node + "' may not push for node '" + claimed + "'", 0, "node");
        }
        if (!agent.hubAdmission().tryAcquire()) {
            agent.hubPushesThrottled.increment();
            return Problems.response(
                    429,
                    "Too many pushes",
                    "the hub is handling hub.push_concurrency_max pushes; retry later",
                    0,
                    null);
        }
        try {
            PushBatch b = PushBatch.decode(body, body.length, agent.hubLimits(), agent.catalog());
            HubReceiver.Ack ack = agent.hubReceiver().receive(b);
            agent.hubPushes.increment();
            agent.hubRecordsStored.add(ack.stored());
            agent.hubRecordsDuplicate.add(ack.duplicates());
            return HttpResponse.ok(ack.json()).contentType(MediaType.APPLICATION_JSON_TYPE);
        } catch (SyncException e) {
            int st = e.status() == 0 ? 500 : e.status();
            return Problems.response(st, "Push refused", e.getMessage(), 0, null);
        } catch (StoreException e) {
            LOG.error("push from node {} could not be stored", node, e);
            return Problems.response(503, "Store unavailable", e.getMessage(), 0, null);
        } finally {
            agent.hubAdmission().release();
        }
    }

    /** A node's wire dictionary, uploaded before the first batch that uses it (content-addressed). */
    @io.micronaut.http.annotation.Put(
            value = "/dictionaries/{id}",
            consumes = MediaType.APPLICATION_OCTET_STREAM,
            produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> putDictionary(
            HttpRequest<?> request,
            @io.micronaut.http.annotation.PathVariable String id,
            @Nullable @QueryValue String stream,
            @Body byte[] body) {
        if (!agent.config().hub().enabled()) {
            return notHub();
        }
        if (authenticate(request) == null) {
            return unauthorized();
        }
        if (stream == null || !dev.outpost.edge.ingest.EventParser.validName(stream)) {
            return Problems.response(400, "Invalid query", "stream must name the dictionary's stream", 0, "stream");
        }
        if (body.length == 0 || body.length > dev.outpost.compress.Dictionary.BYTES_MAX) {
            return Problems.response(413, "Dictionary too large", "a dictionary is 1 byte to 1 MiB", 0, null);
        }
        dev.outpost.compress.Dictionary d = dev.outpost.compress.Dictionary.of(body);
        if (!Long.toHexString(d.id()).equals(id)) {
            return Problems.response(
                    400,
                    "Wrong id",
                    "the dictionary's content hashes to " + Long.toHexString(d.id()) + ", not " + id,
                    0,
                    "id");
        }
        agent.catalog().putDictionary(stream, dev.outpost.compress.Purpose.WIRE, d, 0);
        return HttpResponse.ok("{\"id\":\"" + id + "\"}").contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    @Get(value = "/cursor", produces = MediaType.APPLICATION_OCTET_STREAM)
    public HttpResponse<?> cursor(HttpRequest<?> request, @Nullable @QueryValue String lane) {
        if (!agent.config().hub().enabled()) {
            return notHub();
        }
        String node = authenticate(request);
        if (node == null) {
            return unauthorized();
        }
        Lane l;
        try {
            l = Lane.of(lane == null ? "" : lane);
        } catch (IllegalArgumentException e) {
            return Problems.response(
                    400, "Invalid query", "lane must be one of critical, high, normal, bulk", 0, "lane");
        }
        AckedRanges r = agent.hubReceiver().received(node, l);
        return HttpResponse.ok(r.encode()).contentType(MediaType.APPLICATION_OCTET_STREAM_TYPE);
    }

    /**
     * Long poll for the changes addressed to the calling node or to all nodes, after hub sequence
     * {@code after}: NDJSON lines {@code {"seq":S,"hlc":H,"change":{...}}} and a last line
     * {@code {"next":N}} (pass N as {@code after} next time). Held open up to {@code wait_millis}
     * when there is nothing new.
     */
    @Get(value = "/pull", produces = EventsController.NDJSON)
    @io.micronaut.scheduling.annotation.ExecuteOn(io.micronaut.scheduling.TaskExecutors.BLOCKING)
    public HttpResponse<?> pull(
            HttpRequest<?> request,
            @Nullable @QueryValue String after,
            @Nullable @QueryValue("wait_millis") String waitMillis) {
        if (!agent.config().hub().enabled()) {
            return notHub();
        }
        String node = authenticate(request);
        if (node == null) {
            return unauthorized();
        }
        long from;
        long wait;
        try {
            from = after == null ? 0 : Long.parseLong(after);
            wait = waitMillis == null ? 0 : Math.min(PULL_WAIT_MILLIS_MAX, Long.parseLong(waitMillis));
        } catch (NumberFormatException e) {
            return Problems.response(400, "Invalid query", "after and wait_millis must be whole numbers", 0, null);
        }
        if (from < 0 || wait < 0) {
            return Problems.response(400, "Invalid query", "after and wait_millis must be >= 0", 0, null);
        }
        long deadline = System.currentTimeMillis() + wait;
        while (true) {
            long version = agent.fleetVersion();
            StringBuilder out = new StringBuilder();
            long next = scanChanges(node, from, out);
            long left = deadline - System.currentTimeMillis();
            if (out.length() > 0 || left <= 0) {
                out.append("{\"next\":").append(next).append("}\n");
                return HttpResponse.ok(out.toString()).contentType(EventsController.NDJSON);
            }
            from = next;
            try {
                agent.awaitFleetChange(version, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Problems.response(503, "Shutting down", "the hub is stopping; retry", 0, null);
            }
        }
    }

    /** Appends the changes for {@code node} after {@code from} to {@code out}; returns the last sequence read. */
    private long scanChanges(String node, long from, StringBuilder out) {
        dev.outpost.store.EventLog log = agent.log();
        long last = Math.max(from, 0);
        if (log.lastSeq() <= from) {
            return last;
        }
        byte[] stream = Agent.FLEET_STREAM.getBytes(StandardCharsets.UTF_8);
        int scanned = 0;
        int found = 0;
        try (var c = log.cursorFromSeq(from + 1)) {
            var v = new dev.outpost.store.RecordView();
            while (scanned < PULL_SCAN_RECORDS_MAX && found < PULL_CHANGES_MAX && c.next(v)) {
                scanned++;
                last = v.seq();
                if (!v.streamEquals(stream)) {
                    continue;
                }
                Object e = dev.outpost.edge.state.json.JsonTree.parseStored(
                        v.payloadArray(), v.payloadOffset(), v.payloadLength());
                Object data = e instanceof java.util.Map<?, ?> m ? m.get("data") : null;
                if (!(data instanceof java.util.Map<?, ?> d)) {
                    continue;
                }
                Object target = d.get("target");
                if (!node.equals(target) && !"all".equals(target)) {
                    continue;
                }
                out.append("{\"seq\":")
                        .append(v.seq())
                        .append(",\"hlc\":")
                        .append(v.hlc())
                        .append(",\"change\":")
                        .append(new String(dev.outpost.edge.state.json.JsonTree.write(d), StandardCharsets.UTF_8))
                        .append("}\n");
                found++;
            }
        }
        return last;
    }

    /** Connectivity, per-lane backlog, last success and last error of the push to the upstream hub. */
    @Get(value = "/status", produces = MediaType.APPLICATION_JSON)
    public String status() {
        Pusher p = agent.pusher();
        StringBuilder b = new StringBuilder(512);
        if (p == null) {
            b.append(
                    "{\"upstream\":null,\"link\":\"offline\",\"reason\":\"no sync.upstream is configured\",\"lanes\":{");
        } else {
            b.append("{\"upstream\":");
            Json.quote(b, p.hub().toString());
            b.append(",\"link\":\"")
                    .append(p.link().name().toLowerCase(java.util.Locale.ROOT))
                    .append("\",\"consecutive_failures\":")
                    .append(p.consecutiveFailures())
                    .append(",\"last_success\":")
                    .append(p.lastSuccessMillis() == 0 ? "null" : Long.toString(p.lastSuccessMillis()))
                    .append(",\"last_error\":");
            if (p.lastError() == null) {
                b.append("null");
            } else {
                b.append("{\"at\":").append(p.lastErrorMillis()).append(",\"message\":");
                Json.quote(b, p.lastError());
                b.append('}');
            }
            b.append(",\"sent\":{\"batches\":")
                    .append(p.batches.sum())
                    .append(",\"records\":")
                    .append(p.records.sum())
                    .append(",\"wire_bytes\":")
                    .append(p.wireBytes.sum())
                    .append(",\"payload_bytes\":")
                    .append(p.payloadBytes.sum())
                    .append(",\"failures\":")
                    .append(p.failures.sum())
                    .append(",\"throttled\":")
                    .append(p.throttled.sum())
                    .append("},\"lanes\":{");
        }
        long now = System.currentTimeMillis();
        boolean first = true;
        for (Lane lane : Lane.values()) {
            Pusher.Backlog bl = p == null
                    ? agent.offlineBacklog(lane, STATUS_SCAN_RECORDS_MAX)
                    : p.backlog(lane, STATUS_SCAN_RECORDS_MAX);
            b.append(first ? "" : ",")
                    .append('"')
                    .append(lane.id())
                    .append("\":{\"backlog_records\":")
                    .append(bl.records())
                    .append(",\"backlog_bytes\":")
                    .append(bl.bytes())
                    .append(",\"exact\":")
                    .append(bl.exact())
                    .append(",\"oldest_age_seconds\":")
                    .append(bl.oldestHlc() == 0 ? 0 : Math.max(0, now - HybridClock.millis(bl.oldestHlc())) / 1000);
            if (p != null) {
                AckedRanges r = p.cursor(lane);
                b.append(",\"acked_ranges\":")
                        .append(r.rangeCount())
                        .append(",\"next_unacked_seq\":")
                        .append(r.firstGap(1));
            }
            b.append('}');
            first = false;
        }
        return b.append("}}").toString();
    }
}

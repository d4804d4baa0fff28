package dev.outpost.edge.http;

import dev.outpost.edge.config.LiveConfig;
import dev.outpost.edge.hub.Hub;
import dev.outpost.edge.upstream.Upstream;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Catalog;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LogFields;
import dev.outpost.store.StoreException;
import dev.outpost.sync.Pusher;
import dev.outpost.sync.SyncException;
import dev.outpost.sync.wire.DictionaryStored;
import dev.outpost.sync.wire.PullPage;
import dev.outpost.sync.wire.PushAck;
import dev.outpost.sync.wire.PushBatch;
import dev.outpost.sync.wire.SyncProtocol;
import dev.outpost.sync.wire.SyncStatus;
import dev.outpost.sync.wire.WireException;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sync over HTTP. Hub side: {@code POST /v1/sync/push} and {@code GET /v1/sync/cursor}, for nodes
 * authenticated by their own token ({@code hub.nodes}). Edge side: {@code GET /v1/sync/status}.
 */
@Controller("/v1/sync")
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "403", ref = OpenApiController.FORBIDDEN)
@ApiResponse(responseCode = "404", ref = OpenApiController.NOT_FOUND)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "409", ref = OpenApiController.CONFLICT)
@ApiResponse(responseCode = "413", ref = OpenApiController.CONTENT_TOO_LARGE)
@ApiResponse(responseCode = "415", ref = OpenApiController.UNSUPPORTED_MEDIA_TYPE)
@ApiResponse(responseCode = "429", ref = OpenApiController.TOO_MANY_REQUESTS)
@ApiResponse(responseCode = "500", ref = OpenApiController.INTERNAL_ERROR)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class SyncController {
    private static final Logger LOG = LoggerFactory.getLogger(SyncController.class);

    /** Paths authenticated by a node token instead of http.api_token. */
    static final Set<String> NODE_AUTHENTICATED =
            Set.of(SyncProtocol.PUSH_PATH, SyncProtocol.CURSOR_PATH, SyncProtocol.PULL_PATH);

    /** Prefix of node-authenticated dictionary uploads. */
    static final String DICTIONARY_PATH = SyncProtocol.DICTIONARIES_PATH;

    /** Longest a pull is held open waiting for a change, milliseconds. */
    static final long PULL_WAIT_MILLIS_MAX = 30_000;

    /** Most changes in one pull answer. */
    static final int PULL_CHANGES_MAX = 1000;

    /** Most records one /v1/sync/status reads per lane to bring its kept backlog count up to date. */
    static final int STATUS_SCAN_RECORDS_MAX = 200_000;

    private final Hub hub; // null: not a hub
    private final LiveConfig config;
    private final Catalog catalog;
    private final Upstream upstream;
    private final OwnerForward forward; // null: not a hub of a fleet of hubs

    public SyncController(@Nullable Hub hub, LiveConfig config, Catalog catalog, Upstream upstream) {
        this.hub = hub;
        this.config = config;
        this.catalog = catalog;
        this.upstream = upstream;
        this.forward = hub != null && hub.fleetOfHubs() ? new OwnerForward() : null;
    }

    /**
     * The owner's answer to {@code request} when another hub of the fleet owns {@code node}'s shard (forwarded once; a
     * request with a body holds one of this hub's push slots meanwhile, a cursor read only its connection, as it
     * would here); null when this hub answers it itself.
     */
    private HttpResponse<?> forwarded(String node, HttpRequest<?> request, byte[] body) {
        if (forward == null || OwnerForward.forwarded(request)) {
            return null;
        }
        String owner = hub.ownerUrl(node);
        if (owner == null) {
            return null;
        }
        hub.forwardedRequest();
        if (body == null) {
            return forward.forward(owner, request, null);
        }
        int held = hub.admit(body.length, body.length); // relayed, not decoded here: counted as a raw push
        if (held < 0) {
            return busy();
        }
        try {
            return forward.forward(owner, request, body);
        } finally {
            hub.release(held);
        }
    }

    private static HttpResponse<?> busy() {
        return Problems.response(
                429,
                "Too many pushes",
                "the hub is handling hub.push_concurrency_max pushes, or as many bytes of pushes as its memory budget allows;"
                        + " retry later",
                0,
                null);
    }

    /** The node a request is from, if its token is right; else null (the caller answers 401). */
    private String authenticate(HttpRequest<?> request) {
        return HubBodyGate.node(
                config.current().hub().nodes(),
                request.getHeaders().get(SyncProtocol.NODE_HEADER),
                request.getHeaders().get("Authorization"));
    }

    /** A sync request without a node's credentials (here, and ahead of its body: {@link HubBodyGate}). */
    static final Answer UNAUTHORIZED = Problems.answer(
                    401,
                    "Unauthorized",
                    "unknown node or wrong token: send 'X-Outpost-Node: <node.id>' and 'Authorization: Bearer"
                            + " <its token in the hub's hub.nodes>'",
                    0,
                    "Authorization")
            .with("WWW-Authenticate", "Bearer");

    private static HttpResponse<?> unauthorized() {
        return UNAUTHORIZED.toMicronaut();
    }

    private HttpResponse<?> notHub() {
        return Problems.response(
                404, "Not a hub", "this agent is not in hub mode (run 'outpost hub' or set hub.enabled)", 0, null);
    }

    @Post(value = "/push", consumes = SyncProtocol.PUSH_CONTENT_TYPE, produces = MediaType.APPLICATION_JSON)
    @io.micronaut.scheduling.annotation.ExecuteOn(io.micronaut.scheduling.TaskExecutors.BLOCKING)
    public HttpResponse<?> push(HttpRequest<?> request, @Body byte[] body) {
        if (hub == null) {
            return notHub();
        }
        String node = authenticate(request);
        if (node == null) {
            return unauthorized();
        }
        HttpResponse<?> relayed = forwarded(node, request, body);
        if (relayed != null) {
            return relayed; // the owner recorded the node's activity
        }
        HttpResponse<?> answer = pushFrom(node, request, body);
        if (answer.code() >= 400) {
            hub.activity().refused(node, System.currentTimeMillis(), answer.code(), problemDetail(answer));
        }
        return answer;
    }

    /** A push from the authenticated {@code node}: stored and acknowledged, or refused. */
    private HttpResponse<?> pushFrom(String node, HttpRequest<?> request, byte[] body) {
        String claimed = PushBatch.peekNode(body, body.length);
        if (claimed != null && !claimed.equals(node)) {
            return Problems.response(
                    403, "Forbidden", "node '" + node + "' may not push for node '" + claimed + "'", 0, "node");
        }
        int held;
        try {
            // Charged for what it declares before anything is decoded: a small body may declare a large section.
            held = hub.admit(body.length, hub.decoder().declaredBytes(body, body.length));
        } catch (WireException e) {
            return Problems.response(e.status(), "Push refused", e.getMessage(), 0, null);
        }
        if (held < 0) {
            return busy();
        }
        try {
            PushBatch b = hub.decoder().decode(body, body.length, catalog);
            PushAck ack = hub.receive(b);
            hub.acknowledged(ack);
            hub.activity()
                    .stored(
                            b,
                            System.currentTimeMillis(),
                            headerCount(request, SyncProtocol.BACKLOG_RECORDS_HEADER),
                            headerCount(request, SyncProtocol.BACKLOG_BYTES_HEADER));
            return HttpResponse.ok(ack.toJson()).contentType(MediaType.APPLICATION_JSON_TYPE);
        } catch (WireException e) {
            return Problems.response(e.status(), "Push refused", e.getMessage(), 0, null);
        } catch (SyncException e) {
            int st = e.status() == 0 ? 500 : e.status();
            return Problems.response(st, "Push refused", e.getMessage(), 0, null);
        } catch (StoreException e) {
            LOG.atError()
                    .addKeyValue(LogFields.NODE, node)
                    .addKeyValue(
                            LogFields.ADVICE,
                            "check the hub's data directory (disk space, I/O errors); the node" + " retries the push")
                    .setCause(e)
                    .log("push from node {} could not be stored", node);
            return Problems.response(503, "Store unavailable", e.getMessage(), 0, null);
        } finally {
            hub.release(held);
        }
    }

    /** The {@code detail} of a problem answer (as the node was told), else its status line. */
    private static String problemDetail(HttpResponse<?> answer) {
        if (answer.body() instanceof String problem) {
            byte[] b = problem.getBytes(StandardCharsets.UTF_8);
            try {
                if (dev.outpost.store.json.JsonTree.parse(b, 0, b.length) instanceof Map<?, ?> m
                        && m.get("detail") instanceof String detail) {
                    return detail;
                }
            } catch (RuntimeException e) {
                // not a problem document: say what the status says
            }
        }
        return answer.code() + " " + answer.reason();
    }

    /** A non-negative count a node sent in {@code header}, or -1 when it sent none (or no number). */
    private static long headerCount(HttpRequest<?> request, String header) {
        String v = request.getHeaders().get(header);
        try {
            return v == null ? -1 : Math.max(-1, Long.parseLong(v.trim()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A node's wire dictionary, uploaded before the first batch that uses it (content-addressed). */
    @io.micronaut.http.annotation.Put(
            value = "/dictionaries/{id}",
            consumes = MediaType.APPLICATION_OCTET_STREAM,
            produces = MediaType.APPLICATION_JSON)
    @io.micronaut.scheduling.annotation.ExecuteOn(io.micronaut.scheduling.TaskExecutors.BLOCKING)
    public HttpResponse<?> putDictionary(
            HttpRequest<?> request,
            @io.micronaut.http.annotation.PathVariable String id,
            @Nullable @QueryValue String stream,
            @Body byte[] body) {
        if (hub == null) {
            return notHub();
        }
        String node = authenticate(request);
        if (node == null) {
            return unauthorized();
        }
        if (stream == null || !dev.outpost.edge.ingest.EventParser.validName(stream)) {
            return Problems.response(400, "Invalid query", "stream must name the dictionary's stream", 0, "stream");
        }
        if (body.length == 0 || body.length > dev.outpost.compress.Dictionary.BYTES_MAX) {
            return Problems.response(413, "Dictionary too large", "a dictionary is 1 byte to 1 MiB", 0, null);
        }
        String hashed = Long.toHexString(dev.outpost.compress.Dictionary.idOf(body));
        if (!hashed.equals(id)) {
            return Problems.response(
                    400, "Wrong id", "the dictionary's content hashes to " + hashed + ", not " + id, 0, "id");
        }
        dev.outpost.compress.Dictionary d;
        try {
            d = dev.outpost.compress.Dictionary.loadable(body); // refused now, not at every push that names it
        } catch (IllegalArgumentException e) {
            return Problems.response(
                    400, "Invalid dictionary", "the body is not a dictionary: " + e.getMessage(), 0, "body");
        }
        if (!catalog.tryPutDictionary(stream, dev.outpost.compress.Purpose.WIRE, d, 0)) {
            return Problems.response(
                    409,
                    "Dictionary id taken",
                    "this hub holds another dictionary with id " + id
                            + " (a collision of the 32-bit content hash); retrain the dictionary with different samples",
                    0,
                    "id");
        }
        HttpResponse<?> relayed = forwarded(node, request, body); // the owner decodes the node's pushes
        if (relayed != null) {
            return relayed;
        }
        return HttpResponse.ok(new DictionaryStored(id).toJson()).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    @Get(value = "/cursor", produces = MediaType.APPLICATION_OCTET_STREAM)
    @io.micronaut.scheduling.annotation.ExecuteOn(io.micronaut.scheduling.TaskExecutors.BLOCKING)
    public HttpResponse<?> cursor(HttpRequest<?> request, @Nullable @QueryValue String lane) {
        if (hub == null) {
            return notHub();
        }
        String node = authenticate(request);
        if (node == null) {
            return unauthorized();
        }
        HttpResponse<?> relayed = forwarded(node, request, null);
        if (relayed != null) {
            return relayed;
        }
        Lane l;
        try {
            l = Lane.of(lane == null ? "" : lane);
        } catch (IllegalArgumentException e) {
            return Problems.response(
                    400, "Invalid query", "lane must be one of critical, high, normal, bulk", 0, "lane");
        }
        AckedRanges r;
        try {
            r = hub.receiver().received(node, l);
        } catch (SyncException e) {
            // A Kafka hub that does not own the node's shard now: the edge asks again (it obeys Retry-After).
            return Problems.response(e.status() == 0 ? 503 : e.status(), "Cursor unavailable", e.getMessage(), 0, null);
        }
        return HttpResponse.ok(r.encode()).contentType(MediaType.APPLICATION_OCTET_STREAM_TYPE);
    }

    /**
     * Long poll for the changes addressed to the calling node or to all nodes, after sequence
     * {@code after}: NDJSON lines {@code {"seq":S,"hlc":H,"change":{...}}} and a last line
     * {@code {"next":N}} (pass N as {@code after} next time). Held open up to {@code wait_millis}
     * when there is nothing new. Sequences are the hub log's (hub.backend: local) or the fleet topic's
     * offsets + 1, the same at every hub of the fleet (hub.backend: kafka; docs/FLEET-KAFKA.md).
     */
    @Get(value = "/pull", produces = EventsController.NDJSON)
    @io.micronaut.scheduling.annotation.ExecuteOn(io.micronaut.scheduling.TaskExecutors.BLOCKING)
    public HttpResponse<?> pull(
            HttpRequest<?> request,
            @Nullable @QueryValue String after,
            @Nullable @QueryValue("wait_millis") String waitMillis) {
        if (hub == null) {
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
            long version = hub.changes().version();
            List<PullPage.Change> changes = new ArrayList<>();
            long next = hub.changes().scan(node, from, PULL_CHANGES_MAX, changes);
            long left = deadline - System.currentTimeMillis();
            if (!changes.isEmpty() || left <= 0) {
                return HttpResponse.ok(new PullPage(changes, next).toNdjson()).contentType(EventsController.NDJSON);
            }
            if (next > from) {
                from = next; // a scan reads a bounded stretch: read on before waiting for new changes
                continue;
            }
            try {
                hub.changes().await(version, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Problems.response(503, "Shutting down", "the hub is stopping; retry", 0, null);
            }
        }
    }

    /** Connectivity, per-lane backlog, last success and last error of the push to the upstream hub. */
    @Get(value = "/status", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> status() {
        Pusher p = upstream.pusher();
        SyncStatus.Link link = null;
        if (p != null) {
            var sent = p.counters();
            link = new SyncStatus.Link(
                    p.hub().toString(),
                    p.link().name().toLowerCase(java.util.Locale.ROOT),
                    p.consecutiveFailures(),
                    p.lastSuccessMillis(),
                    p.lastError() == null ? null : new SyncStatus.LastError(p.lastErrorMillis(), p.lastError()),
                    new SyncStatus.Sent(
                            sent.batches(),
                            sent.records(),
                            sent.wireBytes(),
                            sent.payloadBytes(),
                            sent.failures(),
                            sent.throttled()));
        }
        long now = System.currentTimeMillis();
        Map<Lane, SyncStatus.LaneBacklog> lanes = new EnumMap<>(Lane.class);
        for (Lane lane : Lane.values()) {
            Pusher.Backlog bl = upstream.backlog(lane, STATUS_SCAN_RECORDS_MAX);
            long age = bl.oldestHlc() == 0 ? 0 : Math.max(0, now - HybridClock.millis(bl.oldestHlc())) / 1000;
            AckedRanges r = p == null ? null : p.cursor(lane);
            lanes.put(
                    lane,
                    new SyncStatus.LaneBacklog(
                            bl.records(),
                            bl.bytes(),
                            bl.exact(),
                            age,
                            r == null ? -1 : r.rangeCount(),
                            r == null ? -1 : r.firstGap(1)));
        }
        return HttpResponse.ok(new SyncStatus(link, lanes).toJson()).contentType(MediaType.APPLICATION_JSON_TYPE);
    }
}

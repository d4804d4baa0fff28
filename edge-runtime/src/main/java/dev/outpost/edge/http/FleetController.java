package dev.outpost.edge.http;

import dev.outpost.edge.config.ConfigException;
import dev.outpost.edge.config.LiveConfig;
import dev.outpost.edge.hub.FleetChanges;
import dev.outpost.edge.hub.FleetLogs;
import dev.outpost.edge.hub.Hub;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.edge.query.EventQueries;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.json.JsonTree;
import dev.outpost.sync.wire.FleetChange;
import dev.outpost.sync.wire.FleetNodes;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.QueryValue;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fleet queries on a hub: what each node pushed, by node, stream and time. Same paging and
 * output as GET /v1/events (sequence numbers are the hub's; each event is as the node stored it).
 * And the fleet changes an operator publishes for the nodes to pull (PUT/DELETE /v1/fleet/state,
 * streams, rules, config): 202 once published, 507 past hub.fleet_changes_bytes_max, 503 if Kafka
 * did not confirm. With hub.backend: kafka the node logs are not here: GET /v1/fleet/events answers
 * 501 naming the topics to read instead (docs/FLEET-KAFKA.md).
 */
@Controller("/v1/fleet")
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "404", ref = OpenApiController.NOT_FOUND)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "413", ref = OpenApiController.CONTENT_TOO_LARGE)
@ApiResponse(responseCode = "415", ref = OpenApiController.UNSUPPORTED_MEDIA_TYPE)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class FleetController {
    private final Hub hub; // null: not a hub
    private final LiveConfig config;
    private final EventQueries queries;
    private final CursorSeal cursorSeal;
    private final FleetNodesFanOut fanOut; // null: not a hub of a fleet of hubs

    public FleetController(@Nullable Hub hub, LiveConfig config, EventQueries queries, CursorSeal cursorSeal) {
        this.hub = hub;
        this.config = config;
        this.queries = queries;
        this.cursorSeal = cursorSeal;
        this.fanOut = hub != null && hub.fleetOfHubs() ? new FleetNodesFanOut() : null;
    }

    private HttpResponse<?> notHub() {
        return Problems.response(
                404, "Not a hub", "this agent is not in hub mode (run 'outpost hub' or set hub.enabled)", 0, null);
    }

    /**
     * The nodes this hub accepts, and what it has received from each, per lane; on a fleet of hubs (hub.backend:
     * kafka), a node another hub owns is as its owner tells, with {@code hub} naming the owner.
     */
    @Get(value = "/nodes", produces = MediaType.APPLICATION_JSON)
    @io.micronaut.scheduling.annotation.ExecuteOn(io.micronaut.scheduling.TaskExecutors.BLOCKING)
    public HttpResponse<?> nodes(io.micronaut.http.HttpRequest<?> request) {
        if (hub == null) {
            return notHub();
        }
        List<FleetNodes.Node> nodes = new ArrayList<>();
        Map<String, String> owners = new LinkedHashMap<>();
        for (String node : config.current().hub().nodes().keySet()) {
            String owner = fanOut == null || OwnerForward.forwarded(request) ? null : hub.ownerUrl(node);
            if (owner != null) {
                owners.put(node, owner);
            }
            // On a Kafka hub, a node whose shard another hub owns is that hub's to tell of (docs/FLEET-KAFKA.md).
            boolean seen = hub.seen(node);
            Map<Lane, FleetNodes.Received> lanes = new EnumMap<>(Lane.class);
            if (seen) {
                for (Lane lane : Lane.values()) {
                    AckedRanges r = hub.receiver().received(node, lane);
                    lanes.put(lane, new FleetNodes.Received(r.rangeCount(), r.acknowledgedCount(), r.firstGap(1)));
                }
            }
            nodes.add(new FleetNodes.Node(node, seen, lanes, hub.activity().of(node)));
        }
        byte[] json = new FleetNodes(nodes).toJson();
        if (!owners.isEmpty()) {
            json = fanOut.merge(json, owners, request);
        }
        return HttpResponse.ok(json).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    /** A change for its target (a node of hub.nodes, or {@code all}), published for the nodes to pull. */
    private HttpResponse<?> publish(FleetChange change) {
        if (hub == null) {
            return notHub();
        }
        String target = change.target();
        if (!FleetChange.ALL_NODES.equals(target)
                && !config.current().hub().nodes().containsKey(target)) {
            return Problems.response(400, "Invalid target", "target must be 'all' or a node of hub.nodes", 0, "target");
        }
        return switch (hub.changes().publish(change)) {
            case FleetChanges.Outcome.Done d ->
                HttpResponse.accepted().body(d.published().toJson()).contentType(MediaType.APPLICATION_JSON_TYPE);
            case FleetChanges.Outcome.Full f ->
                Problems.response(
                        507,
                        "Fleet changes full",
                        "this hub holds " + f.liveBytes() + " bytes of fleet changes and this one takes "
                                + f.changeBytes() + ": past hub.fleet_changes_bytes_max (" + f.bytesMax()
                                + " bytes); replace or delete changes of the same objects, or raise the limit on"
                                + " every hub",
                        0,
                        null);
            case FleetChanges.Outcome.TooLarge t ->
                Problems.response(
                        413,
                        "Change too large",
                        "the change is " + t.changeBytes() + " bytes; the fleet topic takes at most " + t.bytesMax(),
                        0,
                        null);
            case FleetChanges.Outcome.Unavailable u -> Problems.response(503, "Not published", u.detail(), 0, null);
        };
    }

    private static Object jsonObject(byte[] body, String what) {
        Object tree;
        try {
            tree = JsonTree.parse(body, 0, body.length);
        } catch (RuntimeException e) {
            throw new ProblemException(400, "Invalid " + what, "malformed JSON: " + e.getMessage(), 0, null);
        }
        if (!(tree instanceof java.util.Map<?, ?>)) {
            throw new ProblemException(400, "Invalid " + what, "the body must be a JSON object", 0, null);
        }
        return tree;
    }

    private static void checkNames(String... names) {
        for (String n : names) {
            if (n == null || !n.matches("[A-Za-z0-9._:-]{1,128}")) {
                throw new ProblemException(
                        400, "Invalid name", "'" + n + "' must be 1-128 characters of A-Z a-z 0-9 . _ - :", 0, null);
            }
        }
    }

    /** Sets a state document on the target nodes: PUT /v1/fleet/state/{target}/{namespace}/{id}. */
    @ApiResponse(responseCode = "507", ref = OpenApiController.INSUFFICIENT_STORAGE)
    @io.micronaut.http.annotation.Put(
            value = "/state/{target}/{namespace}/{id}",
            consumes = MediaType.APPLICATION_JSON,
            produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> putState(
            @io.micronaut.http.annotation.PathVariable String target,
            @io.micronaut.http.annotation.PathVariable String namespace,
            @io.micronaut.http.annotation.PathVariable String id,
            @io.micronaut.http.annotation.Body byte[] body) {
        checkNames(target, namespace, id);
        if (body.length > config.current().state().docBytesMax()) {
            return Problems.response(413, "Document too large", "at most state.doc_bytes_max bytes", 0, null);
        }
        Object doc = jsonObject(body, "document");
        return publish(new FleetChange.StateChange(
                target, namespace, id, false, config.current().node().id(), doc));
    }

    /** Deletes a state document on the target nodes. */
    @ApiResponse(responseCode = "507", ref = OpenApiController.INSUFFICIENT_STORAGE)
    @io.micronaut.http.annotation.Delete(
            value = "/state/{target}/{namespace}/{id}",
            produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> deleteState(
            @io.micronaut.http.annotation.PathVariable String target,
            @io.micronaut.http.annotation.PathVariable String namespace,
            @io.micronaut.http.annotation.PathVariable String id) {
        checkNames(target, namespace, id);
        return publish(new FleetChange.StateChange(
                target, namespace, id, true, config.current().node().id(), null));
    }

    /** Declares a stream on the target nodes: PUT /v1/fleet/streams/{target}/{name}, body as PUT /v1/streams/{name}. */
    @ApiResponse(responseCode = "507", ref = OpenApiController.INSUFFICIENT_STORAGE)
    @io.micronaut.http.annotation.Put(
            value = "/streams/{target}/{name}",
            consumes = MediaType.APPLICATION_JSON,
            produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> putStream(
            @io.micronaut.http.annotation.PathVariable String target,
            @io.micronaut.http.annotation.PathVariable String name,
            @io.micronaut.http.annotation.Body byte[] body) {
        checkNames(target, name);
        Object def = jsonObject(body, "stream");
        return publish(new FleetChange.StreamChange(
                target, name, config.current().node().id(), def));
    }

    /**
     * Defines or replaces an engine rule on the target nodes: PUT /v1/fleet/rules/{target}/{name}, body as
     * PUT /v1/rules/{name}. The rule is checked here as far as the hub can (names, operators, values); each node checks
     * it against its own stream schemas when it applies it.
     */
    @ApiResponse(responseCode = "507", ref = OpenApiController.INSUFFICIENT_STORAGE)
    @io.micronaut.http.annotation.Put(
            value = "/rules/{target}/{name}",
            consumes = MediaType.APPLICATION_JSON,
            produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> putRule(
            @io.micronaut.http.annotation.PathVariable String target,
            @io.micronaut.http.annotation.PathVariable String name,
            @io.micronaut.http.annotation.Body byte[] body) {
        checkNames(target);
        Object def = jsonObject(body, "rule");
        try {
            dev.outpost.edge.engine.RuleBook.checkName(name);
            dev.outpost.edge.engine.RuleSpec.parse(name, def);
        } catch (dev.outpost.edge.engine.RuleRefusal e) {
            return RulesController.refused(e);
        }
        return publish(
                new FleetChange.RuleChange(target, name, config.current().node().id(), def));
    }

    /** Deletes an engine rule on the target nodes: DELETE /v1/fleet/rules/{target}/{name}. */
    @ApiResponse(responseCode = "507", ref = OpenApiController.INSUFFICIENT_STORAGE)
    @io.micronaut.http.annotation.Delete(value = "/rules/{target}/{name}", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> deleteRule(
            @io.micronaut.http.annotation.PathVariable String target,
            @io.micronaut.http.annotation.PathVariable String name) {
        checkNames(target, name);
        return publish(
                new FleetChange.RuleChange(target, name, config.current().node().id(), null));
    }

    /**
     * Changes configuration on the target nodes: PUT /v1/fleet/config/{target} with a JSON object of
     * live keys (GET /v1/config lists them) to values, or to null to bring back the node's file value.
     * Each key and value is checked here as the node will check it; a node still refuses a change
     * that breaks a rule with its own file (e.g. query.limit_default above its query.limit_max).
     */
    @ApiResponse(responseCode = "507", ref = OpenApiController.INSUFFICIENT_STORAGE)
    @io.micronaut.http.annotation.Put(
            value = "/config/{target}",
            consumes = MediaType.APPLICATION_JSON,
            produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> putConfig(
            @io.micronaut.http.annotation.PathVariable String target, @io.micronaut.http.annotation.Body byte[] body) {
        checkNames(target);
        Map<?, ?> settings = (Map<?, ?>) jsonObject(body, "configuration");
        if (settings.isEmpty()) {
            return Problems.response(
                    400,
                    "Invalid configuration",
                    "the body must set at least one of: " + String.join(", ", LiveConfig.keys()),
                    0,
                    null);
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : settings.entrySet()) {
            String key = String.valueOf(e.getKey());
            Object v = e.getValue() == JsonTree.NULL ? null : e.getValue(); // null: back to the node's file value
            try {
                LiveConfig.check(key, v);
            } catch (ConfigException ex) {
                return Problems.response(400, "Invalid configuration", ex.getMessage(), 0, ex.key());
            }
            values.put(key, v);
        }
        return publish(
                new FleetChange.ConfigChange(target, config.current().node().id(), values));
    }

    /**
     * GET /v1/fleet/events?node=N plus the parameters of GET /v1/events (on the hub's receipt time),
     * and node_from_time / node_to_time on the node's own ingest time.
     */
    @ApiResponse(responseCode = "501", ref = OpenApiController.NOT_IMPLEMENTED)
    @Get(value = "/events", produces = EventsController.NDJSON)
    public HttpResponse<?> events(
            @Nullable @QueryValue String node,
            @Nullable @QueryValue String stream,
            @Nullable @QueryValue("from_seq") String fromSeq,
            @Nullable @QueryValue("from_time") String fromTime,
            @Nullable @QueryValue("to_time") String toTime,
            @Nullable @QueryValue("node_from_time") String nodeFromTime,
            @Nullable @QueryValue("node_to_time") String nodeToTime,
            @Nullable @QueryValue String limit,
            @Nullable @QueryValue String cursor) {
        if (hub == null) {
            return notHub();
        }
        if (node == null
                || !EventParser.validName(node)
                || !config.current().hub().nodes().containsKey(node)) {
            return Problems.response(400, "Invalid query", "node must name one of the nodes in hub.nodes", 0, "node");
        }
        if (hub.kafkaBackend()) {
            return Problems.response(
                    501,
                    Problems.KAFKA_BACKEND,
                    Problems.kafkaBackend(
                            "GET /v1/fleet/events",
                            config.current().hub().kafka().topicPrefix()),
                    0,
                    "hub.backend");
        }
        if (!hub.fleetLogs().exists(node)) {
            return Problems.response(404, "No data", "node '" + node + "' has not pushed anything yet", 0, "node");
        }
        FleetLogs.Lease lease = hub.fleetLogs().lease(node);
        try {
            LanedEventLog log = lease.log();
            HttpResponse<?> r = EventsController.page(
                    queries,
                    cursorSeal,
                    log,
                    lease::close,
                    node,
                    stream,
                    fromSeq,
                    fromTime,
                    toTime,
                    nodeFromTime,
                    nodeToTime,
                    limit,
                    cursor);
            if (r.getBody()
                    .filter(b -> b instanceof io.micronaut.http.server.types.files.StreamedFile)
                    .isEmpty()) {
                lease.close(); // an error answer: no page holds the log
            }
            return r;
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }
}

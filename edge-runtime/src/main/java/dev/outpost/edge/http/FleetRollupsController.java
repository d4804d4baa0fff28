package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.edge.config.LiveConfig;
import dev.outpost.edge.engine.rollup.FinalWindow;
import dev.outpost.edge.engine.rollup.FleetRollups;
import dev.outpost.edge.engine.rollup.RollupRefusal;
import dev.outpost.edge.engine.rollup.Row;
import dev.outpost.edge.hub.Hub;
import dev.outpost.store.json.JsonTree;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The nodes' rollups on a hub: {@code GET /v1/fleet/rollups} (each rollup and the nodes that sent windows of it) and
 * {@code GET /v1/fleet/rollups/{name}?node=&from=&to=&limit=&cursor=&FIELD=VALUE}, the node's rollup query over the
 * final windows the nodes sent: one node's with {@code node}, else all nodes merged per (window, group). Same rows and
 * paging as {@code GET /v1/rollups/{name}}; the trailer's {@code status} names the nodes merged. With hub.backend: kafka,
 * 501 naming the topics (docs/FLEET-KAFKA.md).
 */
@Controller("/v1/fleet/rollups")
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "404", ref = OpenApiController.NOT_FOUND)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "501", ref = OpenApiController.NOT_IMPLEMENTED)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class FleetRollupsController {
    private static final Set<String> PARAMETERS = Set.of("node", "from", "to", "limit", "cursor");

    private final Hub hub; // null: not a hub
    private final LiveConfig config;

    public FleetRollupsController(@Nullable Hub hub, LiveConfig config) {
        this.hub = hub;
        this.config = config;
    }

    private static HttpResponse<String> notHub() {
        return Problems.response(
                404, "Not a hub", "this agent is not in hub mode (run 'outpost hub' or set hub.enabled)", 0, null);
    }

    /**
     * With hub.backend: kafka the final windows are records of the events topics (stream {@value FinalWindow#STREAM},
     * from whichever hub took each push), not all in this hub's file: refused rather than answered in part.
     */
    private HttpResponse<String> kafkaBackend(String what) {
        return Problems.response(
                501,
                Problems.KAFKA_BACKEND,
                Problems.kafkaBackend(what, config.current().hub().kafka().topicPrefix())
                        + "; the final rollup windows are the records of stream " + FinalWindow.STREAM,
                0,
                "hub.backend");
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<String> list() {
        if (hub == null) {
            return notHub();
        }
        if (hub.kafkaBackend()) {
            return kafkaBackend("GET /v1/fleet/rollups");
        }
        Map<String, List<String>> all = hub.rollups().rollups();
        return HttpResponse.ok(Json.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("rollups");
            for (Map.Entry<String, List<String>> e : all.entrySet()) {
                g.writeStartObject();
                g.writeStringField("name", e.getKey());
                g.writeArrayFieldStart("nodes");
                for (String n : e.getValue()) {
                    g.writeString(n);
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    /** One page of windows, of one node or of all merged. */
    @Get(value = "/{name}", produces = EventsController.NDJSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<?> windows(@PathVariable String name, HttpRequest<?> request) {
        if (hub == null) {
            return notHub();
        }
        if (hub.kafkaBackend()) {
            return kafkaBackend("GET /v1/fleet/rollups/{name}");
        }
        Map<String, List<String>> params = request.getParameters().asMap();
        Map<String, String> filters = new LinkedHashMap<>();
        params.forEach((k, v) -> {
            if (!PARAMETERS.contains(k)) {
                filters.put(k, v.getFirst());
            }
        });
        String node = RollupsController.first(params, "node");
        if (node != null && !config.current().hub().nodes().containsKey(node)) {
            return Problems.response(
                    400, "Invalid query", "node must be one of hub.nodes, not '" + node + "'", 0, "node");
        }
        long from = params.containsKey("from")
                ? EventsController.parseTime(RollupsController.first(params, "from"), "from")
                : 0;
        long to = params.containsKey("to")
                ? EventsController.parseTime(RollupsController.first(params, "to"), "to")
                : Long.MAX_VALUE;
        int limit = params.containsKey("limit")
                ? RollupsController.limit(RollupsController.first(params, "limit"))
                : RollupsController.LIMIT_DEFAULT;
        try {
            FleetRollups.Answer a = hub.rollups()
                    .query(node, name, from, to, filters, limit, RollupsController.first(params, "cursor"));
            StringBuilder out = new StringBuilder();
            for (Row r : a.page().rows()) {
                out.append(Json.write(r::writeJson)).append('\n');
            }
            out.append(Json.write(g -> trailer(g, name, a))).append('\n');
            return HttpResponse.ok(out.toString()).contentType(EventsController.NDJSON);
        } catch (RollupRefusal e) {
            return RollupsController.refused(e);
        }
    }

    private static void trailer(JsonGenerator g, String name, FleetRollups.Answer a) throws IOException {
        g.writeStartObject();
        g.writeStringField("next_cursor", a.page().nextCursor());
        g.writeNumberField("count", a.page().rows().size());
        g.writeObjectFieldStart("status");
        g.writeStringField("name", name);
        g.writeFieldName("spec");
        JsonTree.write(g, a.spec().toTree());
        g.writeArrayFieldStart("nodes");
        for (String n : a.nodes()) {
            g.writeString(n);
        }
        g.writeEndArray();
        g.writeArrayFieldStart("other_definitions");
        for (String n : a.otherDefinitions()) {
            g.writeString(n);
        }
        g.writeEndArray();
        g.writeEndObject();
        g.writeEndObject();
    }
}

package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.edge.Agent;
import dev.outpost.edge.engine.DefinitionConflict;
import dev.outpost.edge.engine.RollupBook;
import dev.outpost.edge.engine.RuleBook;
import dev.outpost.edge.engine.rollup.Page;
import dev.outpost.edge.engine.rollup.RollupRefusal;
import dev.outpost.edge.engine.rollup.Row;
import dev.outpost.store.json.JsonTree;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Put;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rollups: {@code GET /v1/rollups} (definitions and progress), {@code GET /v1/rollups/{name}} (windows as NDJSON, the
 * last line a trailer with the cursor and the rollup's progress), {@code PUT|DELETE /v1/rollups/{name}}.
 */
@Controller("/v1/rollups")
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "404", ref = OpenApiController.NOT_FOUND)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "409", ref = OpenApiController.CONFLICT)
@ApiResponse(responseCode = "415", ref = OpenApiController.UNSUPPORTED_MEDIA_TYPE)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
@ApiResponse(responseCode = "507", ref = OpenApiController.INSUFFICIENT_STORAGE)
public class RollupsController {
    /** Windows per page when the request does not say. */
    static final int LIMIT_DEFAULT = 1_000;

    private static final Set<String> PARAMETERS = Set.of("from", "to", "limit", "cursor");

    private final RollupBook rollups;
    private final Agent agent;

    public RollupsController(RollupBook rollups, Agent agent) {
        this.rollups = rollups;
        this.agent = agent;
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public String list() {
        long last = agent.log().lastSeq();
        return Json.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("rollups");
            for (RollupBook.Entry e : rollups.list()) {
                g.writeStartObject();
                g.writeStringField("name", e.spec().name());
                g.writeStringField("source", e.source());
                g.writeFieldName("status");
                rollups.rollups().status(e.spec().name(), last).writeJson(g);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /** One page of windows; {@code from}/{@code to} bound the window starts (epoch ms or ISO-8601). */
    @Get(value = "/{name}", produces = EventsController.NDJSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<?> windows(@PathVariable String name, HttpRequest<?> request) {
        Map<String, String> filters = new LinkedHashMap<>();
        Map<String, List<String>> params = request.getParameters().asMap();
        params.forEach((k, v) -> {
            if (!PARAMETERS.contains(k)) {
                filters.put(k, v.getFirst());
            }
        });
        long from = params.containsKey("from") ? EventsController.parseTime(first(params, "from"), "from") : 0;
        long to = params.containsKey("to") ? EventsController.parseTime(first(params, "to"), "to") : Long.MAX_VALUE;
        int limit = params.containsKey("limit") ? limit(first(params, "limit")) : LIMIT_DEFAULT;
        try {
            Page page = rollups.rollups().query(name, from, to, filters, limit, first(params, "cursor"));
            long last = agent.log().lastSeq();
            StringBuilder out = new StringBuilder();
            for (Row r : page.rows()) {
                out.append(Json.write(r::writeJson)).append('\n');
            }
            out.append(Json.write(g -> trailer(g, name, page, last))).append('\n');
            return HttpResponse.ok(out.toString()).contentType(EventsController.NDJSON);
        } catch (RollupRefusal e) {
            return refused(e);
        }
    }

    private void trailer(JsonGenerator g, String name, Page page, long last) throws IOException {
        g.writeStartObject();
        g.writeStringField("next_cursor", page.nextCursor());
        g.writeNumberField("count", page.rows().size());
        g.writeFieldName("status");
        rollups.rollups().status(name, last).writeJson(g);
        g.writeEndObject();
    }

    @Put(value = "/{name}", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<String> put(@PathVariable String name, @Body byte[] body) {
        Object tree;
        try {
            tree = JsonTree.parse(body, 0, body.length);
        } catch (RuntimeException e) {
            return Problems.response(400, "Invalid rollup", "malformed JSON: " + e.getMessage(), 0, null);
        }
        boolean existed = rollups.get(name) != null;
        try {
            RollupBook.Entry e = rollups.put(name, tree, RuleBook.FROM_API);
            String json = Json.write(g -> {
                g.writeStartObject();
                g.writeStringField("name", e.spec().name());
                g.writeStringField("source", e.source());
                g.writeFieldName("rollup");
                JsonTree.write(g, e.spec().toTree());
                g.writeEndObject();
            });
            return existed ? HttpResponse.ok(json) : HttpResponse.created(json);
        } catch (RollupRefusal e) {
            return refused(e);
        } catch (DefinitionConflict e) {
            return Problems.response(409, "Declared in config", e.getMessage(), 0, null);
        }
    }

    @Delete(value = "/{name}", produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<String> delete(@PathVariable String name) {
        try {
            return rollups.delete(name)
                    ? HttpResponse.noContent()
                    : Problems.response(404, "Not found", "no rollup named '" + name + "'", 0, null);
        } catch (DefinitionConflict e) {
            return Problems.response(409, "Declared in config", e.getMessage(), 0, null);
        }
    }

    static HttpResponse<String> refused(RollupRefusal e) {
        return e.kind() == RollupRefusal.Kind.NOT_FOUND
                ? Problems.response(404, "Not found", e.getMessage(), 0, null)
                : Problems.response(400, "Invalid rollup", e.getMessage(), 0, e.field());
    }

    static String first(Map<String, List<String>> params, String name) {
        List<String> v = params.get(name);
        return v == null || v.isEmpty() ? null : v.getFirst();
    }

    static int limit(String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new ProblemException(400, "Invalid query", "limit must be a whole number", 0, "limit");
        }
    }
}

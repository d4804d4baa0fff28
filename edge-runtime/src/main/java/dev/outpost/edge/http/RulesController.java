package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.edge.engine.DefinitionConflict;
import dev.outpost.edge.engine.RuleBook;
import dev.outpost.edge.engine.RuleRefusal;
import dev.outpost.store.json.JsonTree;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
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
import java.util.Map;

/**
 * The engine's rules: {@code GET /v1/rules}, {@code GET|PUT|DELETE /v1/rules/{name}} (docs/RULES.md). A refused rule
 * is 422 naming the rule, the condition and the field; a rule declared in the configuration file is 409 to change.
 */
@Controller("/v1/rules")
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "404", ref = OpenApiController.NOT_FOUND)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "409", ref = OpenApiController.CONFLICT)
@ApiResponse(responseCode = "415", ref = OpenApiController.UNSUPPORTED_MEDIA_TYPE)
@ApiResponse(responseCode = "422", ref = OpenApiController.UNPROCESSABLE)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class RulesController {
    private final RuleBook rules;

    public RulesController(RuleBook rules) {
        this.rules = rules;
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    public String list() {
        return Json.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("rules");
            for (RuleBook.Rule r : rules.list()) {
                write(g, r);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    @Get(value = "/{name}", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> get(@PathVariable String name) {
        RuleBook.Rule r = rules.get(name);
        return r == null ? notFound(name) : HttpResponse.ok(Json.write(g -> write(g, r)));
    }

    @Put(value = "/{name}", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<String> put(@PathVariable String name, @Body byte[] body) {
        Object tree;
        try {
            tree = JsonTree.parse(body, 0, body.length);
        } catch (RuntimeException e) {
            return Problems.response(400, "Invalid rule", "malformed JSON: " + e.getMessage(), 0, null);
        }
        if (!(tree instanceof Map<?, ?>)) {
            return Problems.response(400, "Invalid rule", "the body must be a JSON object (docs/RULES.md)", 0, null);
        }
        boolean existed = rules.get(name) != null;
        try {
            RuleBook.Rule r = rules.put(name, tree, RuleBook.FROM_API);
            String json = Json.write(g -> write(g, r));
            return existed ? HttpResponse.ok(json) : HttpResponse.created(json);
        } catch (RuleRefusal e) {
            return refused(e);
        } catch (DefinitionConflict e) {
            return Problems.response(409, "Declared in config", e.getMessage(), 0, null);
        }
    }

    @Delete(value = "/{name}", produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<String> delete(@PathVariable String name) {
        try {
            return rules.delete(name) ? HttpResponse.noContent() : notFound(name);
        } catch (DefinitionConflict e) {
            return Problems.response(409, "Declared in config", e.getMessage(), 0, null);
        }
    }

    /** 422 naming the rule, the condition (its 1-based index path) and the field. */
    static MutableHttpResponse<String> refused(RuleRefusal e) {
        String body = Json.write(g -> {
            g.writeStartObject();
            g.writeStringField("type", Problems.TYPE);
            g.writeStringField("title", "Invalid rule");
            g.writeNumberField("status", 422);
            g.writeStringField("detail", e.getMessage());
            if (e.rule() != null) {
                g.writeStringField("rule", e.rule());
            }
            if (e.condition() != null) {
                g.writeStringField("condition", e.condition());
            }
            if (e.field() != null) {
                g.writeStringField("field", e.field());
            }
            g.writeEndObject();
        });
        return HttpResponse.<String>status(io.micronaut.http.HttpStatus.UNPROCESSABLE_ENTITY)
                .body(body)
                .contentType(Problems.MEDIA_TYPE);
    }

    private static HttpResponse<String> notFound(String name) {
        return Problems.response(404, "Not found", "no rule named '" + name + "'", 0, null);
    }

    private static void write(JsonGenerator g, RuleBook.Rule r) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", r.spec().name());
        g.writeStringField("source", r.source());
        g.writeFieldName("rule");
        JsonTree.write(g, r.spec().toTree());
        g.writeEndObject();
    }
}

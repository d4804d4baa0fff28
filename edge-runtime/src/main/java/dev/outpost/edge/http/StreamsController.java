package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.edge.streams.StreamRefusal;
import dev.outpost.edge.streams.StreamRegistry;
import dev.outpost.store.json.JsonTree;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Put;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;

/** Stream definitions: {@code PUT /v1/streams/{name}}, {@code GET /v1/streams[/{name}]}. */
@Controller("/v1/streams")
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "404", ref = OpenApiController.NOT_FOUND)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "409", ref = OpenApiController.CONFLICT)
@ApiResponse(responseCode = "415", ref = OpenApiController.UNSUPPORTED_MEDIA_TYPE)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
@ApiResponse(responseCode = "507", ref = OpenApiController.INSUFFICIENT_STORAGE)
public class StreamsController {
    private final StreamRegistry streams;

    public StreamsController(StreamRegistry streams) {
        this.streams = streams;
    }

    @Put(value = "/{name}", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<String> put(@PathVariable String name, @Body byte[] body) {
        Object tree;
        try {
            tree = JsonTree.parse(body, 0, body.length);
        } catch (RuntimeException e) {
            return Problems.response(400, "Invalid stream", "malformed JSON: " + e.getMessage(), 0, null);
        }
        try {
            return HttpResponse.ok(json(streams.put(name, tree)));
        } catch (StreamRefusal e) {
            return refused(e);
        }
    }

    /** The status and title of each kind of refusal (docs/API.md). */
    private static HttpResponse<String> refused(StreamRefusal e) {
        return switch (e.kind()) {
            case MALFORMED -> Problems.response(400, "Invalid stream", e.getMessage(), 0, e.field());
            case BAD_SCHEMA -> Problems.response(400, "Invalid schema", e.getMessage(), 0, e.field());
            case DECLARED_IN_CONFIG -> Problems.response(409, "Declared in config", e.getMessage(), 0, e.field());
            case TOO_MANY -> Problems.response(507, "Too many streams", e.getMessage(), 0, e.field());
        };
    }

    @Get(value = "/{name}", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> get(@PathVariable String name) {
        StreamRegistry.Stream s = streams.get(name);
        if (s == null) {
            return Problems.response(
                    404,
                    "Not found",
                    "stream '" + name + "' is not declared (undeclared streams are"
                            + " accepted as class normal, without schema)",
                    0,
                    null);
        }
        return HttpResponse.ok(json(s));
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    public String list() {
        List<StreamRegistry.Stream> all = streams.all().stream()
                .sorted(Comparator.comparing(StreamRegistry.Stream::name))
                .toList();
        return Json.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("streams");
            for (StreamRegistry.Stream s : all) {
                write(g, s);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private static String json(StreamRegistry.Stream s) {
        return Json.write(g -> write(g, s));
    }

    private static void write(JsonGenerator g, StreamRegistry.Stream s) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", s.name());
        g.writeStringField("priority", s.priority());
        g.writeNumberField("retention_seconds", s.retentionSeconds());
        g.writeFieldName("schema");
        if (s.schema() == null) {
            g.writeNull();
        } else {
            g.writeRawValue(new String(JsonTree.write(s.schema().source()), StandardCharsets.UTF_8));
        }
        g.writeStringField("source", s.fromConfig() ? "config" : "api");
        g.writeEndObject();
    }
}

package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import dev.outpost.edge.state.json.JsonTree;
import dev.outpost.edge.streams.StreamRefusal;
import dev.outpost.edge.streams.StreamRegistry;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Put;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;

/** Stream definitions: {@code PUT /v1/streams/{name}}, {@code GET /v1/streams[/{name}]}. */
@Controller("/v1/streams")
public class StreamsController {
    private final Agent agent;

    public StreamsController(Agent agent) {
        this.agent = agent;
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
            return HttpResponse.ok(json(agent.streams().put(name, tree)));
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
        StreamRegistry.Stream s = agent.streams().get(name);
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
        List<StreamRegistry.Stream> all = agent.streams().all().stream()
                .sorted(Comparator.comparing(StreamRegistry.Stream::name))
                .toList();
        StringBuilder b = new StringBuilder("{\"streams\":[");
        for (int i = 0; i < all.size(); i++) {
            b.append(i > 0 ? "," : "").append(json(all.get(i)));
        }
        return b.append("]}").toString();
    }

    private static String json(StreamRegistry.Stream s) {
        String schema = s.schema() == null
                ? "null"
                : new String(JsonTree.write(s.schema().source()), StandardCharsets.UTF_8);
        return "{\"name\":\"" + s.name() + "\",\"priority\":\"" + s.priority() + "\",\"retention_seconds\":"
                + s.retentionSeconds() + ",\"schema\":" + schema + ",\"source\":\""
                + (s.fromConfig() ? "config" : "api")
                + "\"}";
    }
}

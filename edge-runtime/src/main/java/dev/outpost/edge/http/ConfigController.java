package dev.outpost.edge.http;

import dev.outpost.edge.config.LiveConfig;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.swagger.v3.oas.annotations.responses.ApiResponse;

/**
 * GET /v1/config: the keys a hub may change at runtime, the value in force of each and where it
 * came from ({@code file}: the YAML file or its default; {@code hub}: set over pull), and the last
 * change this node refused. Other keys are not shown: they hold tokens and paths.
 */
@Controller("/v1/config")
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class ConfigController {
    private final LiveConfig live;

    public ConfigController(LiveConfig live) {
        this.live = live;
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    public String config() {
        var current = live.current();
        var file = live.file();
        var settings = live.settings();
        LiveConfig.Refusal r = live.lastRefusal();
        return Json.write(g -> {
            g.writeStartObject();
            g.writeObjectFieldStart("live");
            for (String key : LiveConfig.keys()) {
                g.writeObjectFieldStart(key);
                g.writeNumberField("value", current.liveValue(key));
                g.writeNumberField("file_value", file.liveValue(key));
                LiveConfig.Setting s = settings.get(key);
                if (s == null) {
                    g.writeStringField("source", "file");
                } else {
                    g.writeStringField("source", "hub");
                    g.writeStringField("hub", s.origin());
                    g.writeNumberField("hlc", s.hlc());
                    g.writeStringField("raw", s.rawValue());
                }
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeFieldName("last_refusal");
            if (r == null) {
                g.writeNull();
            } else {
                g.writeStartObject();
                g.writeNumberField("hlc", r.hlc());
                g.writeStringField("key", r.key());
                g.writeStringField("message", r.message());
                g.writeEndObject();
            }
            g.writeEndObject();
        });
    }
}

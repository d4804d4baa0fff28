package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import dev.outpost.edge.config.LiveConfig;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;

/**
 * GET /v1/config: the keys a hub may change at runtime, the value in force of each and where it
 * came from ({@code file}: the YAML file or its default; {@code hub}: set over pull), and the last
 * change this node refused. Other keys are not shown: they hold tokens and paths.
 */
@Controller("/v1/config")
public class ConfigController {
    private final Agent agent;

    public ConfigController(Agent agent) {
        this.agent = agent;
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    public String config() {
        LiveConfig live = agent.liveConfig();
        var current = live.current();
        var settings = live.settings();
        StringBuilder b = new StringBuilder(512).append("{\"live\":{");
        int i = 0;
        for (String key : LiveConfig.keys()) {
            b.append(i++ > 0 ? "," : "");
            Json.quote(b, key);
            b.append(":{\"value\":").append(current.liveValue(key)).append(",\"file_value\":");
            b.append(live.file().liveValue(key));
            LiveConfig.Setting s = settings.get(key);
            if (s == null) {
                b.append(",\"source\":\"file\"}");
            } else {
                b.append(",\"source\":\"hub\",\"hub\":");
                Json.quote(b, s.origin());
                b.append(",\"hlc\":").append(s.hlc()).append(",\"raw\":");
                Json.quote(b, s.rawValue());
                b.append('}');
            }
        }
        b.append("},\"last_refusal\":");
        LiveConfig.Refusal r = live.lastRefusal();
        if (r == null) {
            b.append("null");
        } else {
            b.append("{\"hlc\":").append(r.hlc()).append(",\"key\":");
            Json.quote(b, r.key());
            b.append(",\"message\":");
            Json.quote(b, r.message());
            b.append('}');
        }
        return b.append('}').toString();
    }
}

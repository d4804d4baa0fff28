package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;

/** /health (liveness and readiness) and /metrics (Prometheus text format). No token needed. */
@Controller
public class OpsController {
    private final Agent agent;

    public OpsController(Agent agent) {
        this.agent = agent;
    }

    @Get(value = "/health", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> health() {
        boolean ready = agent.ready();
        String body = "{\"status\":\"" + (ready ? "UP" : "DOWN") + "\",\"liveness\":\"UP\",\"readiness\":\""
                + (ready ? "UP" : "DOWN") + "\",\"last_seq\":" + agent.log().lastSeq() + "}";
        return HttpResponse.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
                .body(body);
    }

    @Get(value = "/health/liveness", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> liveness() {
        return HttpResponse.ok("{\"status\":\"UP\"}");
    }

    @Get(value = "/health/readiness", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> readiness() {
        boolean ready = agent.ready();
        return HttpResponse.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
                .body("{\"status\":\"" + (ready ? "UP" : "DOWN") + "\"}");
    }

    /** What was kept aside as corrupt (never deleted by the agent): GET /v1/quarantine. */
    @Get(value = "/v1/quarantine", produces = MediaType.APPLICATION_JSON)
    public String quarantine() {
        StringBuilder b = new StringBuilder("{\"quarantined\":[");
        var rows = agent.catalog().quarantine(1000);
        for (int i = 0; i < rows.size(); i++) {
            var r = rows.get(i);
            b.append(i > 0 ? "," : "")
                    .append("{\"kind\":\"")
                    .append(r.kind())
                    .append("\",\"location\":\"")
                    .append(r.location())
                    .append("\",\"file\":");
            Json.quote(b, r.file());
            b.append(",\"bytes\":")
                    .append(r.bytes())
                    .append(",\"found_at\":")
                    .append(r.foundAtMillis())
                    .append('}');
        }
        return b.append("]}").toString();
    }

    @Get(value = "/metrics", produces = "text/plain; version=0.0.4; charset=utf-8")
    public String metrics() {
        return agent.metrics().render();
    }
}

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

    @Get(value = "/metrics", produces = "text/plain; version=0.0.4; charset=utf-8")
    public String metrics() {
        return agent.metrics().render();
    }
}

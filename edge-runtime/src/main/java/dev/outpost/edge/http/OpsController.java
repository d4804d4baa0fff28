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

    /**
     * The governor: every dimension, the level, the interval, the registered actions with their counts, recent
     * actions, and data at risk.
     */
    @Get(value = "/v1/governor", produces = MediaType.APPLICATION_JSON)
    public String governor() {
        var g = agent.governor();
        var s = g.snapshot();
        StringBuilder b = new StringBuilder(1024);
        b.append("{\"level\":\"")
                .append(g.level().name().toLowerCase(java.util.Locale.ROOT))
                .append("\",\"interval_millis\":")
                .append(g.level().sampleIntervalMillis())
                .append(",\"sampled_at\":")
                .append(s == null ? 0 : s.atMillis())
                .append(",\"dimensions\":{");
        if (s != null) {
            int i = 0;
            for (var r : s.readings().values()) {
                b.append(i++ > 0 ? "," : "")
                        .append('"')
                        .append(r.dimension().name().toLowerCase(java.util.Locale.ROOT))
                        .append("\":{\"usage\":")
                        .append(r.usage())
                        .append(",\"limit\":")
                        .append(r.limit())
                        .append(",\"pressure\":")
                        .append(Math.round(r.pressure() * 1000) / 1000.0)
                        .append('}');
            }
        }
        b.append("},\"cgroup_memory_bytes\":")
                .append(dev.outpost.governor.ProcessProbes.cgroupMemoryBytes().usage())
                .append(",\"actions\":[");
        var names = g.actionNames();
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            b.append(i > 0 ? "," : "").append("{\"name\":");
            Json.quote(b, n);
            b.append(",\"runs\":")
                    .append(g.actionRuns(n))
                    .append(",\"failures\":")
                    .append(g.actionFailures(n))
                    .append('}');
        }
        b.append("],\"recent_actions\":[");
        var actions = g.recentActions();
        for (int i = 0; i < actions.size(); i++) {
            var a = actions.get(i);
            b.append(i > 0 ? "," : "")
                    .append("{\"at\":")
                    .append(a.atMillis())
                    .append(",\"action\":\"")
                    .append(a.action())
                    .append("\",\"level\":\"")
                    .append(a.level().name().toLowerCase(java.util.Locale.ROOT))
                    .append("\",\"detail\":");
            Json.quote(b, a.detail());
            b.append('}');
        }
        // Data at risk: what no upstream has acknowledged (everything, offline), lane by lane.
        var pusher = agent.pusher();
        long events = 0;
        long bytes = 0;
        long oldestHlc = 0;
        boolean exact = true;
        for (dev.outpost.store.Lane lane : dev.outpost.store.Lane.values()) {
            var bl = pusher == null
                    ? agent.offlineBacklog(lane, SyncController.STATUS_SCAN_RECORDS_MAX)
                    : pusher.backlog(lane, SyncController.STATUS_SCAN_RECORDS_MAX);
            events += bl.records();
            bytes += bl.bytes();
            exact &= bl.exact();
            if (bl.oldestHlc() != 0 && (oldestHlc == 0 || bl.oldestHlc() < oldestHlc)) {
                oldestHlc = bl.oldestHlc();
            }
        }
        long oldestAgeMillis = oldestHlc == 0
                ? 0
                : Math.max(0, System.currentTimeMillis() - dev.outpost.store.HybridClock.millis(oldestHlc));
        b.append("],\"data_at_risk\":{\"events\":")
                .append(events)
                .append(",\"bytes\":")
                .append(bytes)
                .append(",\"exact\":")
                .append(exact)
                .append(",\"oldest_age_seconds\":")
                .append(oldestAgeMillis / 1000)
                .append(",\"reason\":\"")
                .append(
                        pusher == null
                                ? "offline: no upstream is configured, so nothing is acknowledged upstream"
                                : "not yet acknowledged by " + pusher.hub())
                .append("\"}}");
        return b.toString();
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

    /**
     * The retention log, newest first: GET /v1/retention?limit=N. One entry per deleted log cycle
     * file, with its events per stream and how many of them upstream did not have yet (lost).
     */
    @Get(value = "/v1/retention", produces = MediaType.APPLICATION_JSON)
    public String retention(
            @io.micronaut.core.annotation.Nullable @io.micronaut.http.annotation.QueryValue String limit) {
        int n = 100;
        if (limit != null) {
            try {
                n = Integer.parseInt(limit);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > 1000) {
                throw new dev.outpost.edge.ingest.ProblemException(
                        400, "Invalid query", "limit must be 1 to 1000", 0, "limit");
            }
        }
        StringBuilder b = new StringBuilder("{\"deleted_cycles\":[");
        var rows = agent.catalog().retentionLog(n);
        for (int i = 0; i < rows.size(); i++) {
            var r = rows.get(i);
            b.append(i > 0 ? "," : "")
                    .append("{\"at\":")
                    .append(r.atMillis())
                    .append(",\"lane\":\"")
                    .append(r.lane())
                    .append("\",\"cycle\":")
                    .append(r.cycle())
                    .append(",\"first_seq\":")
                    .append(r.firstSeq())
                    .append(",\"last_seq\":")
                    .append(r.lastSeq())
                    .append(",\"bytes\":")
                    .append(r.bytes())
                    .append(",\"events\":")
                    .append(r.events())
                    .append(",\"unsynced_events\":")
                    .append(r.unsyncedEvents())
                    .append(",\"reason\":\"")
                    .append(r.reason())
                    .append("\",\"streams\":")
                    .append(r.streamsJson())
                    .append('}');
        }
        return b.append("]}").toString();
    }

    @Get(value = "/metrics", produces = "text/plain; version=0.0.4; charset=utf-8")
    public String metrics() {
        return agent.metrics().render();
    }
}

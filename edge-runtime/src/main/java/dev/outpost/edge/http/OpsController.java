package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.edge.Agent;
import dev.outpost.edge.governance.Governance;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.edge.upstream.Upstream;
import dev.outpost.governor.ActionEvent;
import dev.outpost.governor.Governor;
import dev.outpost.governor.ProcessProbes;
import dev.outpost.governor.Reading;
import dev.outpost.governor.Snapshot;
import dev.outpost.store.Catalog;
import dev.outpost.store.RetentionRecords;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.QueryValue;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/** /health (liveness and readiness), /metrics (Prometheus text format), and the operator's views. No token needed. */
@Controller
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class OpsController {
    /** /health and readiness: DOWN while starting or stopping, or too many connections (problem+json). */
    private static final String NOT_READY =
            "not ready (status DOWN, application/json), or every connection of the budget in use (problem+json)";
    /** Most entries GET /v1/quarantine lists. */
    static final int QUARANTINE_LISTED_MAX = 1000;

    /** Most entries GET /v1/retention lists, and how many by default. */
    static final int RETENTION_LISTED_MAX = 1000;

    static final int RETENTION_LISTED_DEFAULT = 100;

    private final Agent agent;
    private final Governance governance;
    private final Upstream upstream;
    private final Catalog catalog;
    private final Metrics metrics;

    public OpsController(Agent agent, Governance governance, Upstream upstream, Catalog catalog, Metrics metrics) {
        this.agent = agent;
        this.governance = governance;
        this.upstream = upstream;
        this.catalog = catalog;
        this.metrics = metrics;
    }

    @ApiResponse(
            responseCode = "503",
            description = NOT_READY,
            content = {
                @Content(mediaType = MediaType.APPLICATION_JSON),
                @Content(mediaType = Problems.MEDIA_TYPE, schema = @Schema(ref = OpenApiController.PROBLEM))
            })
    @Get(value = "/health", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<byte[]> health() {
        return health(agent).toMicronaut();
    }

    /** The answer to GET /health (the router's and the fast path's): 200 when ready, else 503. */
    static Answer health(Agent agent) {
        boolean ready = agent.ready();
        long lastSeq = agent.log().lastSeq();
        byte[] body = Json.writeUtf8(g -> {
            g.writeStartObject();
            g.writeStringField("status", ready ? "UP" : "DOWN");
            g.writeStringField("liveness", "UP");
            g.writeStringField("readiness", ready ? "UP" : "DOWN");
            g.writeNumberField("last_seq", lastSeq);
            g.writeEndObject();
        });
        return Answer.json(ready ? 200 : 503, body);
    }

    @Get(value = "/health/liveness", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> liveness() {
        return HttpResponse.ok(status("UP"));
    }

    @ApiResponse(
            responseCode = "503",
            description = NOT_READY,
            content = {
                @Content(mediaType = MediaType.APPLICATION_JSON),
                @Content(mediaType = Problems.MEDIA_TYPE, schema = @Schema(ref = OpenApiController.PROBLEM))
            })
    @Get(value = "/health/readiness", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> readiness() {
        boolean ready = agent.ready();
        return HttpResponse.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
                .body(status(ready ? "UP" : "DOWN"));
    }

    private static String status(String status) {
        return Json.write(g -> {
            g.writeStartObject();
            g.writeStringField("status", status);
            g.writeEndObject();
        });
    }

    /**
     * The governor: every dimension, the level, the interval, the registered actions with their counts, recent
     * actions, and data at risk.
     */
    @ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
    @Get(value = "/v1/governor", produces = MediaType.APPLICATION_JSON)
    public String governor() {
        Governor g = governance.governor();
        Snapshot s = g.snapshot();
        Upstream.AtRisk risk = upstream.atRisk(SyncController.STATUS_SCAN_RECORDS_MAX);
        long cgroupBytes = ProcessProbes.cgroupMemoryBytes().usage();
        return Json.write(j -> {
            j.writeStartObject();
            j.writeStringField("level", lower(g.level().name()));
            j.writeNumberField("interval_millis", g.level().sampleIntervalMillis());
            j.writeNumberField("sampled_at", s == null ? 0 : s.atMillis());
            j.writeObjectFieldStart("dimensions");
            if (s != null) {
                for (Reading r : s.readings().values()) {
                    j.writeObjectFieldStart(lower(r.dimension().name()));
                    j.writeNumberField("usage", r.usage());
                    j.writeNumberField("limit", r.limit());
                    j.writeNumberField("pressure", Math.round(r.pressure() * 1000) / 1000.0);
                    j.writeEndObject();
                }
            }
            j.writeEndObject();
            j.writeNumberField("cgroup_memory_bytes", cgroupBytes);
            writeActions(j, g);
            writeAtRisk(j, risk);
            j.writeEndObject();
        });
    }

    private static void writeActions(JsonGenerator j, Governor g) throws IOException {
        j.writeArrayFieldStart("actions");
        for (String n : g.actionNames()) {
            j.writeStartObject();
            j.writeStringField("name", n);
            j.writeNumberField("runs", g.actionRuns(n));
            j.writeNumberField("failures", g.actionFailures(n));
            j.writeEndObject();
        }
        j.writeEndArray();
        j.writeArrayFieldStart("recent_actions");
        for (ActionEvent a : g.recentActions()) {
            j.writeStartObject();
            j.writeNumberField("at", a.atMillis());
            j.writeStringField("action", a.action());
            j.writeStringField("level", lower(a.level().name()));
            j.writeStringField("detail", a.detail());
            j.writeEndObject();
        }
        j.writeEndArray();
    }

    /** Data at risk: what no upstream has acknowledged (everything, offline). */
    private static void writeAtRisk(JsonGenerator j, Upstream.AtRisk risk) throws IOException {
        j.writeObjectFieldStart("data_at_risk");
        j.writeNumberField("events", risk.events());
        j.writeNumberField("bytes", risk.bytes());
        j.writeBooleanField("exact", risk.exact());
        j.writeNumberField("oldest_age_seconds", risk.oldestAgeSeconds());
        j.writeStringField("reason", risk.reason());
        j.writeEndObject();
    }

    private static String lower(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    /** What was kept aside as corrupt (never deleted by the agent): GET /v1/quarantine. */
    @ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
    @Get(value = "/v1/quarantine", produces = MediaType.APPLICATION_JSON)
    public String quarantine() {
        List<Catalog.QuarantineRow> rows = catalog.quarantine(QUARANTINE_LISTED_MAX);
        return Json.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("quarantined");
            for (Catalog.QuarantineRow r : rows) {
                g.writeStartObject();
                g.writeStringField("kind", r.kind());
                g.writeStringField("location", r.location());
                g.writeStringField("file", r.file());
                g.writeNumberField("bytes", r.bytes());
                g.writeNumberField("found_at", r.foundAtMillis());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /**
     * The retention log, newest first: GET /v1/retention?limit=N. One entry per deleted log cycle file, with its
     * events per stream and how many of them upstream did not have yet (lost).
     */
    @ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
    @ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
    @Get(value = "/v1/retention", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> retention(@Nullable @QueryValue String limit) {
        int n = RETENTION_LISTED_DEFAULT;
        if (limit != null) {
            try {
                n = Integer.parseInt(limit);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > RETENTION_LISTED_MAX) {
                return Problems.response(
                        400, "Invalid query", "limit must be 1 to " + RETENTION_LISTED_MAX, 0, "limit");
            }
        }
        List<RetentionRecords.RetentionRow> rows = catalog.retention().log(n);
        String body = Json.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("deleted_cycles");
            for (RetentionRecords.RetentionRow r : rows) {
                g.writeStartObject();
                g.writeNumberField("at", r.atMillis());
                g.writeStringField("lane", r.lane());
                g.writeNumberField("cycle", r.cycle());
                g.writeNumberField("first_seq", r.firstSeq());
                g.writeNumberField("last_seq", r.lastSeq());
                g.writeNumberField("bytes", r.bytes());
                g.writeNumberField("events", r.events());
                g.writeNumberField("unsynced_events", r.unsyncedEvents());
                g.writeStringField("reason", r.reason());
                g.writeFieldName("streams");
                g.writeRawValue(r.streamsJson()); // JSON the agent wrote itself (DiskRetention)
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
        return HttpResponse.ok(body).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    @Get(value = "/metrics", produces = "text/plain; version=0.0.4; charset=utf-8")
    public String metrics() {
        return metrics.render();
    }
}

package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import dev.outpost.edge.status.StatusHistory;
import dev.outpost.edge.status.StatusRecorder;
import dev.outpost.governor.Dimension;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.QueryValue;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The status page (issue #16): {@code GET /} and its two assets, written by us and served from the jar (no request
 * leaves the device), and {@code GET /v1/status/history}, the samples it charts. The page's script reads the
 * history and the operator endpoints (/v1/governor, /v1/sync/status, ...) like any client, with the API token the
 * operator types when the agent has one; the page itself, outside /v1, needs none (it holds no data).
 *
 * <p>Every answer of the page carries {@link #CONTENT_SECURITY_POLICY}: scripts and styles only from the agent's own
 * files (no inline script or style, no eval), requests only to the agent, no framing.
 */
@Controller
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class StatusController {
    /** Only the agent's own files and endpoints; nothing inline, nothing elsewhere. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self';"
            + " img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /** The page's files under /status/, each with its type; nothing else is served there. */
    private static final Map<String, String> ASSETS = Map.of(
            "status.js", "text/javascript; charset=utf-8",
            "status.css", "text/css; charset=utf-8");

    private static final String RESOURCES = "/dev/outpost/edge/status/";

    private final StatusRecorder recorder;
    private final Agent agent;
    private final byte[] page = resource("index.html");
    private final Map<String, byte[]> assets = Map.of(
            "status.js", resource("status.js"),
            "status.css", resource("status.css"));

    public StatusController(StatusRecorder recorder, Agent agent) {
        this.recorder = recorder;
        this.agent = agent;
    }

    private static byte[] resource(String name) {
        try (InputStream in = StatusController.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks the status page's " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Get(value = "/", produces = MediaType.TEXT_HTML)
    public HttpResponse<byte[]> page() {
        return secured(page, "text/html; charset=utf-8");
    }

    @Get(value = "/status/{file}")
    @ApiResponse(responseCode = "404", ref = OpenApiController.NOT_FOUND)
    public HttpResponse<?> asset(@PathVariable String file) {
        byte[] body = assets.get(file);
        if (body == null) {
            return Problems.response(404, "Not found", "the status page has no file " + file, 0, null);
        }
        return secured(body, ASSETS.get(file));
    }

    private static HttpResponse<byte[]> secured(byte[] body, String type) {
        return HttpResponse.ok(body)
                .contentType(type)
                .header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                .header("X-Content-Type-Options", "nosniff")
                .header("Referrer-Policy", "no-referrer")
                .header("Cache-Control", "no-cache");
    }

    /**
     * The samples taken after {@code since} (epoch milliseconds; default: the last hour), oldest first, with what the
     * page needs to read the rest: this node's id, whether it is a hub, and the alert stream.
     */
    @Get(value = "/v1/status/history", produces = MediaType.APPLICATION_JSON)
    @ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
    @ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
    public HttpResponse<?> history(@Nullable @QueryValue String since) {
        long now = System.currentTimeMillis();
        long from = now - StatusRecorder.SAMPLES_MAX * StatusRecorder.SAMPLE_INTERVAL_MILLIS;
        if (since != null) {
            try {
                from = Long.parseLong(since);
            } catch (NumberFormatException e) {
                return Problems.response(400, "Invalid query", "since must be epoch milliseconds", 0, "since");
            }
        }
        List<StatusHistory.Sample> samples = recorder.history().since(from);
        var config = agent.config();
        String body = Json.write(g -> {
            g.writeStartObject();
            g.writeStringField("node", config.node().id());
            g.writeBooleanField("hub", agent.hub() != null);
            g.writeStringField("alert_stream", config.engine().alertStream());
            g.writeNumberField("now", now);
            g.writeNumberField("interval_millis", StatusRecorder.SAMPLE_INTERVAL_MILLIS);
            g.writeNumberField("samples_max", StatusRecorder.SAMPLES_MAX);
            g.writeArrayFieldStart("samples");
            for (StatusHistory.Sample s : samples) {
                writeSample(g, s);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
        return HttpResponse.ok(body).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    private static void writeSample(com.fasterxml.jackson.core.JsonGenerator g, StatusHistory.Sample s)
            throws IOException {
        g.writeStartObject();
        g.writeNumberField("at", s.atMillis());
        g.writeStringField("level", s.level());
        g.writeObjectFieldStart("pressure");
        double[] p = s.pressure();
        for (Dimension d : Dimension.values()) {
            if (!Double.isNaN(p[d.ordinal()])) {
                g.writeNumberField(d.name().toLowerCase(Locale.ROOT), Math.round(p[d.ordinal()] * 1000) / 1000.0);
            }
        }
        g.writeEndObject();
        StatusHistory.Rates r = s.rates();
        g.writeNumberField("ingest_events_per_second", round(r.ingestEvents()));
        g.writeNumberField("sync_records_per_second", round(r.syncRecords()));
        g.writeNumberField("sync_wire_bytes_per_second", round(r.syncWireBytes()));
        g.writeNumberField("hub_records_per_second", round(r.hubRecords()));
        g.writeNumberField("at_risk_events", s.atRiskEvents());
        g.writeNumberField("at_risk_bytes", s.atRiskBytes());
        g.writeEndObject();
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}

package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.compress.Dictionary;
import dev.outpost.compress.DictionaryTrainer;
import dev.outpost.compress.Purpose;
import dev.outpost.edge.dictionaries.DictionaryTraining;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.store.Catalog;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * Zstd dictionaries: {@code POST /v1/dictionaries?stream=S} trains one from the stream's most
 * recent events in the log and stores it in the catalog (409 if the catalog holds its id already, other than as the
 * same dictionary for the same stream and purpose); {@code GET /v1/dictionaries} lists them.
 * Training runs on the blocking pool, never on the event loop.
 */
@Controller("/v1/dictionaries")
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "415", ref = OpenApiController.UNSUPPORTED_MEDIA_TYPE)
@ApiResponse(responseCode = "422", ref = OpenApiController.UNPROCESSABLE)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class DictionariesController {
    /** Most dictionaries listed. */
    static final int LISTED_MAX = 1000;

    private final DictionaryTraining training;

    public DictionariesController(DictionaryTraining training) {
        this.training = training;
    }

    @Post(produces = MediaType.APPLICATION_JSON)
    @ApiResponse(responseCode = "409", ref = OpenApiController.CONFLICT)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<String> train(
            @QueryValue String stream,
            @Nullable @QueryValue String purpose,
            @Nullable @QueryValue String samples,
            @Nullable @QueryValue String bytes) {
        if (!EventParser.validName(stream)) {
            return Problems.response(400, "Invalid query", "stream must be 1-128 of A-Z a-z 0-9 . _ -", 0, "stream");
        }
        Purpose p;
        try {
            p = purpose == null ? Purpose.WIRE : Purpose.valueOf(purpose.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Problems.response(
                    400, "Invalid query", "purpose must be one of wire, cold_segment, hot_log", 0, "purpose");
        }
        int want = intParam(samples, DictionaryTraining.SAMPLES_DEFAULT, 10, DictionaryTraining.SAMPLES_MAX, "samples");
        int dictBytes = intParam(bytes, DictionaryTrainer.DEFAULT_BYTES, 256, Dictionary.BYTES_MAX, "bytes");
        return switch (training.train(stream, p, want, dictBytes)) {
            case DictionaryTraining.Trained t ->
                HttpResponse.ok(json(t.dictionary())).contentType(MediaType.APPLICATION_JSON_TYPE);
            case DictionaryTraining.NotEnoughSamples n ->
                Problems.response(
                        422,
                        "Not enough samples",
                        "stream '" + stream + "' has " + n.samples() + " recent events: " + n.why(),
                        0,
                        "samples");
            case DictionaryTraining.IdTaken taken -> idTaken(taken);
            case DictionaryTraining.ZstdUnavailable z -> Problems.response(503, "Zstd unavailable", z.why(), 0, null);
        };
    }

    /** 409 naming the id and what holds it; the field is samples: training on others gives another dictionary. */
    private static HttpResponse<String> idTaken(DictionaryTraining.IdTaken taken) {
        Catalog.DictionaryInfo holder = taken.holder();
        String id = Long.toHexString(holder.id());
        String held = taken.sameDictionary()
                ? "the same dictionary, id " + id + ", is stored for stream '" + holder.stream() + "', purpose "
                        + holder.purpose().name().toLowerCase(Locale.ROOT)
                        + " (the catalog keeps one stream and purpose per dictionary)"
                : "the catalog holds another dictionary under id " + id + " (stream '" + holder.stream()
                        + "'; a collision of the 32-bit content hash, or that row no longer matches its id: see the log)";
        return Problems.response(
                409,
                "Dictionary id taken",
                held + "; nothing was stored: train again with different samples or bytes",
                0,
                "samples");
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public String list() {
        List<Catalog.DictionaryInfo> all = training.list(LISTED_MAX);
        return Json.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("dictionaries");
            for (Catalog.DictionaryInfo d : all) {
                write(g, d);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private static String json(Catalog.DictionaryInfo d) {
        return Json.write(g -> write(g, d));
    }

    private static void write(JsonGenerator g, Catalog.DictionaryInfo d) throws IOException {
        g.writeStartObject();
        g.writeStringField("id", Long.toHexString(d.id()));
        g.writeStringField("stream", d.stream());
        g.writeStringField("purpose", d.purpose().name().toLowerCase(Locale.ROOT));
        g.writeNumberField("bytes", d.bytes());
        g.writeNumberField("samples", d.samples());
        g.writeNumberField("created_at", d.createdAtMillis());
        g.writeEndObject();
    }

    private static int intParam(String v, int dflt, int min, int max, String field) {
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // fall through to the problem
        }
        throw new ProblemException(
                400, "Invalid query", field + " must be a whole number from " + min + " to " + max, 0, field);
    }
}

package dev.outpost.edge.http;

import dev.outpost.compress.Dictionary;
import dev.outpost.compress.DictionaryTrainer;
import dev.outpost.compress.FrameException;
import dev.outpost.compress.Purpose;
import dev.outpost.edge.Agent;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.store.Catalog;
import dev.outpost.store.EventCursor;
import dev.outpost.store.RecordView;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Locale;

/**
 * Zstd dictionaries: {@code POST /v1/dictionaries?stream=S} trains one from the stream's most
 * recent events in the log and stores it in the catalog; {@code GET /v1/dictionaries} lists them.
 * Training runs on the blocking pool, never on the event loop.
 */
@Controller("/v1/dictionaries")
public class DictionariesController {
    /** Most samples one training run takes. */
    public static final int SAMPLES_MAX = 20_000;
    /** Default samples. */
    public static final int SAMPLES_DEFAULT = 2_000;

    private final Agent agent;

    public DictionariesController(Agent agent) {
        this.agent = agent;
    }

    @Post(produces = MediaType.APPLICATION_JSON)
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
        int want = intParam(samples, SAMPLES_DEFAULT, 10, SAMPLES_MAX, "samples");
        int dictBytes = intParam(bytes, DictionaryTrainer.DEFAULT_BYTES, 256, Dictionary.BYTES_MAX, "bytes");
        // The stream's most recent events, reading at most query.scan_records_max records back.
        long last = agent.log().lastSeq();
        long from = Math.max(agent.log().firstSeq(), last - agent.config().query().scanRecordsMax() + 1);
        byte[] name = stream.getBytes(StandardCharsets.UTF_8);
        ArrayDeque<byte[]> recent = new ArrayDeque<>(want); // bounded: SAMPLES_MAX events
        try (EventCursor c = agent.log().cursorFromSeq(Math.max(from, 1))) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                if (v.streamEquals(name)) {
                    if (recent.size() == want) {
                        recent.removeFirst();
                    }
                    recent.addLast(v.payload());
                }
            }
        }
        Dictionary d;
        try {
            d = DictionaryTrainer.train(new ArrayList<>(recent), dictBytes);
        } catch (IllegalArgumentException e) {
            return Problems.response(
                    422,
                    "Not enough samples",
                    "stream '" + stream + "' has " + recent.size() + " recent events: " + e.getMessage(),
                    0,
                    "samples");
        } catch (FrameException e) {
            return Problems.response(503, "Zstd unavailable", e.getMessage(), 0, null);
        }
        agent.catalog().putDictionary(stream, p, d, recent.size());
        return HttpResponse.ok(json(new Catalog.DictionaryInfo(
                        d.id(), stream, p, d.size(), recent.size(), System.currentTimeMillis())))
                .contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    @Get(produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public String list() {
        StringBuilder b = new StringBuilder("{\"dictionaries\":[");
        var all = agent.catalog().dictionaries(1000);
        for (int i = 0; i < all.size(); i++) {
            b.append(i > 0 ? "," : "").append(json(all.get(i)));
        }
        return b.append("]}").toString();
    }

    private static String json(Catalog.DictionaryInfo d) {
        return "{\"id\":\"" + Long.toHexString(d.id()) + "\",\"stream\":\"" + d.stream() + "\",\"purpose\":\""
                + d.purpose().name().toLowerCase(Locale.ROOT) + "\",\"bytes\":" + d.bytes() + ",\"samples\":"
                + d.samples()
                + ",\"created_at\":" + d.createdAtMillis() + "}";
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
        throw new dev.outpost.edge.ingest.ProblemException(
                400, "Invalid query", field + " must be a whole number from " + min + " to " + max, 0, field);
    }
}

package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.edge.engine.rollup.Aggregate;
import dev.outpost.edge.engine.rollup.Aggregation;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.edge.query.EventQueries;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GET /v1/aggregate: count, sum, min, max, mean and quantiles of raw events of one stream over an ingest-time
 * range, per group (see docs/API.md).
 *
 * <p>Design note. One request makes one bounded pass ({@link AggregateScan}): at most {@code query.scan_records_max}
 * records (as the governor scales it now) and {@link #GROUPS_MAX} groups, so neither a large range nor a
 * high-cardinality group-by holds a request (or its memory) without bound. A pass that stops early says why and
 * returns a cursor carrying nothing but the next sequence number, sealed for the query ({@link CursorSeal}: stream,
 * bounds, fields and aggregates), so a cursor is only good with the parameters it came with. Invariant: the
 * aggregates of each answer cover exactly its own records, from {@code from_seq} to before the cursor; over the
 * answers of one query every event of the range is counted once, and the client merges the answers (counts, sums,
 * min and max exactly; quantiles only approximately, so a client needing them over a long range narrows it or
 * raises the scan bound).
 */
@Controller("/v1/aggregate")
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class AggregateController {
    /** Groups one answer may hold: ~0.1 KiB each, plus 0.4 to 2 KiB per quantile field. */
    static final int GROUPS_MAX = 10_000;
    /** Groups returned when the request does not say (the largest by count). */
    static final int LIMIT_DEFAULT = 1_000;

    private static final Set<String> PARAMETERS = Set.of("stream", "from", "to", "group_by", "agg", "limit", "cursor");
    private static final String CURSOR_PREFIX = "1|";

    private final EventQueries queries;
    private final CursorSeal cursorSeal;

    public AggregateController(EventQueries queries, CursorSeal cursorSeal) {
        this.queries = queries;
        this.cursorSeal = cursorSeal;
    }

    /** What the request asks, parsed and checked (each failure a 400 naming its parameter). */
    private record Query(
            String stream,
            Long fromMillis,
            Long toMillis,
            long fromHlc,
            long toHlc,
            Aggregation aggregation,
            int limit) {}

    @Get(produces = MediaType.APPLICATION_JSON)
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<String> aggregate(HttpRequest<?> request) {
        Map<String, List<String>> params = request.getParameters().asMap();
        Query q = query(params);
        CursorSeal.Scoped cursors = cursorSeal.scoped(scope(q));
        String cursor = single(params, "cursor");
        long seq = cursor != null
                ? cursorSeq(cursors.unseal(cursor))
                : q.fromMillis() == null
                        ? queries.log().firstSeq()
                        : queries.log().seqAtOrAfterTime(q.fromHlc());
        AggregateScan.Result r = AggregateScan.run(
                queries.log(), Math.max(seq, 1), q.stream(), q.toHlc(), queries.scanRecordsMax(), q.aggregation());
        String next = r.stop() == null ? null : cursors.seal(CURSOR_PREFIX + r.nextSeq());
        return HttpResponse.ok(Json.write(g -> answer(g, q, r, next)))
                .contentType(MediaType.APPLICATION_JSON)
                .header("Cache-Control", "no-store");
    }

    private static Query query(Map<String, List<String>> params) {
        for (String name : params.keySet()) {
            if (!PARAMETERS.contains(name)) {
                throw invalid(
                        name,
                        "unknown parameter; known: "
                                + String.join(", ", PARAMETERS.stream().sorted().toList()));
            }
        }
        String stream = single(params, "stream");
        if (stream == null || !EventParser.validName(stream)) {
            throw invalid("stream", "stream is required: 1-128 characters of A-Z a-z 0-9 . _ -");
        }
        String from = single(params, "from");
        String to = single(params, "to");
        Long fromMillis = from == null ? null : EventsController.parseTime(from, "from");
        Long toMillis = to == null ? null : EventsController.parseTime(to, "to");
        long fromHlc = from == null ? 0 : EventsController.hlcAt(from, "from");
        long toHlc = to == null ? Long.MAX_VALUE : EventsController.hlcAt(to, "to");
        List<String> groupBy = list(single(params, "group_by"));
        if (groupBy.size() > Aggregation.GROUP_BY_FIELDS_MAX) {
            throw invalid("group_by", "at most " + Aggregation.GROUP_BY_FIELDS_MAX + " fields");
        }
        List<Aggregate> aggregates = aggregates(single(params, "agg"));
        Aggregation aggregation;
        try {
            aggregation = new Aggregation(groupBy, aggregates, GROUPS_MAX);
        } catch (IllegalArgumentException e) {
            throw invalid("group_by", e.getMessage()); // the aggregates were checked one by one above
        }
        return new Query(stream, fromMillis, toMillis, fromHlc, toHlc, aggregation, limit(single(params, "limit")));
    }

    /** {@code agg}: comma-separated aggregates, default {@code count}. */
    private static List<Aggregate> aggregates(String agg) {
        List<Aggregate> aggregates = new ArrayList<>();
        for (String text : agg == null ? List.of("count") : list(agg)) {
            try {
                aggregates.addAll(Aggregate.parse(text));
            } catch (IllegalArgumentException e) {
                throw invalid("agg", e.getMessage());
            }
        }
        if (aggregates.isEmpty()
                || aggregates.size() > Aggregation.AGGREGATES_MAX
                || aggregates.size() != aggregates.stream().distinct().count()) {
            throw invalid("agg", "agg must name 1 to " + Aggregation.AGGREGATES_MAX + " distinct aggregates");
        }
        return aggregates;
    }

    /**
     * Splits on the commas between items: {@code p99(a),count} is two items; a comma inside parentheses is part of
     * its item.
     */
    private static List<String> list(String v) {
        List<String> items = new ArrayList<>();
        if (v == null || v.isBlank()) {
            return items;
        }
        int depth = 0;
        int start = 0;
        for (int i = 0; i <= v.length(); i++) {
            char c = i < v.length() ? v.charAt(i) : ',';
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (c == ',' && depth <= 0) {
                items.add(v.substring(start, i).strip());
                start = i + 1;
            }
        }
        return items;
    }

    private static int limit(String v) {
        if (v == null) {
            return LIMIT_DEFAULT;
        }
        try {
            int l = Integer.parseInt(v);
            if (l >= 1 && l <= GROUPS_MAX) {
                return l;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw invalid("limit", "limit must be a whole number from 1 to " + GROUPS_MAX);
    }

    /** The query a cursor is sealed for: everything but the cursor and limit, as one JSON array. */
    private static String scope(Query q) {
        return "aggregate:"
                + Json.write(g -> {
                    g.writeStartArray();
                    g.writeString(q.stream());
                    g.writeNumber(q.fromHlc());
                    g.writeNumber(q.toHlc());
                    for (String f : q.aggregation().groupBy()) {
                        g.writeString(f);
                    }
                    g.writeString("|");
                    for (Aggregate a : q.aggregation().aggregates()) {
                        g.writeString(a.label());
                    }
                    g.writeEndArray();
                });
    }

    private static long cursorSeq(String payload) {
        if (payload != null && payload.startsWith(CURSOR_PREFIX)) {
            try {
                long seq = Long.parseLong(payload.substring(CURSOR_PREFIX.length()));
                if (seq >= 1) {
                    return seq;
                }
            } catch (NumberFormatException e) {
                // answered below
            }
        }
        throw invalid("cursor", EventsController.CURSOR_NOT_OURS);
    }

    private static void answer(JsonGenerator g, Query q, AggregateScan.Result r, String next) throws IOException {
        g.writeStartObject();
        g.writeStringField("stream", q.stream());
        writeMillis(g, "from", q.fromMillis());
        writeMillis(g, "to", q.toMillis());
        g.writeArrayFieldStart("group_by");
        for (String f : q.aggregation().groupBy()) {
            g.writeString(f);
        }
        g.writeEndArray();
        g.writeArrayFieldStart("groups");
        for (Aggregation.Group group : q.aggregation().largest(q.limit())) {
            writeGroup(g, group);
        }
        g.writeEndArray();
        g.writeNumberField("groups_total", q.aggregation().groupCount());
        g.writeNumberField("from_seq", r.fromSeq());
        g.writeNumberField("to_seq", r.nextSeq() - 1);
        g.writeNumberField("scanned", r.scanned());
        g.writeNumberField("matched", r.matched());
        if (r.unreadable() > 0) {
            g.writeNumberField("unreadable", r.unreadable());
        }
        if (q.aggregation().skippedValues() > 0) {
            g.writeNumberField("skipped_values", q.aggregation().skippedValues());
        }
        g.writeBooleanField("complete", r.stop() == null);
        g.writeStringField("next_cursor", next);
        g.writeStringField("stopped", r.stop() == null ? null : r.stop().label);
        g.writeEndObject();
    }

    private static void writeGroup(JsonGenerator g, Aggregation.Group group) throws IOException {
        g.writeStartObject();
        g.writeObjectFieldStart("group");
        for (Map.Entry<String, String> e : group.group().entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
        g.writeObjectFieldStart("values");
        for (Map.Entry<String, Object> e : group.values().entrySet()) {
            if (e.getValue() instanceof Long l) {
                g.writeNumberField(e.getKey(), l);
            } else if (e.getValue() instanceof Double d) {
                g.writeNumberField(e.getKey(), d);
            } else {
                g.writeNullField(e.getKey());
            }
        }
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void writeMillis(JsonGenerator g, String name, Long millis) throws IOException {
        if (millis == null) {
            g.writeNullField(name);
        } else {
            g.writeNumberField(name, millis);
        }
    }

    /** The one value of a parameter, or null; given twice is 400 (which one was meant is unknowable). */
    private static String single(Map<String, List<String>> params, String name) {
        List<String> v = params.get(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (v.size() > 1) {
            throw invalid(name, name + " is given " + v.size() + " times");
        }
        return v.getFirst();
    }

    private static ProblemException invalid(String parameter, String detail) {
        return new ProblemException(400, "Invalid query", detail, 0, parameter);
    }
}

package dev.outpost.edge.http;

import dev.outpost.edge.ingest.EventParser;
import dev.outpost.edge.ingest.IngestPipeline;
import dev.outpost.edge.query.EventQueries;
import dev.outpost.store.HybridClock;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.server.types.files.StreamedFile;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.concurrent.CompletableFuture;

/** POST /v1/events (ingest) and GET /v1/events (read). See docs/API.md. */
@Controller("/v1/events")
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "413", ref = OpenApiController.CONTENT_TOO_LARGE)
@ApiResponse(responseCode = "415", ref = OpenApiController.UNSUPPORTED_MEDIA_TYPE)
@ApiResponse(responseCode = "422", ref = OpenApiController.UNPROCESSABLE)
@ApiResponse(responseCode = "429", ref = OpenApiController.TOO_MANY_REQUESTS)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
@ApiResponse(responseCode = "507", ref = OpenApiController.INSUFFICIENT_STORAGE)
public class EventsController {
    /** Why a cursor is refused (every API that takes one says the same). */
    static final String CURSOR_NOT_OURS = "cursor is not one this agent issued for this query: pass next_cursor as"
            + " returned (unchanged, with the same path and parameters it came with)";

    /** NDJSON media type. */
    public static final String NDJSON = "application/x-ndjson";

    private final IngestPipeline ingest;
    private final EventQueries queries;
    private final CursorSeal cursorSeal;

    public EventsController(IngestPipeline ingest, EventQueries queries, CursorSeal cursorSeal) {
        this.ingest = ingest;
        this.queries = queries;
        this.cursorSeal = cursorSeal;
    }

    /** Parses nothing itself: the body goes to the ingest pipeline, whose outcome is the answer. */
    @Post(
            consumes = {MediaType.APPLICATION_JSON, NDJSON},
            produces = MediaType.APPLICATION_JSON)
    public CompletableFuture<MutableHttpResponse<?>> ingest(
            HttpRequest<?> request, @Body byte[] body, @Nullable @Header("Idempotency-Key") String idempotencyKey) {
        boolean ndjson =
                request.getContentType().map(t -> t.getName().equals(NDJSON)).orElse(false);
        return ingest.ingest(new IngestPipeline.Request(body, ndjson, idempotencyKey))
                .thenApply(o -> IngestAnswers.of(o).toMicronaut());
    }

    /** The query parameters of GET /v1/events. */
    private static final java.util.Set<String> READ_PARAMETERS =
            java.util.Set.of("stream", "from_seq", "from_time", "to_time", "limit", "cursor");

    @Get(produces = NDJSON)
    public HttpResponse<?> read(
            HttpRequest<?> request,
            @Nullable @QueryValue String stream,
            @Nullable @QueryValue("from_seq") String fromSeq,
            @Nullable @QueryValue("from_time") String fromTime,
            @Nullable @QueryValue("to_time") String toTime,
            @Nullable @QueryValue String limit,
            @Nullable @QueryValue String cursor) {
        KnownParameters.check(request, READ_PARAMETERS);
        return page(
                queries,
                cursorSeal,
                queries.log(),
                () -> {},
                null,
                stream,
                fromSeq,
                fromTime,
                toTime,
                null,
                null,
                limit,
                cursor);
    }

    /**
     * One page of {@code log} (the agent's, {@code node} null; or on a hub the log of {@code node},
     * whose lines then say where and when the node stored each event, and {@code nodeFromTime}/{@code
     * nodeToTime} filter by it); {@code onDone} runs when the page is closed. Cursors are sealed for
     * that log: one from another log, or not from this agent, is 400.
     */
    static HttpResponse<?> page(
            EventQueries queries,
            CursorSeal cursorSeal,
            dev.outpost.store.EventLog log,
            Runnable onDone,
            String node,
            String stream,
            String fromSeq,
            String fromTime,
            String toTime,
            String nodeFromTime,
            String nodeToTime,
            String limit,
            String cursor) {
        long start = queries.startNanos();
        boolean nodeLog = node != null;
        CursorSeal.Scoped cursors = cursorSeal.scoped(nodeLog ? "fleet-events:" + node : "events");
        EventPage.NodeTime nodeTime = nodeTime(nodeFromTime, nodeToTime);
        int pageLimit = pageLimit(queries, limit);
        long seq;
        String streamFilter = stream;
        long toHlc = toTime == null ? Long.MAX_VALUE : hlcAt(toTime, "to_time");
        if (stream != null && !EventParser.validName(stream)) {
            return Problems.response(
                    400, "Invalid query", "stream must be 1-128 characters of A-Z a-z 0-9 . _ -", 0, "stream");
        }
        if (cursor != null) {
            if (fromSeq != null || fromTime != null || stream != null || toTime != null || nodeTime != null) {
                return Problems.response(
                        400,
                        "Invalid query",
                        "cursor carries the query; do not combine it with stream, from_seq, from_time, to_time,"
                                + " node_from_time or node_to_time",
                        0,
                        "cursor");
            }
            EventPage.Cursor c = EventPage.decodeCursor(cursors.unseal(cursor));
            if (c == null) {
                return Problems.response(400, "Invalid query", CURSOR_NOT_OURS, 0, "cursor");
            }
            seq = c.nextSeq();
            streamFilter = c.stream();
            toHlc = c.toHlcExclusive();
            nodeTime = c.nodeTime();
        } else {
            seq = startSeq(log, fromSeq, fromTime);
        }
        seq = Math.max(seq, 1);
        EventPage page = new EventPage(
                log.cursorFromSeq(seq),
                seq,
                streamFilter,
                toHlc,
                pageLimit,
                queries.scanRecordsMax(),
                queries::returned,
                onDone,
                nodeLog,
                nodeTime,
                cursors);
        queries.served(start);
        return HttpResponse.ok(new StreamedFile(page, MediaType.of(NDJSON)))
                .header("X-Outpost-Last-Seq", Long.toString(log.lastSeq()))
                .header("Cache-Control", "no-store");
    }

    /** Where a query without a cursor starts: the later of from_seq and from_time, else the log's first event. */
    private static long startSeq(dev.outpost.store.EventLog log, String fromSeq, String fromTime) {
        if (fromSeq != null) {
            long seq = parseLong(fromSeq, "from_seq", 0, Long.MAX_VALUE, "");
            return fromTime == null ? seq : Math.max(seq, log.seqAtOrAfterTime(hlcAt(fromTime, "from_time")));
        }
        return fromTime != null ? log.seqAtOrAfterTime(hlcAt(fromTime, "from_time")) : log.firstSeq();
    }

    /** The bounds on a node's own ingest time (hub pages), or null if neither is given. */
    private static EventPage.NodeTime nodeTime(String nodeFromTime, String nodeToTime) {
        if (nodeFromTime == null && nodeToTime == null) {
            return null;
        }
        return new EventPage.NodeTime(
                nodeFromTime == null ? Long.MIN_VALUE : hlcAt(nodeFromTime, "node_from_time"),
                nodeToTime == null ? Long.MAX_VALUE : hlcAt(nodeToTime, "node_to_time"));
    }

    /**
     * Events per page. Page and scan sizes follow the governor (smaller-batches): a limit the config allows is still
     * served, as pages of at most {@link EventQueries#limitMax()} events with a cursor to go on.
     */
    private static int pageLimit(EventQueries queries, String limit) {
        if (limit == null) {
            return queries.limitDefault();
        }
        long l = parseLong(limit, "limit", 1, queries.limitAllowed(), " (query.limit_max)");
        return (int) Math.min(l, queries.limitMax());
    }

    /** A whole number from {@code min} to {@code max}, else 400 naming {@code field} (and its limit's key). */
    private static long parseLong(String v, String field, long min, long max, String limitKey) {
        boolean number = true;
        long n = 0;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            number = false; // not a number, or beyond 64 bits
        }
        if (!number || n < min || n > max) {
            throw new ProblemException(
                    400,
                    "Invalid query",
                    field + " must be a whole number from " + min + " to " + max + limitKey,
                    0,
                    field);
        }
        return n;
    }

    /**
     * Epoch milliseconds, or ISO-8601 with offset, within the range of event times ({@link
     * EventParser#TS_MILLIS_MIN}..{@link EventParser#TS_MILLIS_MAX}); else 400 naming {@code field}.
     */
    static long parseTime(String v, String field) {
        Instant t;
        try {
            t = Instant.ofEpochMilli(Long.parseLong(v));
        } catch (NumberFormatException notANumber) {
            try {
                t = OffsetDateTime.parse(v).toInstant();
            } catch (DateTimeParseException e) {
                t = null;
            }
        }
        if (t == null
                || t.isBefore(Instant.ofEpochMilli(EventParser.TS_MILLIS_MIN))
                || t.isAfter(Instant.ofEpochMilli(EventParser.TS_MILLIS_MAX))) {
            throw new ProblemException(
                    400,
                    "Invalid query",
                    field + " must be epoch milliseconds from " + EventParser.TS_MILLIS_MIN + " to "
                            + EventParser.TS_MILLIS_MAX + ", or ISO-8601 with offset from 1970-01-01T00:00:00Z to"
                            + " 9999-12-31T23:59:59.999Z, e.g. 2026-11-23T04:48:17Z",
                    0,
                    field);
        }
        return t.toEpochMilli();
    }

    /** The first HLC timestamp at the time {@code v} names; times beyond the HLC's range (year 6429) saturate. */
    static long hlcAt(String v, String field) {
        long ms = parseTime(v, field);
        return ms > HybridClock.millis(Long.MAX_VALUE) ? Long.MAX_VALUE : HybridClock.atMillis(ms);
    }
}

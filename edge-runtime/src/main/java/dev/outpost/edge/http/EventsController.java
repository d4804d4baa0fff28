package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.edge.ingest.IngestResult;
import dev.outpost.edge.ingest.ParsedEvent;
import dev.outpost.edge.ingest.ProblemException;
import dev.outpost.store.DiskFullException;
import dev.outpost.store.HybridClock;
import dev.outpost.store.StoreException;
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
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** POST /v1/events (ingest) and GET /v1/events (read). See docs/API.md. */
@Controller("/v1/events")
public class EventsController {
    private static final Logger LOG = LoggerFactory.getLogger(EventsController.class);

    /** NDJSON media type. */
    public static final String NDJSON = "application/x-ndjson";

    private final Agent agent;

    public EventsController(Agent agent) {
        this.agent = agent;
    }

    @Post(
            consumes = {MediaType.APPLICATION_JSON, NDJSON},
            produces = MediaType.APPLICATION_JSON)
    public CompletableFuture<MutableHttpResponse<String>> ingest(
            HttpRequest<?> request, @Body byte[] body, @Nullable @Header("Idempotency-Key") String idempotencyKey) {
        long start = System.nanoTime();
        IngestResult r;
        if (body.length > agent.config().http().bodyBytesMax()) {
            agent.ingestRejected.increment();
            return CompletableFuture.completedFuture(Problems.response(
                    413,
                    "Body too large",
                    "the body is " + body.length + " bytes; at most http.body_bytes_max = "
                            + agent.config().http().bodyBytesMax() + " are accepted",
                    0,
                    null));
        }
        try {
            boolean batch = request.getContentType()
                    .map(t -> t.getName().equals(NDJSON))
                    .orElse(false);
            List<ParsedEvent> events =
                    batch ? agent.parser().parseBatch(body) : agent.parser().parseSingle(body);
            agent.streams().validate(events, batch);
            ProblemException shed = agent.shed(events);
            if (shed != null) {
                throw shed;
            }
            r = agent.ingestor().ingest(events, idempotencyKey);
        } catch (ProblemException e) {
            agent.ingestRejected.increment();
            return CompletableFuture.completedFuture(
                    Problems.response(e.status(), e.title(), e.getMessage(), e.line(), e.field()));
        } catch (DiskFullException e) {
            agent.ingestRejected.increment();
            Problems.logDiskFull(e);
            return CompletableFuture.completedFuture(Problems.diskFull(e));
        } catch (StoreException e) {
            agent.ingestRejected.increment();
            LOG.error("ingest failed", e);
            return CompletableFuture.completedFuture(
                    Problems.response(503, "Store unavailable", e.getMessage(), 0, null));
        }
        IngestResult result = r;
        return r.durable().handle((ok, err) -> {
            agent.ingestLatency.recordNanos(System.nanoTime() - start);
            if (err != null) {
                agent.ingestRejected.increment();
                LOG.error(
                        "events {}..{} not acknowledged: not durable",
                        result.seqs()[0],
                        result.seqs()[result.seqs().length - 1],
                        err);
                return Problems.response(
                        503,
                        "Not durable",
                        "the events could not be made durable: " + err.getMessage()
                                + "; they were not acknowledged, retry with the same Idempotency-Key",
                        0,
                        null);
            }
            agent.ingestRequests.increment();
            agent.ingestEvents.add(result.stored());
            agent.ingestDuplicates.add(result.duplicates());
            return HttpResponse.ok(responseBody(result)).contentType(MediaType.APPLICATION_JSON_TYPE);
        });
    }

    private static String responseBody(IngestResult r) {
        long[] s = r.seqs();
        StringBuilder b = new StringBuilder(48 + s.length * 8);
        b.append("{\"count\":")
                .append(s.length)
                .append(",\"stored\":")
                .append(r.stored())
                .append(",\"duplicates\":")
                .append(r.duplicates());
        if (r.replayed()) {
            b.append(",\"replayed\":true");
        }
        b.append(",\"seqs\":[");
        for (int i = 0; i < s.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(s[i]);
        }
        return b.append("]}").toString();
    }

    @Get(produces = NDJSON)
    public HttpResponse<?> read(
            @Nullable @QueryValue String stream,
            @Nullable @QueryValue("from_seq") String fromSeq,
            @Nullable @QueryValue("from_time") String fromTime,
            @Nullable @QueryValue("to_time") String toTime,
            @Nullable @QueryValue String limit,
            @Nullable @QueryValue String cursor) {
        return page(agent, agent.log(), () -> {}, false, stream, fromSeq, fromTime, toTime, null, null, limit, cursor);
    }

    /**
     * One page of {@code log} (the agent's, or a node's on a hub: {@code nodeLog}, whose lines then
     * say where and when the node stored each event, and {@code nodeFromTime}/{@code nodeToTime}
     * filter by it); {@code onDone} runs when the page is closed.
     */
    static HttpResponse<?> page(
            Agent agent,
            dev.outpost.store.EventLog log,
            Runnable onDone,
            boolean nodeLog,
            String stream,
            String fromSeq,
            String fromTime,
            String toTime,
            String nodeFromTime,
            String nodeToTime,
            String limit,
            String cursor) {
        long start = System.nanoTime();
        EventPage.NodeTime nodeTime = nodeFromTime == null && nodeToTime == null
                ? null
                : new EventPage.NodeTime(
                        nodeFromTime == null
                                ? Long.MIN_VALUE
                                : HybridClock.atMillis(parseTime(nodeFromTime, "node_from_time")),
                        nodeToTime == null
                                ? Long.MAX_VALUE
                                : HybridClock.atMillis(parseTime(nodeToTime, "node_to_time")));
        // Page and scan sizes follow the governor (smaller-batches): a limit the config allows is
        // still served, as pages of at most agent.queryLimitMax() events with a cursor to go on.
        int pageLimit = agent.queryLimitDefault();
        if (limit != null) {
            long l = parseLong(limit, "limit");
            if (l < 1 || l > agent.config().query().limitMax()) {
                return Problems.response(
                        400,
                        "Invalid query",
                        "limit must be 1 to " + agent.config().query().limitMax() + " (query.limit_max)",
                        0,
                        "limit");
            }
            pageLimit = (int) Math.min(l, agent.queryLimitMax());
        }
        long seq;
        String streamFilter = stream;
        long toHlc = toTime == null ? Long.MAX_VALUE : HybridClock.atMillis(parseTime(toTime, "to_time"));
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
            EventPage.Cursor c = EventPage.decodeCursor(cursor);
            if (c == null) {
                return Problems.response(400, "Invalid query", "cursor is not a cursor this agent issued", 0, "cursor");
            }
            seq = c.nextSeq();
            streamFilter = c.stream();
            toHlc = c.toHlcExclusive();
            nodeTime = c.nodeTime();
        } else if (fromSeq != null) {
            seq = parseLong(fromSeq, "from_seq");
            if (seq < 0) {
                return Problems.response(400, "Invalid query", "from_seq must be >= 0", 0, "from_seq");
            }
            if (fromTime != null) {
                seq = Math.max(seq, log.seqAtOrAfterTime(HybridClock.atMillis(parseTime(fromTime, "from_time"))));
            }
        } else if (fromTime != null) {
            seq = log.seqAtOrAfterTime(HybridClock.atMillis(parseTime(fromTime, "from_time")));
        } else {
            seq = log.firstSeq();
        }
        seq = Math.max(seq, 1);
        EventPage page = new EventPage(
                log.cursorFromSeq(seq),
                seq,
                streamFilter,
                toHlc,
                pageLimit,
                agent.queryScanRecordsMax(),
                agent.queryEvents,
                onDone,
                nodeLog,
                nodeTime);
        agent.queryRequests.increment();
        agent.queryLatency.recordNanos(System.nanoTime() - start);
        return HttpResponse.ok(new StreamedFile(page, MediaType.of(NDJSON)))
                .header("X-Outpost-Last-Seq", Long.toString(log.lastSeq()))
                .header("Cache-Control", "no-store");
    }

    private static long parseLong(String v, String field) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new ProblemException(400, "Invalid query", field + " must be a whole number", 0, field);
        }
    }

    /** Epoch milliseconds, or ISO-8601 with offset. */
    static long parseTime(String v, String field) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException notANumber) {
            try {
                return OffsetDateTime.parse(v).toInstant().toEpochMilli();
            } catch (DateTimeParseException e) {
                throw new ProblemException(
                        400,
                        "Invalid query",
                        field + " must be epoch milliseconds or ISO-8601 with offset," + " e.g. 2026-11-23T04:48:17Z",
                        0,
                        field);
            }
        }
    }
}

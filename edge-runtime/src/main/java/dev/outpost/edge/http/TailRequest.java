package dev.outpost.edge.http;

import dev.outpost.edge.live.TailFilter;
import dev.outpost.edge.live.TailRefusal;
import dev.outpost.edge.live.TailStart;
import dev.outpost.store.json.JsonTree;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GET /v1/events/tail's parameters (docs/API.md, "Live tail"), read from the raw request line so the Netty path and
 * the controller read them alike: {@code stream} (repeated or comma-separated), {@code key}, {@code where} (rule
 * conditions as JSON), and where to start: the {@code Last-Event-ID} header (or {@code last_event_id} parameter, for
 * clients that cannot set headers), else {@code from_seq}, else {@code from_time}, else now. A bad one is a
 * ProblemException (400) naming it.
 */
record TailRequest(TailFilter filter, TailStart start) {
    static final String PATH = "/v1/events/tail";

    /** Longest {@code where} accepted, in characters. */
    static final int WHERE_CHARS_MAX = 16 * 1024;

    private static final Set<String> PARAMETERS =
            Set.of("stream", "key", "where", "from_seq", "from_time", "last_event_id");

    static TailRequest parse(String uri, String lastEventIdHeader) {
        QueryStringDecoder q = new QueryStringDecoder(uri, StandardCharsets.UTF_8, true, 64);
        Map<String, List<String>> p = q.parameters();
        for (String name : p.keySet()) {
            if (!PARAMETERS.contains(name)) {
                throw invalid(
                        name, "unknown parameter; allowed: stream, key, where, from_seq, from_time, last_event_id");
            }
        }
        List<String> streams = new ArrayList<>();
        for (String s : p.getOrDefault("stream", List.of())) {
            for (String part : s.split(",", -1)) {
                streams.add(part.strip());
            }
        }
        try {
            TailFilter filter = TailFilter.of(streams, single(p, "key"), where(single(p, "where")));
            return new TailRequest(filter, start(p, lastEventIdHeader));
        } catch (TailRefusal e) {
            throw invalid(e.field(), e.getMessage());
        }
    }

    private static Object where(String json) {
        if (json == null) {
            return null;
        }
        if (json.length() > WHERE_CHARS_MAX) {
            throw invalid("where", "at most " + WHERE_CHARS_MAX + " characters");
        }
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        try {
            return JsonTree.parse(b, 0, b.length);
        } catch (RuntimeException e) {
            throw invalid("where", "malformed JSON: " + e.getMessage());
        }
    }

    private static TailStart start(Map<String, List<String>> p, String header) {
        String last = header != null ? header : single(p, "last_event_id");
        if (last != null) {
            return new TailStart.After(number(last.strip(), header != null ? "Last-Event-ID" : "last_event_id"));
        }
        String fromSeq = single(p, "from_seq");
        if (fromSeq != null) {
            return new TailStart.AtSeq(number(fromSeq, "from_seq"));
        }
        String fromTime = single(p, "from_time");
        return fromTime != null
                ? new TailStart.AtTime(EventsController.hlcAt(fromTime, "from_time"))
                : new TailStart.Now();
    }

    private static long number(String v, String field) {
        try {
            long n = Long.parseLong(v);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw invalid(field, field + " must be a whole number from 0 to " + Long.MAX_VALUE + " (an event's seq)");
    }

    private static String single(Map<String, List<String>> p, String name) {
        List<String> v = p.get(name);
        if (v == null) {
            return null;
        }
        if (v.size() > 1) {
            throw invalid(name, name + " is given more than once");
        }
        return v.get(0);
    }

    private static ProblemException invalid(String field, String detail) {
        return new ProblemException(400, "Invalid query", detail, 0, field);
    }
}

package dev.outpost.edge.http;

import dev.outpost.edge.live.TailFilter;
import dev.outpost.edge.live.TailRefusal;
import dev.outpost.edge.live.TailStart;
import dev.outpost.store.json.JsonTree;
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
record TailRequest(TailFilter filter, TailStart start, List<String> nodes) {
    static final String PATH = "/v1/events/tail";
    static final String FLEET_PATH = "/v1/fleet/events/tail";

    /** Longest {@code where} accepted, in characters. */
    static final int WHERE_CHARS_MAX = 16 * 1024;

    private static final Set<String> PARAMETERS =
            Set.of("stream", "key", "where", "from_seq", "from_time", "last_event_id");

    static TailRequest parse(String uri, String lastEventIdHeader) {
        return parse(uri, lastEventIdHeader, false);
    }

    /**
     * The parameters of the tail ({@code fleet} false) or of the hub's fleet tail, which also takes {@code node}: one
     * node (the tail of its log: history and resume as on a node) or none (every node, live from now).
     */
    static TailRequest parse(String uri, String lastEventIdHeader, boolean fleet) {
        Map<String, List<String>> p = PercentEscapes.parameters(uri, 64);
        for (String name : p.keySet()) {
            if (!PARAMETERS.contains(name) && !(fleet && name.equals("node"))) {
                throw invalid(
                        name,
                        "unknown parameter; allowed: " + (fleet ? "node, " : "")
                                + "stream, key, where, from_seq, from_time, last_event_id");
            }
        }
        String node = single(p, "node");
        boolean positioned = lastEventIdHeader != null
                || p.containsKey("last_event_id")
                || p.containsKey("from_seq")
                || p.containsKey("from_time");
        if (fleet && node == null && positioned) {
            throw invalid("node", "a tail of every node starts now; to read history or resume, name one node");
        }
        List<String> streams = new ArrayList<>();
        for (String s : p.getOrDefault("stream", List.of())) {
            streams.addAll(List.of(s.split(",", -1)));
        }
        String last = lastEventIdHeader != null ? lastEventIdHeader : single(p, "last_event_id");
        String lastField = lastEventIdHeader != null ? "Last-Event-ID" : "last_event_id";
        Start start = new Start(last, lastField, single(p, "from_seq"), single(p, "from_time"));
        TailRequest t = of(streams, single(p, "key"), where(single(p, "where")), start);
        return node == null ? t : new TailRequest(t.filter(), t.start(), List.of(node));
    }

    /** Where to start, as given (each may be null): a resume cursor (and the name it came under), a seq, a time. */
    record Start(String after, String afterField, String fromSeq, String fromTime) {}

    /** A subscription from its parts; ProblemException (400) naming the one at fault. */
    static TailRequest of(List<String> streams, String key, Object where, Start start) {
        List<String> names = streams.stream().map(String::strip).toList();
        try {
            return new TailRequest(TailFilter.of(names, key, where), start(start), List.of());
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

    private static TailStart start(Start s) {
        if (s.after() != null) {
            return new TailStart.After(number(s.after().strip(), s.afterField()));
        }
        if (s.fromSeq() != null) {
            return new TailStart.AtSeq(number(s.fromSeq(), "from_seq"));
        }
        return s.fromTime() != null
                ? new TailStart.AtTime(EventsController.hlcAt(s.fromTime(), "from_time"))
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

    static ProblemException invalid(String field, String detail) {
        return new ProblemException(400, "Invalid query", detail, 0, field);
    }
}

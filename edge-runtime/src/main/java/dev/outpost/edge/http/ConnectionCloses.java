package dev.outpost.edge.http;

import dev.outpost.edge.metrics.Metrics;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Connections the agent closed because of their client, by reason (counted in /metrics). */
final class ConnectionCloses {
    /** Why the agent closed a connection. */
    enum Reason {
        /** No complete request headers within http.header_timeout_millis. */
        HEADER_TIMEOUT,
        /** Kept alive with no request for http.idle_timeout_millis. */
        IDLE_TIMEOUT,
        /** A request body slower than http.body_rate_bytes_per_second_min (408). */
        BODY_TOO_SLOW;

        /** Its label value in /metrics. */
        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Map<Reason, LongAdder> counts = new EnumMap<>(Reason.class);

    ConnectionCloses() {
        for (Reason r : Reason.values()) {
            counts.put(r, new LongAdder());
        }
    }

    void count(Reason r) {
        counts.get(r).increment();
    }

    long total(Reason r) {
        return counts.get(r).sum();
    }

    /** Registers the counters, and the evictions, probes' connections and waiting ones of {@code budget}. */
    void register(Metrics metrics, ConnectionBudget budget) {
        String help = "HTTP connections the agent closed because of their client: header_timeout, idle_timeout,"
                + " body_too_slow (408), evicted (idle, to admit a new connection while budget.connections was full).";
        for (Reason r : Reason.values()) {
            metrics.counterFn("outpost_connections_closed_total", "reason", r.label(), help, counts.get(r)::sum);
        }
        metrics.counterFn("outpost_connections_closed_total", "reason", "evicted", help, budget::evictions);
        metrics.gauge(
                "outpost_connections_probes_open",
                "Open HTTP connections on the share of budget.connections kept for probes (budget.probe_connections).",
                budget::probesOpen);
        metrics.gauge(
                "outpost_connections_waiting",
                "New HTTP connections waiting (at most 1 s, unread) for an idle one to make room.",
                budget::waitingNow);
    }
}

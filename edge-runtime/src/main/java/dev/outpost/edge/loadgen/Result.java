package dev.outpost.edge.loadgen;

import java.util.Locale;
import java.util.Map;

/** Totals of a load run, and the one {@code key=value} summary line it prints. */
record Result(
        Options options,
        long requests,
        long events,
        long errors,
        long warmupErrors,
        double seconds,
        LatencyHistogram latency,
        Map<String, Long> errorKinds,
        String subscribers) {

    Result(
            Options options,
            long requests,
            long events,
            long errors,
            long warmupErrors,
            double seconds,
            LatencyHistogram latency,
            Map<String, Long> errorKinds) {
        this(options, requests, events, errors, warmupErrors, seconds, latency, errorKinds, "");
    }

    /** The same totals with the subscribers' part of the summary line. */
    Result withSubscribers(String part) {
        return new Result(options, requests, events, errors, warmupErrors, seconds, latency, errorKinds, part);
    }

    double eventsPerSecond() {
        return seconds > 0 ? events / seconds : 0;
    }

    double requestsPerSecond() {
        return seconds > 0 ? requests / seconds : 0;
    }

    String summary() {
        Options o = options;
        String s = String.format(
                Locale.ROOT,
                "label=%s mode=%s connections=%d batch=%d event_bytes=%d requests=%d events=%d errors=%d"
                        + " warmup_errors=%d seconds=%.3f events_per_s=%.0f requests_per_s=%.0f"
                        + " p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f mean_ms=%.3f",
                o.label(),
                o.mode().cli,
                o.connections(),
                o.batch(),
                o.eventBytes(),
                requests,
                events,
                errors,
                warmupErrors,
                seconds,
                eventsPerSecond(),
                requestsPerSecond(),
                latency.quantileNanos(0.50) / 1e6,
                latency.quantileNanos(0.99) / 1e6,
                latency.quantileNanos(0.999) / 1e6,
                latency.maxNanos() / 1e6,
                latency.meanNanos() / 1e6);
        return (o.mode().state() ? s + " documents=" + o.documents() : s) + subscribers;
    }
}

package dev.outpost.edge.live;

import dev.outpost.edge.metrics.Metrics;
import java.util.concurrent.atomic.LongAdder;

/** What the live feed counts, registered once on the agent's metrics. */
final class LiveCounters {
    final LongAdder messages;
    final LongAdder skipped;
    final LongAdder gaps;
    final LongAdder disconnects;
    final LongAdder refused;
    final LongAdder probes;
    final LongAdder probesFound;

    LiveCounters(Metrics metrics, String prefix) {
        messages = metrics.counter(prefix + "_messages_total", "Events sent to live subscribers.");
        skipped = metrics.counter(
                prefix + "_skipped_events_total",
                "Sequence numbers a live subscriber was skipped past for falling more than live.lag_events_max"
                        + " behind (live.overflow: skip); each run of them is announced by a gap message.");
        gaps = metrics.counter(prefix + "_gaps_total", "Gap messages sent to live subscribers.");
        disconnects = metrics.counter(
                prefix + "_overflow_disconnects_total",
                "Live subscribers closed for falling more than live.lag_events_max behind (live.overflow: disconnect).");
        refused = metrics.counter(
                prefix + "_refused_total", "Subscriptions refused because live.subscribers_max were held.");
        probes = metrics.counter(
                prefix + "_probes_total",
                "Times the feed held its sends a moment to see whether the subscribers were holding ingest back.");
        probesFound = metrics.counter(
                prefix + "_probes_found_total",
                "Probes that found ingest held back by the subscribers (ingest then counts as busy: the feed is held"
                        + " to live.busy_send_bytes_per_second_max).");
    }
}

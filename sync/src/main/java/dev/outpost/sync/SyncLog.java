package dev.outpost.sync;

import dev.outpost.store.Lane;
import dev.outpost.store.LogFields;
import org.slf4j.spi.LoggingEventBuilder;

/** The sync loops' log lines: which hub and lane a line is about, and what to do when the link fails. */
final class SyncLog {
    /** What to do when the link to the hub fails. */
    static final String LINK_ADVICE = "check that the hub is up and reachable at sync.upstream and that sync.token is"
            + " this node's token in the hub's hub.nodes; events are kept and sent when the link returns"
            + " (GET /v1/sync/status)";

    private SyncLog() {}

    /** {@code line} naming {@code hub}, and {@code lane} when there is one. */
    static LoggingEventBuilder about(LoggingEventBuilder line, Object hub, Lane lane) {
        return LogFields.with(line.addKeyValue(LogFields.HUB, hub), LogFields.LANE, lane == null ? null : lane.id());
    }
}

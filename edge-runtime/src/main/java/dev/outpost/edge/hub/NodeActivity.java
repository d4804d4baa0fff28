package dev.outpost.edge.hub;

import dev.outpost.store.HybridClock;
import dev.outpost.sync.wire.FleetNodes;
import dev.outpost.sync.wire.PushBatch;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a hub saw of each node's pushes since it started, for the fleet table ({@code GET /v1/fleet/nodes} and the
 * status page): when it last stored one, how old its oldest record was on arrival (the lag), the backlog the node
 * reported with it, and the pushes it refused.
 *
 * <p>Design note. Invariants: one entry per authenticated node (a node of hub.nodes), so the map is bounded by the
 * configuration; in memory only (a restarted hub knows nothing until the next push); the times are the caller's, so
 * tests pass their own. Thread-safe: pushes of different nodes update different entries, each under its own lock.
 */
public final class NodeActivity {
    private static final class Entry {
        long lastSeenMillis = -1;
        long lagMillis = -1;
        long backlogRecords = -1;
        long backlogBytes = -1;
        long errors;
        FleetNodes.LastError lastError;
    }

    private final Map<String, Entry> nodes = new ConcurrentHashMap<>();

    private Entry entry(String node) {
        return nodes.computeIfAbsent(node, n -> new Entry());
    }

    /** The hub stored {@code b} at {@code nowMillis}; the node said it had {@code backlogRecords} left (-1: not). */
    public void stored(PushBatch b, long nowMillis, long backlogRecords, long backlogBytes) {
        long oldestHlc = Long.MAX_VALUE;
        for (PushBatch.Record r : b.records()) {
            oldestHlc = Math.min(oldestHlc, r.hlc());
        }
        Entry e = entry(b.node());
        synchronized (e) {
            e.lastSeenMillis = nowMillis;
            if (oldestHlc != Long.MAX_VALUE) {
                e.lagMillis = Math.max(0, nowMillis - HybridClock.millis(oldestHlc));
            }
            if (backlogRecords >= 0 && backlogBytes >= 0) {
                e.backlogRecords = backlogRecords;
                e.backlogBytes = backlogBytes;
            }
        }
    }

    /** The hub refused a push of {@code node} with {@code status}, saying {@code message}. */
    public void refused(String node, long nowMillis, int status, String message) {
        Entry e = entry(node);
        synchronized (e) {
            e.errors++;
            e.lastError = new FleetNodes.LastError(nowMillis, status, message);
        }
    }

    /** What was seen of {@code node} (every field -1 or null if nothing). */
    public FleetNodes.Activity of(String node) {
        Entry e = nodes.get(node);
        if (e == null) {
            return new FleetNodes.Activity(-1, -1, -1, -1, 0, null);
        }
        synchronized (e) {
            return new FleetNodes.Activity(
                    e.lastSeenMillis, e.lagMillis, e.backlogRecords, e.backlogBytes, e.errors, e.lastError);
        }
    }
}

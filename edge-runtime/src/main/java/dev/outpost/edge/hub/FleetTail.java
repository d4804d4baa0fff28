package dev.outpost.edge.hub;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.live.FeedPool;
import dev.outpost.edge.live.Framing;
import dev.outpost.edge.live.LiveFeed;
import dev.outpost.edge.live.Outlet;
import dev.outpost.edge.live.TailFilter;
import dev.outpost.edge.live.TailRefusal;
import dev.outpost.edge.live.TailStart;
import dev.outpost.edge.metrics.Metrics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The hub's live tail over what nodes push (GET /v1/fleet/events/tail): the node tail's semantics over each node's log.
 *
 * <p>Design note. Each node log the hub stores is tailed by a {@link LiveFeed} of its own, started when a first
 * subscriber asks for that node and kept (with its log leased, so it stays open) until the hub stops; a push wakes the
 * node's feed once it is stored. One node: history, resume and ids are that node log's seqs, exactly as on a node. The
 * whole fleet: one subscriber per node feed, all writing to one connection, live from now (a single id cannot resume
 * many logs). Invariants: feeds only for nodes in hub.nodes; every feed in one {@link FeedPool}, so
 * live.subscribers_max holds across them (a fleet-wide subscription takes one slot per node).
 */
public final class FleetTail implements AutoCloseable {
    private record NodeFeed(FleetLogs.Lease lease, LiveFeed feed) {}

    private final FleetLogs logs;
    private final Set<String> nodes;
    private final FeedPool pool;
    private final Map<String, NodeFeed> feeds = new HashMap<>();
    private boolean closed;

    FleetTail(FleetLogs logs, OutpostConfig config, Metrics metrics) {
        this.logs = logs;
        this.nodes = new TreeSet<>(config.hub().nodes().keySet());
        this.pool = new FeedPool(config, metrics, "outpost_fleet_live");
    }

    /** The nodes this hub accepts, in name order. */
    public Set<String> nodes() {
        return nodes;
    }

    /** The feeds' pool (limits and counts). */
    public FeedPool pool() {
        return pool;
    }

    /** A push from {@code node} was stored: its feed, if any, reads on. */
    void received(String node) {
        NodeFeed f;
        synchronized (this) {
            f = feeds.get(node);
        }
        if (f != null) {
            f.feed().appended();
        }
    }

    /** Checks that {@code node} is one this hub accepts; TailRefusal naming {@code node} if not. */
    public void check(String node) {
        if (!nodes.contains(node)) {
            throw new TailRefusal("node", "'" + node + "' is not a node of this hub (hub.nodes)");
        }
    }

    /** The feed of {@code node}, started on first use. */
    public synchronized LiveFeed feed(String node) {
        check(node);
        if (closed) {
            throw new IllegalStateException("the hub is shutting down");
        }
        NodeFeed f = feeds.get(node);
        if (f == null) {
            FleetLogs.Lease lease = logs.lease(node);
            LiveFeed feed = new LiveFeed(lease.log(), null, pool, System::nanoTime, "outpost-fleet-tail-" + node);
            feed.start();
            f = new NodeFeed(lease, feed);
            feeds.put(node, f);
        }
        return f.feed();
    }

    /**
     * Subscribes to every node, live from now, each node's events framed by {@code framingOf(node)}; null (nothing
     * held) when live.subscribers_max would be exceeded.
     */
    public LiveFeed.Subscription subscribeAll(TailFilter filter, Function<String, Framing> framingOf, Outlet outlet) {
        List<LiveFeed.Subscription> all = new ArrayList<>();
        for (String node : nodes) {
            LiveFeed.Subscription s =
                    feed(node).subscribe(filter.copy(), new TailStart.Now(), framingOf.apply(node), outlet);
            if (s == null) {
                all.forEach(LiveFeed.Subscription::cancel);
                return null;
            }
            all.add(s);
        }
        return () -> all.forEach(LiveFeed.Subscription::cancel);
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (NodeFeed f : feeds.values()) {
            try {
                f.feed().close();
            } finally {
                f.lease().close();
            }
        }
        feeds.clear();
    }
}

package dev.outpost.edge.hub;

import dev.outpost.store.HybridClock;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LanedLog;
import dev.outpost.store.LogOptions;
import dev.outpost.sync.HubReceiver;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub's per-node event logs, under {@code <data.dir>/hub/<node>/log}, with the same store
 * modules an edge uses.
 *
 * <p>Design note. At most {@code openMax} logs stay open (each maps its lanes' current cycle
 * files); the least recently used log that nobody is using is closed beyond that. A log in use
 * (a push storing into it, a fleet query streaming from it) is never closed under its user:
 * callers borrow it through {@link #with} or {@link #lease}, which count users.
 */
public final class FleetLogs implements HubReceiver.NodeLogs, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FleetLogs.class);

    private final Path root;
    private final LogOptions template;
    private final int openMax;
    private final LongAdder opened;
    private final Map<String, Entry> open = new LinkedHashMap<>(16, 0.75f, true);
    private boolean closed;

    private static final class Entry {
        final LanedEventLog log;
        int users;

        Entry(LanedEventLog log) {
            this.log = log;
        }
    }

    /** A borrowed log; close it to give it back. */
    public final class Lease implements AutoCloseable {
        private final String node;
        private final Entry entry;
        private boolean returned;

        Lease(String node, Entry entry) {
            this.node = node;
            this.entry = entry;
        }

        public LanedEventLog log() {
            return entry.log;
        }

        @Override
        public void close() {
            synchronized (FleetLogs.this) {
                if (!returned) {
                    returned = true;
                    entry.users--;
                    trim();
                }
            }
        }

        @Override
        public String toString() {
            return "lease of " + node;
        }
    }

    /**
     * @param root directory holding one subdirectory per node
     * @param template durability, roll cycle and block size for the node logs
     */
    public FleetLogs(Path root, LogOptions template, int openMax) {
        this(root, template, openMax, new LongAdder());
    }

    /**
     * @param opened counts each opening of a node log (churn: a node log closed beyond openMax and opened again
     *     counts again)
     */
    public FleetLogs(Path root, LogOptions template, int openMax, LongAdder opened) {
        this.root = root;
        this.template = template;
        this.openMax = openMax;
        this.opened = opened;
    }

    @Override
    public <T> T with(String node, Function<LanedLog, T> use) {
        try (Lease l = lease(node)) {
            return use.apply(l.log());
        }
    }

    /** Borrows the log of {@code node}, opening it if needed. The node id must be validated. */
    public synchronized Lease lease(String node) {
        if (closed) {
            throw new IllegalStateException("the hub is shutting down");
        }
        Entry e = open.get(node);
        if (e == null) {
            Path dir = root.resolve(node);
            e = new Entry(LanedEventLog.open(
                    new LogOptions(
                            dir.resolve("log"),
                            dir.resolve("quarantine"),
                            template.durability(),
                            template.rollCycle(),
                            template.fsyncDelayMicros(),
                            template.compress(),
                            template.blockBytes()),
                    HybridClock.system()));
            open.put(node, e);
            opened.increment();
        }
        e.users++;
        trim();
        return new Lease(node, e);
    }

    /** How many times a node log was opened since start (reopenings included). */
    public long opened() {
        return opened.sum();
    }

    /** How many node logs are open now (at most openMax, plus any in use beyond it). */
    public synchronized int openLogs() {
        return open.size();
    }

    /** True if {@code node} has stored anything on this hub. */
    public boolean exists(String node) {
        return java.nio.file.Files.isDirectory(root.resolve(node).resolve("log"));
    }

    private void trim() {
        Iterator<Map.Entry<String, Entry>> it = open.entrySet().iterator();
        while (open.size() > openMax && it.hasNext()) {
            Map.Entry<String, Entry> eldest = it.next();
            if (eldest.getValue().users == 0) {
                it.remove();
                eldest.getValue().log.close();
                LOG.debug("closed the log of node {} (hub.node_logs_open_max {})", eldest.getKey(), openMax);
            }
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (Entry e : open.values()) {
            e.log.close();
        }
        open.clear();
    }
}

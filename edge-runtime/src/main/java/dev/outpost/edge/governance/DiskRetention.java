package dev.outpost.edge.governance;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.governor.DiskUsage;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Catalog;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.Retention;
import dev.outpost.store.RetentionRecords;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Retention of log cycle files under disk pressure, as the two disk actions ({@link RetireSyncedData}, {@link
 * DropUnsyncedData}) run it: what upstream has acknowledged, read from the catalog at each pass; each deleted cycle
 * counted, recorded in the retention log (GET /v1/retention) and taken off the tracked disk usage.
 *
 * <p>Invariant: an event deleted before the configured upstream acknowledged it is counted as dropped (loss, in
 * {@code outpost_retention_unsynced_events_dropped_total} and the retention log), never as retired. Offline (no
 * upstream), nothing is acknowledged, so nothing is ever retired as synced.
 */
final class DiskRetention {
    private static final JsonFactory JSON = new JsonFactory();

    private final Retention retention;
    private final Catalog catalog;
    private final DiskUsage disk;
    private final Supplier<URI> upstream;
    private final LongSupplier clockMillis;
    private final LongAdder cycles;
    private final LongAdder bytes;
    private final LongAdder retired;
    private final LongAdder dropped;

    /**
     * @param upstream the configured upstream (null: offline), read at each pass
     * @param summaries the rollups: a cycle goes only once those of its streams cover it ("summarise, then drop")
     * @param clockMillis the time recorded in the retention log
     */
    DiskRetention(
            LanedEventLog log,
            Catalog catalog,
            DiskUsage disk,
            Supplier<URI> upstream,
            Retention.Summaries summaries,
            LongSupplier clockMillis,
            Metrics metrics) {
        this.catalog = catalog;
        this.disk = disk;
        this.upstream = upstream;
        this.clockMillis = clockMillis;
        this.cycles =
                metrics.counter("outpost_retention_cycles_deleted_total", "Log cycle files deleted by retention.");
        this.bytes = metrics.counter("outpost_retention_bytes_freed_total", "Bytes freed by retention.");
        this.retired = metrics.counter(
                "outpost_retention_synced_events_retired_total",
                "Events deleted by retention after upstream had them.");
        this.dropped = metrics.counter(
                "outpost_retention_unsynced_events_dropped_total",
                "Events deleted by retention before upstream had them (disk critical; see GET /v1/retention).");
        this.retention = new Retention(log, this::deleted, summaries);
    }

    /** Deletes acknowledged cycles, oldest first, until {@code bytesToFree} are freed or none is left; bytes freed. */
    long retireSynced(long bytesToFree) {
        return retention.retireSynced(bytesToFree, syncedNow());
    }

    /** Deletes the oldest cycles of the lanes in {@code order}, acknowledged or not; bytes freed. */
    long dropUnsynced(long bytesToFree, List<Lane> order) {
        return retention.dropUnsynced(bytesToFree, order, syncedNow());
    }

    /** Events retired after upstream had them, so far. */
    long retiredEvents() {
        return retired.sum();
    }

    /** Events dropped before upstream had them, so far. */
    long droppedEvents() {
        return dropped.sum();
    }

    DiskUsage disk() {
        return disk;
    }

    /** What the configured upstream has acknowledged, per lane, from the catalog's sync cursors read now. */
    private Retention.Synced syncedNow() {
        URI up = upstream.get();
        if (up == null) {
            return Retention.Synced.NOTHING; // offline: nothing is ever acknowledged
        }
        Map<Lane, List<AckedRanges>> byLane = new EnumMap<>(Lane.class);
        for (Catalog.SyncCursorRow row : catalog.syncCursors()) {
            if (!row.upstream().equals(up.toString())) {
                continue; // another upstream's (an earlier configuration) or a hub's received ranges
            }
            byLane.computeIfAbsent(Lane.of(row.lane()), k -> new ArrayList<>()).add(row.ranges());
        }
        if (byLane.isEmpty()) {
            return Retention.Synced.NOTHING;
        }
        return (lane, from, to) -> {
            List<AckedRanges> rs = byLane.get(lane);
            if (rs == null) {
                return false;
            }
            for (AckedRanges r : rs) {
                if (!r.containsAll(from, to)) {
                    return false;
                }
            }
            return true;
        };
    }

    /** Retention deleted a cycle: count it, record it in the retention log, and track the disk. */
    private void deleted(Retention.Deleted d) {
        disk.add(-d.bytes());
        cycles.increment();
        bytes.add(d.bytes());
        retired.add(d.events() - d.unsyncedEvents());
        dropped.add(d.unsyncedEvents());
        catalog.retention()
                .record(new RetentionRecords.RetentionRow(
                        clockMillis.getAsLong(),
                        d.lane().id(),
                        d.cycle(),
                        d.firstSeq(),
                        d.lastSeq(),
                        d.bytes(),
                        d.events(),
                        d.unsyncedEvents(),
                        d.reason(),
                        streamsJson(d)));
    }

    /**
     * {@code {"stream":{"events":N,"unsynced":M[,"summarised":S]},...}}: what the cycle held, per stream; {@code
     * summarised} (present for a stream with rollups) counts the events its rollups had taken in before the drop.
     */
    static String streamsJson(Retention.Deleted d) {
        StringWriter out = new StringWriter(64 + 48 * d.eventsByStream().size());
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            for (Map.Entry<String, Long> e : d.eventsByStream().entrySet()) {
                g.writeObjectFieldStart(e.getKey());
                g.writeNumberField("events", e.getValue());
                g.writeNumberField("unsynced", d.unsyncedByStream().getOrDefault(e.getKey(), 0L));
                Long summarised = d.summarisedByStream().get(e.getKey());
                if (summarised != null) {
                    g.writeNumberField("summarised", summarised);
                }
                g.writeEndObject();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }
}

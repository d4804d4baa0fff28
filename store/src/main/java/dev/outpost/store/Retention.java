package dev.outpost.store;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention: frees disk by deleting whole cycle files of the event log's lanes, in the order the
 * brief sets (BRIEF §6): first data already acknowledged upstream, oldest first across lanes;
 * then, only when asked (disk critical), data not yet acknowledged, lane by lane in the order
 * given (bulk, then normal), oldest first within a lane.
 *
 * <p>Design note. Invariants:
 *
 * <ul>
 *   <li>The current cycle of a lane is never deleted (appends may still extend it), so the
 *       granularity of retention is one cycle: choose the roll cycle so a cycle is small against
 *       the disk budget.
 *   <li>Every deleted cycle is reported to the {@link Listener} with its events counted per stream
 *       and how many of them were not yet acknowledged: no loss goes uncounted. The cycle is read
 *       (streamed, one group in memory) before it is deleted.
 *   <li>Lanes not named in a drop order (critical, high) are never dropped while unacknowledged:
 *       the governor refuses writes instead.
 *   <li>One pass at a time (methods are synchronized); appends and reads go on meanwhile.
 * </ul>
 */
public final class Retention {
    private static final Logger LOG = LoggerFactory.getLogger(Retention.class);

    /** Most cycles looked at per lane in one pass. */
    public static final int CYCLES_PER_PASS_MAX = 4096;

    /** Most distinct streams counted per deleted cycle; the rest are counted under {@link #OTHER_STREAMS}. */
    public static final int STREAMS_COUNTED_MAX = 256;

    /** Where events of streams beyond {@link #STREAMS_COUNTED_MAX} are counted. */
    public static final String OTHER_STREAMS = "(other streams)";

    /** Why a cycle was deleted: every record in it was acknowledged upstream. */
    public static final String REASON_SYNCED = "synced";

    /** Why a cycle was deleted: the disk was critical and its lane may be dropped unsynced. */
    public static final String REASON_DISK_CRITICAL = "disk-critical";

    /** Says whether upstream has acknowledged every record of a lane in a sequence range. */
    @FunctionalInterface
    public interface Synced {
        /** True if every record of {@code lane} with {@code fromSeq <= seq <= toSeq} is acknowledged. */
        boolean covers(Lane lane, long fromSeq, long toSeq);

        /** Nothing is ever acknowledged: no upstream (offline mode). */
        Synced NOTHING = (lane, from, to) -> false;
    }

    /**
     * Says whether summaries (the engine's rollups) of a stream have taken in its events: a cycle holding events of
     * a summarised stream is deleted only once every summary of that stream covers the cycle ("summarise, then
     * drop").
     */
    public interface Summaries {
        /** True if {@code stream} has summaries. */
        boolean has(String stream);

        /** The highest sequence number every summary of {@code stream} covers (only asked if it has some). */
        long coveredSeq(String stream);

        /** No summaries: nothing to wait for. */
        Summaries NONE = new Summaries() {
            @Override
            public boolean has(String stream) {
                return false;
            }

            @Override
            public long coveredSeq(String stream) {
                return Long.MAX_VALUE;
            }
        };
    }

    /** Told of every deleted cycle, after the file is gone. Exceptions are logged and contained. */
    @FunctionalInterface
    public interface Listener {
        void deleted(Deleted d);
    }

    /**
     * One deleted cycle file.
     *
     * @param lane its lane
     * @param cycle its cycle number
     * @param firstSeq its first record's sequence number (0 if it had none)
     * @param lastSeq its last record's sequence number (0 if it had none)
     * @param bytes bytes freed
     * @param events readable records it held
     * @param unsyncedEvents those not acknowledged upstream: lost by this deletion
     * @param reason {@link #REASON_SYNCED} or {@link #REASON_DISK_CRITICAL}
     * @param eventsByStream events per stream name (at most {@link #STREAMS_COUNTED_MAX} + 1 keys)
     * @param unsyncedByStream unsynced events per stream name
     * @param summarisedByStream events per stream name that summaries had taken in (a stream with none: absent)
     */
    public record Deleted(
            Lane lane,
            int cycle,
            long firstSeq,
            long lastSeq,
            long bytes,
            long events,
            long unsyncedEvents,
            String reason,
            Map<String, Long> eventsByStream,
            Map<String, Long> unsyncedByStream,
            Map<String, Long> summarisedByStream) {}

    private final LanedEventLog log;
    private final Listener listener;
    private final Summaries summaries;

    public Retention(LanedEventLog log, Listener listener) {
        this(log, listener, Summaries.NONE);
    }

    /** @param summaries what must have taken in a cycle's events before it may be deleted */
    public Retention(LanedEventLog log, Listener listener, Summaries summaries) {
        this.log = log;
        this.listener = listener;
        this.summaries = summaries;
    }

    /**
     * Deletes cycles whose every record is acknowledged upstream, oldest first across lanes, until
     * at least {@code bytesToFree} are freed or none is left.
     *
     * @return bytes freed
     */
    public synchronized long retireSynced(long bytesToFree, Synced synced) {
        List<Candidate> all = new ArrayList<>();
        for (Lane lane : Lane.values()) {
            for (ChronicleEventLog.Cycle c : log.lane(lane).cycles(CYCLES_PER_PASS_MAX)) {
                if (!c.current()
                        && (c.firstSeq() == 0 || synced.covers(lane, c.firstSeq(), c.lastSeq()))
                        && summarised(lane, c)) {
                    all.add(new Candidate(lane, c));
                }
            }
        }
        all.sort(Comparator.comparingInt((Candidate k) -> k.cycle.cycle()).thenComparing(k -> k.lane));
        long freed = 0;
        for (Candidate k : all) {
            if (freed >= bytesToFree) {
                break;
            }
            freed += delete(k.lane, k.cycle, REASON_SYNCED, synced);
        }
        return freed;
    }

    /**
     * Deletes the oldest cycles of each lane of {@code order} in turn (all of the first lane's
     * older cycles before any of the second's), synced or not, until at least {@code bytesToFree}
     * are freed or only current cycles are left.
     *
     * @return bytes freed
     */
    public synchronized long dropUnsynced(long bytesToFree, List<Lane> order, Synced synced) {
        long freed = 0;
        for (Lane lane : order) {
            for (ChronicleEventLog.Cycle c : log.lane(lane).cycles(CYCLES_PER_PASS_MAX)) {
                if (freed >= bytesToFree) {
                    return freed;
                }
                if (c.current()) {
                    continue;
                }
                if (!summarised(lane, c)) {
                    break; // its summaries lag: newer cycles of the lane wait too (they are covered later)
                }
                freed += delete(lane, c, REASON_DISK_CRITICAL, synced);
            }
        }
        return freed;
    }

    /**
     * True if every summarised stream with events in the cycle has summaries covering it (read first: a pass under
     * disk pressure pays one more read of a cycle to lose nothing that was not summarised).
     */
    private boolean summarised(Lane lane, ChronicleEventLog.Cycle c) {
        if (summaries == Summaries.NONE || c.firstSeq() == 0) {
            return true;
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        boolean[] covered = {true};
        log.lane(lane).forEachRecordInCycle(c.cycle(), v -> {
            if (!covered[0]) {
                return;
            }
            String stream = v.stream();
            if (seen.size() < STREAMS_COUNTED_MAX && !seen.add(stream)) {
                return; // this stream was checked
            }
            if (summaries.has(stream) && summaries.coveredSeq(stream) < c.lastSeq()) {
                covered[0] = false;
            }
        });
        if (!covered[0]) {
            LOG.atInfo()
                    .addKeyValue(LogFields.LANE, lane.id())
                    .log(
                            "retention: cycle {} of lane {} (seq {}..{}) waits until its rollups cover it",
                            c.cycle(),
                            lane.id(),
                            c.firstSeq(),
                            c.lastSeq());
        }
        return covered[0];
    }

    private long delete(Lane lane, ChronicleEventLog.Cycle c, String reason, Synced synced) {
        ChronicleEventLog l = log.lane(lane);
        Map<String, Long> events = new HashMap<>();
        Map<String, Long> unsynced = new HashMap<>();
        Map<String, Long> summarised = new HashMap<>();
        long[] counts = new long[2];
        l.forEachRecordInCycle(c.cycle(), v -> {
            String stream =
                    events.size() < STREAMS_COUNTED_MAX || events.containsKey(v.stream()) ? v.stream() : OTHER_STREAMS;
            events.merge(stream, 1L, Long::sum);
            counts[0]++;
            if (!synced.covers(lane, v.seq, v.seq)) {
                unsynced.merge(stream, 1L, Long::sum);
                counts[1]++;
            }
            if (summaries.has(v.stream())) {
                summarised.merge(stream, 1L, Long::sum);
            }
        });
        long bytes = l.deleteCycle(c.cycle());
        Deleted d = new Deleted(
                lane,
                c.cycle(),
                c.firstSeq(),
                c.lastSeq(),
                bytes,
                counts[0],
                counts[1],
                reason,
                events,
                unsynced,
                summarised);
        if (counts[1] > 0) {
            LOG.atWarn()
                    .addKeyValue(LogFields.LANE, lane.id())
                    .addKeyValue(LogFields.STREAM, String.join(",", new java.util.TreeSet<>(unsynced.keySet())))
                    .addKeyValue(
                            LogFields.ADVICE,
                            "these events are lost for the hub: raise budget.disk, restore the upstream link"
                                    + " (GET /v1/sync/status) so data syncs before the disk fills, or move streams"
                                    + " that must not be lost to a higher priority")
                    .log(
                            "retention dropped {} unsynced events ({} bytes) of lane {}: cycle {}, seq {}..{}, {}; per stream {}",
                            counts[1],
                            bytes,
                            lane.id(),
                            c.cycle(),
                            c.firstSeq(),
                            c.lastSeq(),
                            reason,
                            unsynced);
        } else {
            LOG.atInfo()
                    .addKeyValue(LogFields.LANE, lane.id())
                    .log(
                            "retention retired {} synced events ({} bytes) of lane {}: cycle {}, seq {}..{}",
                            counts[0],
                            bytes,
                            lane.id(),
                            c.cycle(),
                            c.firstSeq(),
                            c.lastSeq());
        }
        try {
            listener.deleted(d);
        } catch (RuntimeException e) {
            LOG.atError()
                    .addKeyValue(LogFields.LANE, lane.id())
                    .addKeyValue(LogFields.ADVICE, "the cycle is deleted; GET /v1/retention may lack it. Report this")
                    .setCause(e)
                    .log("retention listener failed for cycle {} of lane {}", c.cycle(), lane.id());
        }
        return bytes;
    }

    private record Candidate(Lane lane, ChronicleEventLog.Cycle cycle) {}
}

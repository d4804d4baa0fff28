package dev.outpost.sync;

import dev.outpost.store.AckedRanges;
import dev.outpost.store.AppendResult;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventDraft;
import dev.outpost.store.EventLog;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedLog;
import dev.outpost.store.LogFields;
import dev.outpost.store.RecordView;
import dev.outpost.store.SyncCursors;
import dev.outpost.sync.wire.PushAck;
import dev.outpost.sync.wire.PushBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub side of push: stores each node's records once, whatever the edge resends.
 *
 * <p>Design note. Per (node, lane) the hub keeps the set of edge sequence ranges it has received
 * ({@link AckedRanges}, persisted as cursor {@code node:<id>}). Invariants:
 *
 * <ul>
 *   <li>One push at a time per (node, lane): the lane's ranges are the lock.
 *   <li>A range is added, persisted and acknowledged only after the records the hub did not have
 *       are durable in the node's log. The edge advances its own cursor only on that answer.
 *   <li>Each stored record keeps its edge sequence and ingest time as its event id
 *       ({@code <seq>:<hlc>}), so a crash between the log append and the catalog write is repaired
 *       on the next open of the node's log: the last {@code rebuildRecordsMax} records of each lane
 *       are read back into the ranges. Pushes in flight are bounded (admission control), so that
 *       tail covers every append whose range may not have been persisted.
 *   <li>Exactly-once in effect: a record whose sequence is in the ranges is never stored again.
 * </ul>
 */
public final class HubReceiver implements PushStore {
    private static final Logger LOG = LoggerFactory.getLogger(HubReceiver.class);

    /** Prefix of the catalog cursor holding what the hub received from a node. */
    public static final String CURSOR_PREFIX = "node:";

    /** The nodes' logs: lends a node's log (opening it if needed) for the duration of a call. */
    public interface NodeLogs {
        <T> T with(String node, Function<LanedLog, T> use);
    }

    /** Bytes a stored record adds to its payload (sequence, times, names, checksum), for sizing appends. */
    static final int RECORD_OVERHEAD_BYTES = 96;

    private final NodeLogs logs;
    private final long appendBytesMax;
    private final SyncCursors positions;
    private final int rebuildRecordsMax;
    private final Map<String, AckedRanges> ranges = new ConcurrentHashMap<>();

    /**
     * @param logs the nodes' logs
     * @param positions where the received ranges are kept
     * @param appendBytesMax largest single append to a node's log (a fraction of its block size)
     * @param rebuildRecordsMax records read back per lane when a node's ranges are first loaded
     */
    public HubReceiver(NodeLogs logs, SyncCursors positions, int rebuildRecordsMax, long appendBytesMax) {
        this.logs = logs;
        this.appendBytesMax = appendBytesMax;
        this.positions = positions;
        this.rebuildRecordsMax = rebuildRecordsMax;
    }

    /**
     * Stores the records of {@code b} the hub does not have; returns once they are durable. A push that fails after
     * some of its appends were made (a full disk on the second, a failed fsync) leaves records the ranges do not name:
     * the lane's ranges are dropped and loaded again on next use, which reads them back from the log as after a crash,
     * so a resend does not store them twice.
     */
    @Override
    public PushAck receive(PushBatch b) {
        String key = key(b.node(), b.lane());
        while (true) {
            AckedRanges r = ranges(b.node(), b.lane());
            synchronized (r) {
                if (ranges.get(key) != r) {
                    continue; // dropped by a push that failed while this one waited: load them again
                }
                try {
                    return receiveInto(r, b);
                } catch (RuntimeException e) {
                    ranges.remove(key, r);
                    throw e;
                }
            }
        }
    }

    private PushAck receiveInto(AckedRanges r, PushBatch b) {
        List<EventDraft> fresh = new ArrayList<>(b.records().size());
        for (PushBatch.Record rec : b.records()) {
            if (!r.contains(rec.seq())) {
                fresh.add(new EventDraft(rec.stream(), rec.seq() + ":" + rec.hlc(), null, 0, 1, null, rec.payload()));
            }
        }
        if (!fresh.isEmpty()) {
            // In appends of at most appendBytesMax: one append is one log excerpt, which must
            // stay well inside a block. A crash between them is repaired like any other.
            List<AppendResult> appended = logs.with(b.node(), log -> {
                List<AppendResult> out = new ArrayList<>();
                int start = 0;
                long bytes = 0;
                for (int i = 0; i < fresh.size(); i++) {
                    long n = fresh.get(i).payload().length + RECORD_OVERHEAD_BYTES;
                    if (i > start && bytes + n > appendBytesMax) {
                        out.add(log.append(b.lane(), fresh.subList(start, i)));
                        start = i;
                        bytes = 0;
                    }
                    bytes += n;
                }
                out.add(log.append(b.lane(), fresh.subList(start, fresh.size())));
                return out;
            });
            for (AppendResult a : appended) {
                try {
                    a.durable().join();
                } catch (CompletionException e) {
                    // a failed fsync: the store's own exception, as a failed append would be (503, not 500)
                    throw e.getCause() instanceof RuntimeException cause ? cause : e;
                }
            }
        }
        if (!r.add(b.fromSeq(), b.toSeq())) {
            // Stored (so nothing is lost) but not recorded: the edge resends and the records are
            // found in the log on the next rebuild at worst. Tell it to send in order.
            throw PushStore.tooManyGaps(b);
        }
        positions.putSyncCursor(CURSOR_PREFIX + b.node(), b.lane().id(), r);
        return PushAck.of(b, fresh.size());
    }

    /** What the hub holds of a node's lane (a copy), for an edge re-deriving its cursor. */
    @Override
    public AckedRanges received(String node, Lane lane) {
        AckedRanges r = ranges(node, lane);
        synchronized (r) {
            return AckedRanges.decode(r.encode(), null);
        }
    }

    private AckedRanges ranges(String node, Lane lane) {
        return ranges.computeIfAbsent(key(node, lane), k -> load(node, lane));
    }

    private static String key(String node, Lane lane) {
        return node + "\u0000" + lane.id();
    }

    private AckedRanges load(String node, Lane lane) {
        AckedRanges r = positions.syncCursor(CURSOR_PREFIX + node, lane.id());
        int repaired = logs.with(node, log -> rebuild(log, lane, r));
        if (repaired > 0) {
            LOG.atWarn()
                    .addKeyValue(LogFields.NODE, node)
                    .addKeyValue(LogFields.LANE, lane.id())
                    .addKeyValue(
                            LogFields.ADVICE,
                            "nothing to do: repaired, and the node is not asked to send them" + " again")
                    .log(
                            "node {} lane {}: {} stored records were missing from the received ranges (a crash between"
                                    + " storing and recording); added back",
                            node,
                            lane.id(),
                            repaired);
            positions.putSyncCursor(CURSOR_PREFIX + node, lane.id(), r);
        }
        return r;
    }

    /** Adds the edge sequence numbers of the lane's last stored records to {@code r}; returns how many were missing. */
    private int rebuild(LanedLog log, Lane lane, AckedRanges r) {
        EventLog laneLog = log.lane(lane);
        long from = Math.max(laneLog.firstSeq(), laneLog.lastSeq() - rebuildRecordsMax + 1);
        int repaired = 0;
        if (laneLog.lastSeq() >= laneLog.firstSeq()) {
            // The hub's own sequence numbers: read its last records back and take the edge's from their ids.
            try (EventCursor c = laneLog.cursorFromSeq(Math.max(1, from))) {
                RecordView v = new RecordView();
                while (c.next(v)) {
                    long[] seqHlc = edgeSeqAndHlc(v);
                    if (seqHlc != null && !r.contains(seqHlc[0]) && r.add(seqHlc[0], seqHlc[0])) {
                        repaired++;
                    }
                }
            }
        }
        return repaired;
    }

    /**
     * The edge sequence number and ingest time a hub record keeps as its event id ({@code
     * <seq>:<hlc>}), or null if the record has no such id.
     */
    public static long[] edgeSeqAndHlc(RecordView v) {
        String id = v.eventId();
        int colon = id == null ? -1 : id.indexOf(':');
        if (colon <= 0) {
            return null;
        }
        try {
            return new long[] {Long.parseLong(id.substring(0, colon)), Long.parseLong(id.substring(colon + 1))};
        } catch (NumberFormatException e) {
            return null;
        }
    }
}

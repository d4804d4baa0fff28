package dev.outpost.sync;

import dev.outpost.store.AckedRanges;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventLog;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedLog;
import dev.outpost.store.RecordView;
import dev.outpost.sync.wire.PushBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Which records go upstream next, and in what batches: the push's lane scheduling and batch
 * building, apart from the transport.
 *
 * <p>Design note. Invariants:
 *
 * <ul>
 *   <li>Order: lanes in priority order (critical first). Within a lane, the newest batch's worth of
 *       records goes first, then records ingested since the link came up ("live", from {@code
 *       liveFrom}), then the backlog, oldest first; newest-first and forward batches alternate. So
 *       after an outage the newest data reaches the hub within one batch, and a steady stream of
 *       new records never starves the older ones.
 *   <li>A batch covers a range: every record of its lane in the range is in it. Ranges start at a
 *       gap of the acknowledged set, so acknowledged ranges join up instead of fragmenting; a lane
 *       whose set nears {@link AckedRanges#RANGES_MAX} ranges sends only in order.
 *   <li>Sizes: batches hold at most the current record and byte sizes, scaled by {@link
 *       BatchScaling}; a hub's 413 halves the sizes, each acknowledgement doubles them back up to
 *       the configured ones.
 *   <li>Owned by the sync thread; not thread-safe.
 * </ul>
 */
final class PushSchedule {
    /** Ranges a cursor may hold before the lane sends only in order (see {@link AckedRanges}). */
    static final int OUT_OF_ORDER_RANGES_MAX = AckedRanges.RANGES_MAX - 16;

    /** Smallest byte size a batch is scaled or halved to. */
    static final int BATCH_BYTES_FLOOR = 1024;

    private final LanedLog log;
    private final String node;
    private final BatchScaling scale;
    private final int batchRecordsMax;
    private final int batchBytesMax;
    private final Map<Lane, AckedRanges> acked = new EnumMap<>(Lane.class);
    private final long[] liveFrom = new long[Lane.values().length];
    /** Per lane: whether its next batch is the newest window (alternates with forward batches). */
    private final boolean[] newestNext = new boolean[Lane.values().length];

    private int batchRecords;
    private int batchBytes;

    /** @param acked per lane, what upstream has acknowledged (owned by the schedule from here on) */
    PushSchedule(
            LanedLog log,
            String node,
            Map<Lane, AckedRanges> acked,
            int batchRecordsMax,
            int batchBytesMax,
            BatchScaling scale) {
        this.log = log;
        this.node = node;
        this.scale = scale;
        this.batchRecordsMax = batchRecordsMax;
        this.batchBytesMax = batchBytesMax;
        this.batchRecords = batchRecordsMax;
        this.batchBytes = batchBytesMax;
        this.acked.putAll(acked);
        linkUp();
    }

    /** What upstream has acknowledged of {@code lane} (the schedule's own set: copy before sharing). */
    AckedRanges acked(Lane lane) {
        return acked.get(lane);
    }

    /** Replaces the acknowledged set of {@code lane} (re-derived from the hub). */
    void replace(Lane lane, AckedRanges ranges) {
        acked.put(lane, ranges);
    }

    /**
     * Adds an acknowledged batch's range; false if the set is full (then the lane's next batches
     * go in order once the set is re-derived).
     */
    boolean acknowledged(PushBatch b) {
        boolean added = acked.get(b.lane()).add(b.fromSeq(), b.toSeq());
        if (batchRecords < batchRecordsMax) {
            batchRecords = Math.min(batchRecordsMax, batchRecords * 2);
            batchBytes = Math.min(batchBytesMax, batchBytes * 2);
        }
        return added;
    }

    /** The hub found a batch too large (413): halve the sizes. */
    void tooLarge() {
        batchRecords = Math.max(1, batchRecords / 2);
        batchBytes = Math.max(BATCH_BYTES_FLOOR, batchBytes / 2);
    }

    /** The link (re)opened: everything from here on is live and goes before the backlog. */
    void linkUp() {
        java.util.Arrays.fill(liveFrom, log.lastSeq() + 1);
    }

    /**
     * The next batch: lanes in priority order; within a lane the newest records first, then the
     * live region forward, then the backlog forward, oldest first. A lane alternates newest-first
     * and forward batches. Null if nothing is pending.
     *
     * @param inFlight the batch on the wire (taken as acknowledged), or null
     */
    PushBatch next(PushBatch inFlight) {
        long top = log.lastSeq();
        for (Lane lane : Lane.values()) {
            AckedRanges r = acked.get(lane);
            Pending pending = new Pending(r, inFlight != null && inFlight.lane() == lane ? inFlight : null);
            int i = lane.ordinal();
            long live = liveFrom[i];
            boolean outOfOrderAllowed = r.rangeCount() < OUT_OF_ORDER_RANGES_MAX;
            if (outOfOrderAllowed) {
                if (newestNext[i]) {
                    // The newest window: at most a batch's worth of sequence numbers below the top.
                    long window = Math.max(1, top - scale.apply(batchRecords, 1) + 1);
                    PushBatch b = read(lane, pending, pending.firstGap(window), Long.MAX_VALUE, false);
                    if (b != null) {
                        newestNext[i] = false;
                        return b;
                    }
                }
                newestNext[i] = true;
                PushBatch b = read(lane, pending, pending.firstGap(live), Long.MAX_VALUE, false);
                if (b != null) {
                    return b;
                }
            }
            long from = pending.firstGap(1);
            long limit = outOfOrderAllowed ? live - 1 : Long.MAX_VALUE;
            if (from <= limit) {
                PushBatch b = read(lane, pending, from, limit, true);
                if (b != null) {
                    return b;
                }
            }
        }
        return null;
    }

    /**
     * Reads a batch of {@code lane} from {@code from}: its records up to {@code limit} that are not
     * acknowledged, bounded in records and bytes. Null if it would carry nothing worth sending. A
     * hole between acknowledged ranges that holds none of the lane's records (only other lanes'
     * sequence numbers) is always worth sending, empty: acknowledging it joins the two ranges, and
     * otherwise the lane's records beyond it may never be reached from this gap.
     */
    private PushBatch read(Lane lane, Pending r, long from, long limit, boolean sendEmpty) {
        long bound = Math.min(limit, log.lastSeq()); // every sequence up to here is assigned and visible
        if (from > bound) {
            return null;
        }
        EventLog l = log.lane(lane);
        // The governor's smaller-batches action halves these while latency is over its target.
        int recordsMax = scale.apply(batchRecords, 1);
        long bytesMax = scale.apply(batchBytes, BATCH_BYTES_FLOOR);
        List<PushBatch.Record> out = new ArrayList<>();
        String lastStream = null;
        byte[] lastStreamBytes = null;
        long bytes = 0;
        long to = bound;
        boolean hole = false;
        if (l.lastSeq() >= from) {
            try (EventCursor c = l.cursorFromSeq(from)) {
                RecordView v = new RecordView();
                while (c.next(v)) {
                    long seq = v.seq();
                    if (seq > bound) {
                        break;
                    }
                    if (r.contains(seq)) {
                        to = seq - 1;
                        hole = out.isEmpty();
                        break;
                    }
                    if (out.size() >= recordsMax || (!out.isEmpty() && bytes + v.payloadLength() > bytesMax)) {
                        to = out.getLast().seq();
                        break;
                    }
                    if (lastStreamBytes == null || !v.streamEquals(lastStreamBytes)) {
                        lastStream = v.stream(); // batches are mostly one stream: decode it once
                        lastStreamBytes = lastStream.getBytes(StandardCharsets.UTF_8);
                    }
                    out.add(new PushBatch.Record(seq, v.hlc(), lastStream, v.payload()));
                    bytes += v.payloadLength();
                }
            }
        }
        if (to < from || (out.isEmpty() && !sendEmpty && !hole)) {
            return null;
        }
        return new PushBatch(node, lane, from, to, out);
    }

    /** A lane's acknowledged ranges plus the range of the batch in flight (taken as sent). */
    private record Pending(AckedRanges acked, PushBatch inFlight) {
        boolean contains(long seq) {
            return acked.contains(seq) || (inFlight != null && seq >= inFlight.fromSeq() && seq <= inFlight.toSeq());
        }

        long firstGap(long from) {
            long g = acked.firstGap(from);
            while (inFlight != null && g >= inFlight.fromSeq() && g <= inFlight.toSeq()) {
                g = acked.firstGap(inFlight.toSeq() + 1);
            }
            return g;
        }
    }
}

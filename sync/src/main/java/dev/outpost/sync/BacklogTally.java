package dev.outpost.sync;

import dev.outpost.store.AckedRanges;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventLog;
import dev.outpost.store.RecordView;
import dev.outpost.sync.wire.PushBatch;
import java.util.List;

/**
 * What one lane has not yet sent upstream, kept up to date rather than counted by reading the
 * whole backlog at every status request.
 *
 * <p>Design note. Invariant, under this object's lock: {@code records} and {@code bytes} are the
 * count and payload bytes of the lane's records with sequence in {@code [first, countedTo]} that
 * are not in {@code acked}. It is kept by three moves:
 *
 * <ul>
 *   <li>{@link #read} extends the count over records above {@code countedTo}, reading at most a
 *       bound per call (so no request reads a whole backlog; the answer says {@code exact=false}
 *       until the count has caught up with the lane);
 *   <li>{@link #acknowledged} subtracts a batch's records at or below {@code countedTo} when the
 *       hub acknowledges it (a record is in at most one acknowledged batch: batches skip what is
 *       acknowledged or in flight);
 *   <li>a recount from scratch when the acknowledged set is replaced wholesale ({@link #replace},
 *       after it was re-derived from the hub) or the lane's first sequence moved (retention
 *       deleted a cycle).
 * </ul>
 *
 * The oldest unsent record is found by reading from the first gap of the acknowledged set, which
 * the ranges put at the oldest unsent record after a few skipped ones.
 */
public final class BacklogTally {
    private final EventLog lane;
    private AckedRanges acked;
    private long first = Long.MIN_VALUE; // the lane's first sequence when the count began
    private long countedTo;
    private long records;
    private long bytes;

    /**
     * @param lane the lane counted: one lane's own log ({@link dev.outpost.store.LanedLog#lane})
     * @param acked what upstream acknowledged (owned by this tally from here on; empty offline)
     */
    public BacklogTally(EventLog lane, AckedRanges acked) {
        this.lane = lane;
        this.acked = acked;
    }

    /** The acknowledged ranges: a snapshot the caller must not change. */
    public synchronized AckedRanges acked() {
        return acked;
    }

    /** The acknowledged set was replaced wholesale: count again from the start. */
    public synchronized void replace(AckedRanges snapshot) {
        this.acked = snapshot;
        this.first = Long.MIN_VALUE;
    }

    /** The hub acknowledged {@code batch}; {@code snapshot} is the acknowledged set including it. */
    public synchronized void acknowledged(AckedRanges snapshot, List<PushBatch.Record> batch) {
        this.acked = snapshot;
        for (PushBatch.Record r : batch) {
            if (r.seq() >= first && r.seq() <= countedTo) {
                records--;
                bytes -= r.payload().length;
            }
        }
    }

    /**
     * What the lane has not sent, extending the count by at most {@code scanRecordsMax} records.
     *
     * @return the backlog; {@code exact} is false while the count has not reached the lane's end
     */
    public synchronized Pusher.Backlog read(int scanRecordsMax) {
        boolean exact = count(scanRecordsMax);
        return new Pusher.Backlog(records, bytes, records == 0 ? 0 : oldestHlc(scanRecordsMax), exact);
    }

    /** Extends the count over at most {@code scanRecordsMax} records; true if it reached the lane's end. */
    private boolean count(int scanRecordsMax) {
        long f = lane.firstSeq();
        if (f != first) {
            first = f;
            countedTo = f - 1;
            records = 0;
            bytes = 0;
        }
        long last = lane.lastSeq();
        if (countedTo < last) {
            int scanned = 0;
            boolean ended = true;
            try (EventCursor c = lane.cursorFromSeq(countedTo + 1)) {
                RecordView v = new RecordView();
                while (c.next(v)) {
                    long seq = v.seq();
                    if (seq > last) {
                        break;
                    }
                    if (scanned == scanRecordsMax) {
                        ended = false;
                        break;
                    }
                    scanned++;
                    countedTo = seq;
                    if (!acked.contains(seq)) {
                        records++;
                        bytes += v.payloadLength();
                    }
                }
            }
            if (ended) {
                countedTo = last; // the lane holds nothing else up to its last sequence
            }
        }
        assert records >= 0 && bytes >= 0 : "backlog tally below zero: " + records + " records, " + bytes + " bytes";
        return countedTo >= last;
    }

    /** The ingest HLC of the oldest unsent record, or 0 if none was found within the bound. */
    private long oldestHlc(int scanRecordsMax) {
        long from = Math.max(acked.firstGap(1), lane.firstSeq());
        if (from > lane.lastSeq()) {
            return 0;
        }
        try (EventCursor c = lane.cursorFromSeq(from)) {
            RecordView v = new RecordView();
            for (int i = 0; i < scanRecordsMax && c.next(v); i++) {
                if (!acked.contains(v.seq())) {
                    return v.hlc();
                }
            }
        }
        return 0;
    }

    /** Most records {@link #total} reads per lane to bring its count up to date. */
    static final int TOTAL_SCAN_RECORDS_MAX = 10_000;

    /**
     * What the lanes of {@code tallies} hold unsent, together, without looking for the oldest record (0): cheap enough
     * for every push.
     */
    static Pusher.Backlog total(Iterable<BacklogTally> tallies) {
        long records = 0;
        long bytes = 0;
        boolean exact = true;
        for (BacklogTally t : tallies) {
            synchronized (t) {
                exact &= t.count(TOTAL_SCAN_RECORDS_MAX);
                records += t.records;
                bytes += t.bytes;
            }
        }
        return new Pusher.Backlog(records, bytes, 0, exact);
    }
}

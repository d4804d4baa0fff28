package dev.outpost.edge.http;

import dev.outpost.edge.engine.rollup.Aggregation;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventLog;
import dev.outpost.store.RecordView;
import java.nio.charset.StandardCharsets;

/**
 * One bounded pass of GET /v1/aggregate over the log: from a sequence number, the events of one stream before a
 * time bound, folded into an {@link Aggregation}, reading the log forward with a cursor (never more than one
 * record in memory).
 *
 * <p>Invariants: at most {@code scanMax} records are read; the pass stops at the first of the time bound or the
 * log's end (complete), the scan bound, or an event whose group would exceed the aggregation's bound (incomplete:
 * {@link Result#nextSeq} is the first record not counted, so a pass from there counts every event of the range
 * exactly once over all passes). Payloads stored in another encoding are repaired first, as GET /v1/events shows
 * them ({@link PayloadRepair}); those no encoding makes JSON are counted as unreadable, not aggregated.
 */
final class AggregateScan {
    /** Why a pass stopped before the end of its range. */
    enum Stop {
        SCAN_RECORDS_MAX("scan_records_max"),
        GROUPS_MAX("groups_max");

        final String label;

        Stop(String label) {
            this.label = label;
        }
    }

    /**
     * @param fromSeq where the pass began
     * @param nextSeq the first sequence number not looked at (where a next pass begins)
     * @param scanned records read, of every stream
     * @param matched events of the stream folded into the aggregation
     * @param unreadable events of the stream that are no JSON object in any encoding
     * @param stop why the pass stopped early, or null if it reached the time bound or the log's end
     */
    record Result(long fromSeq, long nextSeq, long scanned, long matched, long unreadable, Stop stop) {}

    private AggregateScan() {}

    static Result run(EventLog log, long fromSeq, String stream, long toHlcExclusive, int scanMax, Aggregation into) {
        byte[] streamBytes = stream.getBytes(StandardCharsets.UTF_8);
        RecordView view = new RecordView();
        PayloadRepair repair = new PayloadRepair();
        long nextSeq = fromSeq;
        long scanned = 0;
        long matched = 0;
        long unreadable = 0;
        Stop stop = null;
        EventCursor cursor = log.cursorFromSeq(fromSeq);
        try {
            while (true) {
                if (scanned >= scanMax) {
                    stop = Stop.SCAN_RECORDS_MAX;
                    break;
                }
                if (!cursor.next(view) || view.hlc() >= toHlcExclusive) {
                    break;
                }
                if (view.streamEquals(streamBytes)) {
                    Aggregation.Fold f = fold(view, repair, into);
                    if (f == Aggregation.Fold.GROUPS_FULL) {
                        stop = Stop.GROUPS_MAX;
                        nextSeq = view.seq(); // not counted: the next pass begins with it
                        break;
                    }
                    matched += f == Aggregation.Fold.FOLDED ? 1 : 0;
                    unreadable += f == Aggregation.Fold.UNREADABLE ? 1 : 0;
                }
                scanned++;
                nextSeq = view.seq() + 1;
            }
        } finally {
            cursor.close();
        }
        return new Result(fromSeq, nextSeq, scanned, matched, unreadable, stop);
    }

    private static Aggregation.Fold fold(RecordView view, PayloadRepair repair, Aggregation into) {
        PayloadRepair.Verdict verdict = repair.inspect(view.payloadArray(), view.payloadOffset(), view.payloadLength());
        if (verdict == PayloadRepair.Verdict.UNREADABLE) {
            return Aggregation.Fold.UNREADABLE;
        }
        if (verdict == PayloadRepair.Verdict.REPAIRED) {
            byte[] r = repair.repaired();
            return into.fold(r, 0, r.length);
        }
        return into.fold(view.payloadArray(), view.payloadOffset(), view.payloadLength());
    }
}

package dev.outpost.store;

import java.util.List;

/**
 * The append-only event log: increasing sequence numbers from 1 (gap-free except where an append
 * was cut short by a crash before it was acknowledged), an HLC ingest time per record, a checksum
 * per record. Implementations are thread-safe.
 */
public interface EventLog extends AutoCloseable {

    /**
     * Appends the drafts as one unit: they get consecutive sequence numbers and nondecreasing ingest
     * times, and no other append interleaves with them.
     *
     * @throws StoreException if the log cannot be written (nothing of this call is acknowledged)
     */
    AppendResult append(List<EventDraft> drafts);

    /** Appends to {@code lane}; a log without lanes has one and ignores the argument. */
    default AppendResult append(Lane lane, List<EventDraft> drafts) {
        return append(drafts);
    }

    /**
     * Appends to {@code lane}; where the log acknowledges later (durability fsync), the result's future completes on
     * {@code acks} — one task per fsync for all the appends that named it — or on the log's own thread if null. A log
     * that acknowledges at once ignores it.
     */
    default AppendResult append(Lane lane, List<EventDraft> drafts, java.util.concurrent.Executor acks) {
        return append(lane, drafts);
    }

    /** The highest sequence number written, 0 when empty. */
    long lastSeq();

    /** The lowest sequence number still held, or {@code lastSeq() + 1} when empty. */
    long firstSeq();

    /** A cursor positioned at the first readable record with sequence number >= {@code fromSeq}. */
    EventCursor cursorFromSeq(long fromSeq);

    /** A follower from the first readable record with sequence number >= {@code fromSeq} ({@link EventFollower}). */
    default EventFollower follow(long fromSeq) {
        return EventFollower.reopening(this, fromSeq);
    }

    /** The lowest sequence number whose ingest time is >= {@code hlc}, or {@code lastSeq() + 1}. */
    long seqAtOrAfterTime(long hlc);

    /** Counters of what the log has seen. */
    LogCounters counters();

    /**
     * What the log holds, in words, for the one line logged when the agent stops: "empty: it holds
     * no events", "at seq 3 holding seq 1..3", or "at seq 57 with no events held: retention deleted
     * them all". Never a bare "seq 0", which reads like data loss.
     */
    default String summary() {
        long last = lastSeq();
        long first = firstSeq();
        if (last == 0) {
            return "empty: it holds no events";
        }
        return first > last
                ? "at seq " + last + " with no events held: retention deleted them all"
                : "at seq " + last + " holding seq " + first + ".." + last;
    }

    @Override
    void close();
}

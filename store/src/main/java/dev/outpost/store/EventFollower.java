package dev.outpost.store;

/**
 * Follows the log forward in sequence order up to a bound the caller moves on, as a live tail does at the head: each
 * call reads on from where the last one stopped, without seeking again. Not thread-safe; close it when done.
 */
public interface EventFollower extends AutoCloseable {
    /**
     * Fills {@code view} with the next readable record whose seq is {@code <= toSeq} and returns true, or returns false
     * when there is none now. A record above {@code toSeq} is kept for a later call with a higher bound. The caller
     * promises that every record at or below {@code toSeq} was appended before the call (an acknowledged head does);
     * {@code view} is valid until the next call.
     */
    boolean next(RecordView view, long toSeq);

    @Override
    void close();

    /** For any log: a cursor opened again wherever the last one stopped (what a log of its own does better). */
    static EventFollower reopening(EventLog log, long fromSeq) {
        return new EventFollower() {
            private long nextSeq = fromSeq;

            @Override
            public boolean next(RecordView view, long toSeq) {
                if (nextSeq > toSeq) {
                    return false;
                }
                try (EventCursor c = log.cursorFromSeq(nextSeq)) {
                    if (!c.next(view) || view.seq > toSeq) {
                        return false;
                    }
                    // One cursor per record (the view keeps the closed cursor's buffer): simple, and only for logs
                    // without a follower of their own (tests).
                    nextSeq = view.seq + 1;
                    return true;
                }
            }

            @Override
            public void close() {}
        };
    }
}

package dev.outpost.store;

/**
 * Follows one lane's log at the head ({@link EventFollower}) with one tailer for its whole life: a record read past
 * the caller's bound is held (not consumed) until a call allows it.
 *
 * <p>Design note. A live tail used to open a cursor per round: a seek (an index search) and two 64 KiB buffers each
 * time, hundreds of times a second with ingest busy. Invariants: records come in seq order, each once; {@link #held}
 * is the next record when set; once the log's end was met under bound B, no record at or below B can appear (the
 * caller appended them all before asking), so the tailer is polled again only for a higher bound.
 */
final class LogFollower implements EventFollower {
    private final LogCursor cursor;
    private final RecordView head = new RecordView();
    private boolean held;
    /** The bound under which the end of the log was last met (nothing more at or below it will come). */
    private long endMetUnder = Long.MIN_VALUE;

    LogFollower(LogCursor cursor) {
        this.cursor = cursor;
    }

    /** The next record at or below {@code toSeq}, not taken; null if there is none now. */
    RecordView peek(long toSeq) {
        if (!held) {
            if (toSeq <= endMetUnder) {
                return null;
            }
            if (!cursor.next(head)) {
                endMetUnder = toSeq;
                return null;
            }
            held = true;
        }
        return head.seq <= toSeq ? head : null;
    }

    /** The record {@link #peek} showed is taken (it stays valid until the next peek). */
    void take() {
        held = false;
    }

    @Override
    public boolean next(RecordView view, long toSeq) {
        RecordView h = peek(toSeq);
        if (h == null) {
            return false;
        }
        view.copyFrom(h);
        take();
        return true;
    }

    @Override
    public void close() {
        cursor.close();
    }
}

package dev.outpost.sync;

import java.util.concurrent.atomic.LongAdder;

/** What the push has done since start: read by metrics and status, counted only by the push. */
public final class PushCounters {
    final LongAdder batches = new LongAdder();
    final LongAdder records = new LongAdder();
    final LongAdder wireBytes = new LongAdder();
    final LongAdder payloadBytes = new LongAdder();
    final LongAdder failures = new LongAdder();
    final LongAdder throttled = new LongAdder();

    PushCounters() {}

    /** Batches the hub acknowledged. */
    public long batches() {
        return batches.sum();
    }

    /** Records the hub acknowledged (including ones it already had). */
    public long records() {
        return records.sum();
    }

    /** Bytes sent on the wire (push bodies, acknowledged or not). */
    public long wireBytes() {
        return wireBytes.sum();
    }

    /** Payload bytes (the stored event JSON) of acknowledged batches. */
    public long payloadBytes() {
        return payloadBytes.sum();
    }

    /** Failed requests. */
    public long failures() {
        return failures.sum();
    }

    /** 429 and 503 answers obeyed. */
    public long throttled() {
        return throttled.sum();
    }
}

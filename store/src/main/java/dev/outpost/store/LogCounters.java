package dev.outpost.store;

import java.util.concurrent.atomic.LongAdder;

/** What the log has seen since it was opened; exported as metrics. */
public final class LogCounters {
    /** Records appended. */
    public final LongAdder appended = new LongAdder();
    /** Payload-plus-header bytes appended. */
    public final LongAdder appendedBytes = new LongAdder();
    /** Bytes the appended groups would have taken uncompressed. */
    public final LongAdder uncompressedBytes = new LongAdder();
    /** fsync calls made by group commit. */
    public final LongAdder fsyncs = new LongAdder();
    /** Appends made durable by those fsyncs (their ratio is the appends per fsync). */
    public final LongAdder fsyncedAppends = new LongAdder();
    /** Records made durable by those fsyncs. */
    public final LongAdder fsyncedRecords = new LongAdder();
    /** Corrupt records skipped while reading. */
    public final LongAdder corruptSkipped = new LongAdder();
    /** Corrupt records copied to quarantine on open. */
    public final LongAdder quarantined = new LongAdder();
}

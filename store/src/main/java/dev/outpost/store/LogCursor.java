package dev.outpost.store;

import java.util.Set;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Reads the event log's groups forward (a {@link ChronicleEventLog}'s cursor), yielding their valid records with seq
 * at or above {@code fromSeq}: quarantined groups are passed over, corrupt records and groups skipped and counted
 * ({@link LogCounters#corruptSkipped}). Not thread-safe; closing it closes its tailer.
 */
final class LogCursor implements EventCursor {
    final ExcerptTailer tailer;
    private final long fromSeq;
    private final GroupInflater inflater = new GroupInflater();
    private byte[] stored = new byte[64 * 1024];
    private int storedLen;
    private byte[] group;
    private int groupLen;
    private int pos;
    private int remaining;
    /** Groups of later cycles end the cursor (for reading one cycle). */
    int lastCycle = Integer.MAX_VALUE;

    private final RollCycle rollCycle;
    private final LogCounters counters;
    private final Set<Long> quarantinedGroups;

    LogCursor(
            ExcerptTailer tailer,
            long fromSeq,
            RollCycle rollCycle,
            LogCounters counters,
            Set<Long> quarantinedGroups) {
        this.tailer = tailer;
        this.fromSeq = fromSeq;
        this.rollCycle = rollCycle;
        this.counters = counters;
        this.quarantinedGroups = quarantinedGroups;
    }

    @Override
    public boolean next(RecordView view) {
        while (true) {
            while (remaining > 0) {
                remaining--;
                if (pos + 4 > groupLen) {
                    counters.corruptSkipped.add(remaining + 1);
                    remaining = 0;
                    break;
                }
                int len = RecordCodec.getInt(group, pos);
                pos += 4;
                if (len < 0 || pos + len > groupLen) {
                    counters.corruptSkipped.add(remaining + 1);
                    remaining = 0;
                    break;
                }
                int off = pos;
                pos += len;
                if (!RecordCodec.decode(group, off, len, view)) {
                    counters.corruptSkipped.increment();
                    continue;
                }
                if (view.seq >= fromSeq) {
                    return true;
                }
            }
            try (DocumentContext dc = tailer.readingDocument()) {
                if (!dc.isPresent()) {
                    return false;
                }
                long idx = dc.index();
                if (lastCycle != Integer.MAX_VALUE && rollCycle.toCycle(idx) > lastCycle) {
                    dc.rollbackOnClose(); // not consumed: the cursor ends before it
                    return false;
                }
                if (quarantinedGroups.contains(idx)) {
                    continue;
                }
                Bytes<?> b = dc.wire().bytes();
                int len = (int) b.readRemaining();
                if (stored.length < len) {
                    stored = new byte[Math.max(len, stored.length * 2)];
                }
                b.read(stored, 0, len);
                storedLen = len;
            }
            if (!inflater.inflate(stored, storedLen)) {
                counters.corruptSkipped.increment();
                continue;
            }
            group = inflater.bytes;
            groupLen = inflater.length;
            remaining = RecordCodec.getInt(group, 2);
            pos = RecordCodec.GROUP_HEADER_BYTES;
        }
    }

    @Override
    public void close() {
        tailer.close();
    }
}

package dev.outpost.store;

import java.text.ParseException;
import java.util.Set;
import java.util.function.IntToLongFunction;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.TailerState;
import net.openhft.chronicle.queue.impl.RollingChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Reads the event log's groups forward (a {@link ChronicleEventLog}'s cursor), yielding their valid records with seq
 * at or above {@code fromSeq}: quarantined groups are passed over, corrupt records and groups skipped and counted
 * ({@link LogCounters#corruptSkipped}). A torn cycle ({@link TornCycle}) ends at its tear: the cursor goes on at the next
 * cycle, and never reads an excerpt at or past the tear even where Chronicle's index would reach it. A cycle that stops
 * short of its end marker while a later cycle exists is torn too, though not recorded yet (an older cycle damaged
 * after it was closed): after one more read to rule out a roll in progress, the cursor counts it as one corrupt group
 * and goes on at the next cycle. Not thread-safe; closing it closes its tailer.
 */
final class LogCursor implements EventCursor {
    final ExcerptTailer tailer;
    private final long fromSeq;
    private final GroupInflater inflater = new GroupInflater();
    /** Grown to the largest group read (live tails open a cursor per round: a fixed 64 KiB each was their garbage). */
    private byte[] stored = new byte[0];

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
    /** Cycle to the index of its first unreachable excerpt ({@link Long#MAX_VALUE}: not torn). */
    private final IntToLongFunction tornAt;
    /** Longer excerpts are lengths read from damaged bytes: skipped, never copied. */
    private final long excerptBytesMax;

    LogCursor(
            ExcerptTailer tailer,
            long fromSeq,
            RollCycle rollCycle,
            LogCounters counters,
            Set<Long> quarantinedGroups,
            IntToLongFunction tornAt) {
        this.tailer = tailer;
        this.fromSeq = fromSeq;
        this.rollCycle = rollCycle;
        this.counters = counters;
        this.quarantinedGroups = quarantinedGroups;
        this.tornAt = tornAt;
        this.excerptBytesMax = tailer.queue() instanceof SingleChronicleQueue q
                ? TornCycle.excerptBytesMax(q)
                : Integer.MAX_VALUE - 16;
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
            int pastTear = Integer.MIN_VALUE;
            boolean ended = false;
            try (DocumentContext dc = tailer.readingDocument()) {
                if (!dc.isPresent()) {
                    ended = true;
                } else {
                    long idx = dc.index();
                    int cycle = rollCycle.toCycle(idx);
                    if (lastCycle != Integer.MAX_VALUE && cycle > lastCycle) {
                        dc.rollbackOnClose(); // not consumed: the cursor ends before it
                        return false;
                    }
                    if (idx >= tornAt.applyAsLong(cycle)) {
                        dc.rollbackOnClose(); // reached through the index past a tear: not part of the log
                        pastTear = cycle;
                    } else if (quarantinedGroups.contains(idx)) {
                        continue;
                    } else {
                        Bytes<?> b = dc.wire().bytes();
                        long claimed = b.readRemaining();
                        if (claimed > excerptBytesMax) {
                            counters.corruptSkipped.increment(); // a length read from damaged bytes
                            continue;
                        }
                        int len = (int) claimed;
                        if (stored.length < len) {
                            stored = new byte[Math.max(len, stored.length * 2)];
                        }
                        b.read(stored, 0, len);
                        storedLen = len;
                    }
                }
            }
            if (ended || pastTear != Integer.MIN_VALUE) {
                if (ended ? atTear() : toCycleAfter(pastTear)) {
                    continue;
                }
                return false;
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

    /**
     * At the end of what the tailer reads: true if it stood at a tear and now stands at the start of the next cycle
     * (false: the end of the log, or a torn last cycle with nothing after it yet).
     */
    private boolean atTear() {
        int cycle = tailer.cycle();
        if (cycle < 0 || (lastCycle != Integer.MAX_VALUE && cycle >= lastCycle)) {
            return false; // not in a cycle yet; or reading one cycle, whose end is the cursor's end
        }
        if (tornAt.applyAsLong(cycle) != Long.MAX_VALUE) {
            return toCycleAfter(cycle);
        }
        RollingChronicleQueue q = (RollingChronicleQueue) tailer.queue();
        if (q.lastCycle() <= cycle) {
            return false; // the live end of the log
        }
        // A later cycle exists. The appender puts the end marker in a cycle before it creates the next one, so if a
        // read now still finds nothing here, nothing will ever be here: the cycle is torn.
        try (DocumentContext dc = tailer.readingDocument()) {
            if (dc.isPresent() || tailer.cycle() != cycle) {
                dc.rollbackOnClose();
                return true; // a roll in progress: read it normally
            }
        }
        if (tailer.state() == TailerState.END_OF_CYCLE) {
            return false; // the cycle's end marker: the next cycle's first excerpt is not complete yet
        }
        counters.corruptSkipped.increment();
        return toCycleAfter(cycle);
    }

    /** Moves the tailer to the start of the first cycle after {@code cycle}; false if there is none. */
    private boolean toCycleAfter(int cycle) {
        RollingChronicleQueue q = (RollingChronicleQueue) tailer.queue();
        int next;
        try {
            next = q.nextCycle(cycle, TailerDirection.FORWARD);
        } catch (ParseException e) {
            return false;
        }
        return next > cycle && tailer.moveToCycle(next);
    }

    @Override
    public void close() {
        tailer.close();
    }
}

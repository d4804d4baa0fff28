package dev.outpost.store;

import java.io.IOException;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.function.IntFunction;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a {@link ChronicleEventLog} does on open to find where it continues: the last fully valid group (corrupt groups
 * after it are quarantined), and, if the last cycle is torn ({@link TornCycle}), the tear.
 *
 * <p>Design note ("nothing lost"). A tear in the cycle appends would extend means sequence numbers past the last
 * readable record may have been handed out (synced upstream, read by consumers) and that anything appended in that
 * cycle would land after unreadable bytes. So on a tear: the last valid group is searched backwards from before the
 * tear (the records before it stay readable); the torn region is copied to quarantine and counted once (the
 * quarantine lists the tear, so a later open does not count it again); the sequence floor ({@link SeqFloor}) is raised
 * above every sequence number the lost excerpts may hold, on disk before any append; the cycle's written end is
 * sealed with Chronicle's end marker if its header is damaged; and the log's time is held at the next cycle's start at
 * least, so the next append opens a new cycle file. Invariants: no sequence number at or below the floor is handed
 * out again; no append lands in a torn cycle; readers end a torn cycle at its tear ({@link LogCursor}).
 */
final class LogRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(LogRecovery.class);

    private LogRecovery() {}

    /**
     * The last valid record: its sequence number and HLC (0, 0 if none); whether the last cycle is torn.
     *
     * @param lostAbove the highest sequence number the groups quarantined after it may hold (0: none)
     */
    record Tail(long seq, long hlc, long lostAbove, boolean torn) {}

    /**
     * Recovers a log's end: the last valid group, corrupt groups after it quarantined, a torn last cycle dealt with
     * ({@link #tear}), and the floor raised above every sequence number a quarantined group may hold: a group stored
     * whole and damaged later was acknowledged, and its numbers may be known upstream.
     *
     * @param sharedLastSeq the highest sequence number the other lanes opened so far hold
     */
    static Tail recover(
            SingleChronicleQueue queue,
            java.util.function.Supplier<ExcerptTailer> tailers,
            IntFunction<Path> cycleFile,
            Quarantine quarantine,
            SeqFloor floor,
            HybridClock clock,
            long blockBytes,
            long sharedLastSeq) {
        int last = queue.lastCycle();
        TornCycle.Tear tear = last == Integer.MIN_VALUE ? null : TornCycle.find(queue, last);
        long groupRecordsMax = groupRecordsMax(blockBytes);
        Tail tail;
        try (ExcerptTailer t = tailers.get()) {
            tail = tail(t, queue, quarantine, tear, groupRecordsMax);
        }
        if (tail.lostAbove() > 0) {
            floor.raise(tail.lostAbove(), Math.max(tail.hlc(), clock.now()));
        }
        if (tear != null) {
            long readable = Math.max(Math.max(tail.seq(), tail.lostAbove()), sharedLastSeq);
            tear(queue, cycleFile, tear, readable, quarantine, floor, clock, groupRecordsMax);
        }
        return tail;
    }

    /**
     * Reads groups backwards from the end (or from before {@code tear}) until one verifies whole; quarantines the
     * corrupt groups after it.
     */
    private static Tail tail(
            ExcerptTailer t,
            SingleChronicleQueue queue,
            Quarantine quarantine,
            TornCycle.Tear tear,
            long groupRecordsMax) {
        boolean torn = tear != null;
        t.direction(TailerDirection.BACKWARD);
        if (!torn) {
            t.toEnd();
        } else if (!moveBefore(t, queue, quarantine, tear)) {
            return new Tail(0, 0, 0, true);
        }
        long knownLost = 0;
        long unknownLost = 0;
        byte[] group = new byte[64 * 1024];
        RecordView v = new RecordView();
        GroupInflater inflater = new GroupInflater();
        while (true) {
            long idx;
            int len;
            try (DocumentContext dc = t.readingDocument()) {
                if (!dc.isPresent()) {
                    return new Tail(0, 0, lostAbove(0, knownLost, unknownLost, groupRecordsMax), torn);
                }
                idx = dc.index();
                Bytes<?> b = dc.wire().bytes();
                long stored = b.readRemaining();
                // a length read from damaged bytes: keep its start aside, never allocate what it claims
                len = (int) Math.min(stored, stored > TornCycle.excerptBytesMax(queue) ? 64 << 10 : stored);
                if (group.length < len) {
                    group = new byte[len];
                }
                b.read(group, 0, len);
            }
            if (quarantine.holds(idx)) {
                continue;
            }
            long[] found = inflater.verifiedTail(group, len, v);
            if (found != null) {
                return new Tail(found[0], found[1], lostAbove(found[0], knownLost, unknownLost, groupRecordsMax), torn);
            }
            quarantine.add(idx, queue.rollCycle().toCycle(idx), group, len);
            if (len >= RecordCodec.GROUP_HEADER_BYTES && RecordCodec.validGroupHeader(group, len)) {
                knownLost = Math.max(knownLost, RecordCodec.getLong(group, 6) + RecordCodec.getInt(group, 2) - 1);
            } else {
                unknownLost++;
            }
        }
    }

    /** The highest number quarantined groups may hold: what their headers say, or a whole group each if unreadable. */
    private static long lostAbove(long tailSeq, long knownLost, long unknownLost, long groupRecordsMax) {
        if (knownLost == 0 && unknownLost == 0) {
            return 0;
        }
        return Math.max(tailSeq, knownLost) + unknownLost * groupRecordsMax;
    }

    /** Puts a backward tailer on the last excerpt before the tear (in the cycle before, if it has none). */
    private static boolean moveBefore(
            ExcerptTailer t, SingleChronicleQueue queue, Quarantine quarantine, TornCycle.Tear tear) {
        if (tear.lastReadableIndex() >= 0) {
            return t.moveToIndex(tear.lastReadableIndex());
        }
        int prev;
        try {
            prev = queue.nextCycle(tear.cycle(), TailerDirection.BACKWARD);
        } catch (ParseException e) {
            return false;
        }
        if (prev < 0 || prev >= tear.cycle()) {
            return false;
        }
        RollCycle rc = queue.rollCycle();
        long n = t.excerptsInCycle(prev);
        long torn = quarantine.tornAt(prev);
        if (torn != Long.MAX_VALUE) {
            n = Math.min(n, rc.toSequenceNumber(torn));
        }
        return n > 0 && t.moveToIndex(rc.toIndex(prev, n - 1));
    }

    /**
     * Deals with {@code tear}: quarantines and counts it unless an earlier open did, seals its written end, and raises
     * the floor above every sequence number it may hold (on disk before this returns).
     *
     * @param readableLastSeq the last sequence number readable before the tear, in this lane or any (0 if none)
     * @param groupRecordsMax the most records one group can hold (a group fits in a quarter of a block)
     * @return the sequence number the log continues above
     */
    static long tear(
            SingleChronicleQueue queue,
            IntFunction<Path> cycleFile,
            TornCycle.Tear tear,
            long readableLastSeq,
            Quarantine quarantine,
            SeqFloor floor,
            HybridClock clock,
            long groupRecordsMax) {
        Path file = cycleFile.apply(tear.cycle());
        long[] bound = TornCycle.lostSeqBound(queue, file, tear, readableLastSeq, groupRecordsMax);
        // Durable first: a crash after this point must still find the numbers above the lost ones.
        floor.raise(bound[0], Math.max(bound[1], clock.now()));
        if (quarantine.tornAt(tear.cycle()) == Long.MAX_VALUE) {
            byte[] bytes;
            try {
                bytes = TornCycle.tornBytes(file, tear);
            } catch (IOException e) {
                bytes = new byte[0];
            }
            quarantine.addTear(tear, bytes, floor.seq());
        }
        try {
            TornCycle.seal(file, tear);
        } catch (IOException e) {
            LOG.atWarn()
                    .addKeyValue(LogFields.ADVICE, "check the data directory's disk (space, permissions, I/O errors)")
                    .setCause(e)
                    .log("could not seal the written end of torn cycle file {}", file);
        }
        return floor.seq();
    }

    /**
     * Walks every cycle and deals with each tear not recorded yet ({@link #tear}).
     *
     * @return {tears newly recorded, the sequence number the log continues above}
     */
    static long[] recordTears(
            SingleChronicleQueue queue,
            IntFunction<Path> cycleFile,
            Quarantine quarantine,
            SeqFloor floor,
            HybridClock clock,
            long blockBytes,
            long lastSeq) {
        long found = 0;
        long above = lastSeq;
        int first = queue.firstCycle();
        int last = queue.lastCycle();
        if (first == Integer.MAX_VALUE || last == Integer.MIN_VALUE) {
            return new long[] {0, above};
        }
        for (Long c : queue.listCyclesBetween(first, last)) {
            if (quarantine.tornAt(c.intValue()) != Long.MAX_VALUE) {
                continue;
            }
            TornCycle.Tear t = TornCycle.find(queue, c.intValue());
            if (t != null) {
                above = Math.max(
                        above, tear(queue, cycleFile, t, above, quarantine, floor, clock, groupRecordsMax(blockBytes)));
                found++;
            }
        }
        return new long[] {found, above};
    }

    /** Records per group at most for a log of {@code blockBytes} blocks: a group fits in a quarter block. */
    static long groupRecordsMax(long blockBytes) {
        return blockBytes / 4 / (RecordCodec.FIXED_BYTES + 4) + 1;
    }
}

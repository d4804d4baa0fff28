package dev.outpost.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueStore;
import net.openhft.chronicle.wire.DocumentContext;
import net.openhft.chronicle.wire.Wires;

/**
 * Finds a cycle file whose framing breaks before its written end: a "torn" cycle.
 *
 * <p>Design note. Chronicle keeps, in each cycle file's header, the position of the last excerpt written (its write
 * position), but readers and the appender find excerpts by following each excerpt's 4-byte length header from the
 * start. If a header in the middle is overwritten (zeros, garbage, a wrong length), a forward reader stops there, while
 * the write position still names an excerpt further on: everything between is unreadable, and an appender that went on
 * in that cycle would hand out sequence numbers it cannot prove unused and acknowledge writes no reader reaches. So a
 * cycle is torn when a forward walk over its excerpts (Chronicle's own tailer: the path every reader takes) ends before
 * the excerpt at the write position, or its last excerpt is followed by anything but zeros, an end marker or a write
 * left unfinished (the write position may lag the last excerpt by one: kill -9 between the two updates). The walk reads one header per excerpt; start-up walks each lane's last
 * cycle (the one appends would extend), {@code fsck} every cycle. Invariants: a clean cycle is never reported torn (its
 * last excerpt is at the write position); nothing here writes to the cycle except {@link #seal}, which puts
 * Chronicle's end-of-file marker at the written end, where Chronicle itself puts it when it rolls.
 */
final class TornCycle {
    /** Bytes of a torn region copied to quarantine at most; the cycle file keeps the rest until retention. */
    static final long QUARANTINE_BYTES_MAX = 64L << 20;

    private TornCycle() {}

    /**
     * Where a cycle's framing breaks.
     *
     * @param cycle the cycle
     * @param firstLostIndex log index of the first excerpt a forward reader cannot reach
     * @param lastReadableIndex log index of the last excerpt it reaches, -1 if none in this cycle
     * @param lastWrittenIndex log index of the last excerpt written, as the cycle's header says
     * @param damagePosition file offset where the walk stopped (the end of the last readable excerpt)
     * @param writePosition file offset of the last excerpt written (its header)
     * @param writtenEndHeader the 4-byte header found at {@code writePosition}
     * @param writtenEndIntact whether that header still frames the last excerpt (a complete excerpt of a sane length,
     *     followed by nothing): else Chronicle must not follow it
     */
    record Tear(
            int cycle,
            long firstLostIndex,
            long lastReadableIndex,
            long lastWrittenIndex,
            long damagePosition,
            long writePosition,
            int writtenEndHeader,
            boolean writtenEndIntact) {
        /** Excerpts (groups) written after the last readable one: at least one. */
        long lostGroups() {
            return Math.max(1, lastWrittenIndex - firstLostIndex + 1);
        }
    }

    /** A complete data header whose length fits in an excerpt of {@code queue}. */
    static boolean intact(SingleChronicleQueue queue, int header) {
        return header != 0
                && header != Wires.END_OF_DATA
                && Wires.isReady(header)
                && Wires.isData(header)
                && Wires.lengthOf(header) <= excerptBytesMax(queue);
    }

    /**
     * The longest excerpt {@code queue} takes (Chronicle refuses one over a quarter block): a longer one is a length
     * header read from damaged bytes, and no reader copies it.
     */
    static long excerptBytesMax(SingleChronicleQueue queue) {
        return queue.blockSize() / 4;
    }

    /** The tear of {@code cycle}, or null if a forward walk reaches its written end (or it holds nothing). */
    static Tear find(SingleChronicleQueue queue, int cycle) {
        long wp;
        int header;
        Path file;
        boolean padded;
        SingleChronicleQueueStore store = queue.storeForCycle(cycle, queue.epoch(), false, null);
        if (store == null) {
            return null;
        }
        try {
            wp = store.writePosition();
            header = wp > 0 ? store.bytes().readVolatileInt(wp) : 0;
            file = store.file().toPath();
            padded = store.dataVersion() > 0; // headers then start at 4-byte boundaries
        } finally {
            queue.closeStore(store);
        }
        if (wp <= 0) {
            return null; // nothing written in it
        }
        RollCycle rc = queue.rollCycle();
        long lastRead = -1;
        long lastPos = -1;
        long end = 0;
        long written;
        try (ExcerptTailer t = queue.createTailer()) {
            t.singleThreadedCheckDisabled(true);
            written = t.excerptsInCycle(cycle);
            if (t.moveToCycle(cycle)) {
                while (true) {
                    try (DocumentContext dc = t.readingDocument()) {
                        if (!dc.isPresent()) {
                            break;
                        }
                        if (rc.toCycle(dc.index()) != cycle) {
                            dc.rollbackOnClose(); // a clean cycle's end marker led on to the next one
                            break;
                        }
                        Bytes<?> b = dc.wire().bytes();
                        if (b.readRemaining() > excerptBytesMax(queue)) {
                            break; // a length read from damaged bytes: the walk went astray here
                        }
                        lastRead = dc.index();
                        lastPos = b.readPosition() - Wires.SPB_HEADER_SIZE;
                        end = b.readLimit();
                    }
                }
            }
        }
        long lastWritten = rc.toIndex(cycle, Math.max(0, written - 1));
        if (lastPos >= wp) {
            // Past it: a kill -9 between an excerpt's completion and the write position's update; Chronicle catches up.
            int after = intAt(file, padded ? (end + 3) & ~3L : end);
            if (after == 0 || after == Wires.END_OF_DATA) {
                return null; // the walk ended on the last excerpt written, and nothing follows it
            }
            if (Wires.isNotComplete(after) && lastGroupVerifies(queue, lastRead)) {
                return null; // a write that never completed (kill -9 mid-append): Chronicle's appender deals with it
            }
            // The last excerpt's length is wrong: it does not end where the written data does. It is lost as well.
            long before = rc.toSequenceNumber(lastRead) == 0 ? -1 : lastRead - 1;
            return new Tear(cycle, lastRead, before, lastRead, wp, wp, header, false);
        }
        long firstLost = lastRead < 0 ? rc.toIndex(cycle, 0) : lastRead + 1;
        return new Tear(
                cycle,
                firstLost,
                lastRead,
                Math.max(firstLost, lastWritten),
                Math.max(0, end),
                wp,
                header,
                intact(queue, header));
    }

    /** Whether the excerpt at {@code index} holds a group whose header and records all verify. */
    private static boolean lastGroupVerifies(SingleChronicleQueue queue, long index) {
        try (ExcerptTailer t = queue.createTailer()) {
            t.singleThreadedCheckDisabled(true);
            if (!t.moveToIndex(index)) {
                return false;
            }
            try (DocumentContext dc = t.readingDocument()) {
                if (!dc.isPresent()) {
                    return false;
                }
                Bytes<?> b = dc.wire().bytes();
                byte[] g = new byte[(int) b.readRemaining()];
                b.read(g, 0, g.length);
                return new GroupInflater().verifiedTail(g, g.length, new RecordView()) != null;
            }
        }
    }

    /** The little-endian int at {@code pos} of {@code file} (0 past its end or if unreadable). */
    private static int intAt(Path file, long pos) {
        ByteBuffer bb = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (bb.hasRemaining() && ch.read(bb, pos + bb.position()) > 0) {
                // reads the int
            }
        } catch (IOException e) {
            return 0;
        }
        return bb.hasRemaining() ? 0 : bb.getInt(0);
    }

    /**
     * The highest sequence number and its HLC that the lost excerpts of {@code tear} may hold, never below what their
     * readable headers say: each excerpt still reachable through Chronicle's index (the excerpts after the next index
     * entry past the damage usually are) or whose group header verifies at the written end tells its last sequence
     * number; every excerpt after the last one that tells is counted as a group of {@code groupRecordsMax} records.
     *
     * @param readableLastSeq the last sequence number readable before the tear (0 if none)
     */
    static long[] lostSeqBound(
            SingleChronicleQueue queue, Path file, Tear tear, long readableLastSeq, long groupRecordsMax) {
        long knownSeq = readableLastSeq;
        long knownHlc = 0;
        long unknownAfter = tear.lostGroups();
        long[] atEnd = groupHeaderAt(file, tear.writePosition() + Wires.SPB_HEADER_SIZE);
        if (atEnd != null) {
            return new long[] {Math.max(readableLastSeq, atEnd[0]), atEnd[1]};
        }
        try (ExcerptTailer t = queue.createTailer()) {
            t.singleThreadedCheckDisabled(true);
            byte[] h = new byte[RecordCodec.GROUP_HEADER_BYTES];
            for (long i = tear.lastWrittenIndex(); i >= tear.firstLostIndex(); i--) {
                if (!t.moveToIndex(i)) {
                    continue;
                }
                try (DocumentContext dc = t.readingDocument()) {
                    Bytes<?> b = dc.wire() == null ? null : dc.wire().bytes();
                    if (!dc.isPresent() || b == null || b.readRemaining() < h.length) {
                        continue;
                    }
                    b.read(h, 0, h.length);
                }
                if (RecordCodec.validGroupHeader(h, h.length)) {
                    knownSeq = Math.max(knownSeq, RecordCodec.getLong(h, 6) + RecordCodec.getInt(h, 2) - 1);
                    knownHlc = RecordCodec.getLong(h, 14);
                    unknownAfter = tear.lastWrittenIndex() - i;
                    break;
                }
            }
        }
        return new long[] {knownSeq + unknownAfter * groupRecordsMax, knownHlc};
    }

    /** {last seq, first hlc} of a group whose header verifies at file offset {@code pos}, or null. */
    private static long[] groupHeaderAt(Path file, long pos) {
        byte[] h = new byte[RecordCodec.GROUP_HEADER_BYTES];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer bb = ByteBuffer.wrap(h);
            while (bb.hasRemaining() && ch.read(bb, pos + bb.position()) > 0) {
                // reads the header
            }
        } catch (IOException e) {
            return null;
        }
        if (!RecordCodec.validGroupHeader(h, h.length)) {
            return null;
        }
        return new long[] {RecordCodec.getLong(h, 6) + RecordCodec.getInt(h, 2) - 1, RecordCodec.getLong(h, 14)};
    }

    /** The torn region's bytes, from the damage to the written end (at most {@link #QUARANTINE_BYTES_MAX}). */
    static byte[] tornBytes(Path file, Tear tear) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long endLen = tear.writtenEndIntact() ? Wires.lengthOf(tear.writtenEndHeader()) : (64 << 10);
            long to = Math.min(ch.size(), tear.writePosition() + Wires.SPB_HEADER_SIZE + endLen);
            long from = Math.max(0, Math.min(tear.damagePosition(), to));
            ByteBuffer bb = ByteBuffer.allocate((int) Math.min(QUARANTINE_BYTES_MAX, to - from));
            while (bb.hasRemaining() && ch.read(bb, from + bb.position()) > 0) {
                // reads the region
            }
            int n = bb.position();
            byte[] a = bb.array();
            while (n > 0 && a[n - 1] == 0) {
                n--; // zeros after the written end are the allocation ahead, not data
            }
            return java.util.Arrays.copyOf(a, n);
        }
    }

    /**
     * Puts Chronicle's end-of-file marker at the written end if the header there is not a complete excerpt: the
     * appender, when it rolls to the next cycle, walks from the write position to put its marker after the last
     * excerpt, and would wait out its timeout on a header that looks half-written, or follow a garbage length far
     * past the file. Called only after the region was copied to quarantine.
     */
    static void seal(Path file, Tear tear) throws IOException {
        if (tear.writtenEndIntact() || tear.writtenEndHeader() == Wires.END_OF_DATA) {
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer eof = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            eof.putInt(0, Wires.END_OF_DATA);
            ch.write(eof, tear.writePosition());
            ch.force(false);
        }
    }
}

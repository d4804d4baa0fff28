package dev.outpost.store;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The sequence numbers an upstream has acknowledged, as a set of closed ranges: a sync cursor.
 * Acknowledgements arrive out of order (after an outage live data goes first and the backlog
 * drains behind it, BRIEF §5), so a cursor is a set of ranges, not a single high-water mark.
 *
 * <p>Design note. Invariants, true whenever no method is running: the ranges are sorted by start,
 * disjoint and non-adjacent (ranges ending at n and starting at n + 1 are stored as one), every
 * bound is in [1, {@link #SEQ_MAX}], and there are at most {@link #RANGES_MAX} of them. They are
 * kept in two parallel arrays of longs (starts, ends), both strictly increasing, so lookups are
 * binary searches and an add costs one search plus one array shift, with no object per range.
 *
 * <p>The bound keeps the cursor, its catalog row and the time to store it small. {@link #add}
 * never stays under it by merging ranges across a gap: that would mark sequence numbers as
 * acknowledged that the upstream never received, and retention would then delete data that was
 * never synced. Instead {@link #add} refuses (returns false, nothing changes) when the range would
 * be a new, separate range beyond the bound. The owner, the sync lane, must then stop sending out
 * of order and send from {@code firstGap(1)} upward until gaps fill: an in-order acknowledgement
 * extends the range below it and never needs a new one. A lane with k batches in flight avoids
 * refusals altogether by sending out of order only while {@code rangeCount() + k < RANGES_MAX}. A
 * refused acknowledgement loses nothing: its batch is sent again and the hub deduplicates it.
 *
 * <p>Encoding ({@link #encode}), unsigned LEB128 varints, CRC32C little-endian:
 *
 * <pre>
 * size  field
 * 1     format version, {@value #FORMAT_VERSION}
 * var   n = number of ranges (at most {@link #RANGES_MAX})
 * n x   var gap  = from - (previous to, 0 for the first) - 1; at least 1 after the first range
 *       var span = to - from
 * 4     CRC32C of every byte before it
 * </pre>
 *
 * {@link #decode} checks every invariant, so bytes that decode are a valid cursor; anything else
 * is a {@link StoreException}. The checksum matters: a flipped bit in a span would otherwise
 * decode to a cursor claiming data the upstream never acknowledged.
 *
 * <p>Not thread-safe: each cursor is owned by one sync lane, which serializes its use.
 */
public final class AckedRanges {
    /** Most ranges a cursor holds; {@link #add} refuses a range that would be one more. */
    public static final int RANGES_MAX = 4096;

    /** Highest sequence number a range may hold, one below Long.MAX_VALUE so that {@link #firstGap} always has an answer. */
    public static final long SEQ_MAX = Long.MAX_VALUE - 1;

    /** The encoding format version this code writes and reads. */
    static final byte FORMAT_VERSION = 1;

    /** Bytes of the trailing checksum. */
    private static final int CRC_BYTES = 4;

    /** Longest varint encoding of a 64-bit value. */
    private static final int VARINT_BYTES_MAX = 10;

    /** Most ranges {@link #toString} lists, so a fragmented cursor does not flood a log line. */
    private static final int TO_STRING_RANGES_MAX = 16;

    /** Ranges the arrays start with; most cursors are one range or a few. */
    private static final int INITIAL_CAPACITY = 4;

    private final int rangesMax;
    private long[] starts;
    private long[] ends;
    private int count;

    /**
     * A closed range of sequence numbers.
     *
     * @param from the first sequence number, at least 1
     * @param to the last sequence number, at least {@code from} and at most {@link #SEQ_MAX}
     */
    public record Range(long from, long to) {
        public Range {
            checkRange(from, to);
        }
    }

    /** An empty cursor: nothing acknowledged. */
    public AckedRanges() {
        this(RANGES_MAX);
    }

    /** An empty cursor with a smaller bound, so tests can reach it. */
    AckedRanges(int rangesMax) {
        if (rangesMax < 1 || rangesMax > RANGES_MAX) {
            throw new IllegalArgumentException("rangesMax must be in [1, " + RANGES_MAX + "]: " + rangesMax);
        }
        this.rangesMax = rangesMax;
        this.starts = new long[Math.min(INITIAL_CAPACITY, rangesMax)];
        this.ends = new long[starts.length];
    }

    /**
     * Marks {@code from..to} (inclusive) as acknowledged, merging it with every range it overlaps
     * or touches.
     *
     * @return true if the range is now acknowledged (also when it already was); false, changing
     *     nothing, if it would be a new separate range beyond {@link #RANGES_MAX}: the caller must
     *     then send in order until gaps fill (see the class note)
     * @throws IllegalArgumentException if {@code from < 1}, {@code to < from} or {@code to > SEQ_MAX}
     */
    public boolean add(long from, long to) {
        checkRange(from, to);
        // Ranges lo..hi-1 overlap or touch [from, to]; no overflow: from - 1 >= 0, to + 1 <= MAX_VALUE.
        int lo = firstEndAtLeast(from - 1);
        int hi = firstStartAbove(to + 1);
        if (lo == hi) {
            if (count == rangesMax) {
                return false;
            }
            if (count == starts.length) {
                int capacity = (int) Math.min(rangesMax, 2L * starts.length);
                starts = Arrays.copyOf(starts, capacity);
                ends = Arrays.copyOf(ends, capacity);
            }
            System.arraycopy(starts, lo, starts, lo + 1, count - lo);
            System.arraycopy(ends, lo, ends, lo + 1, count - lo);
            starts[lo] = from;
            ends[lo] = to;
            count++;
            return true;
        }
        long end = Math.max(to, ends[hi - 1]);
        starts[lo] = Math.min(from, starts[lo]);
        ends[lo] = end;
        int absorbed = hi - lo - 1;
        if (absorbed > 0) {
            System.arraycopy(starts, hi, starts, lo + 1, count - hi);
            System.arraycopy(ends, hi, ends, lo + 1, count - hi);
            count -= absorbed;
        }
        return true;
    }

    /** True if {@code seq} is acknowledged. */
    public boolean contains(long seq) {
        checkSeq(seq);
        int i = firstEndAtLeast(seq);
        return i < count && starts[i] <= seq;
    }

    /** True if every sequence number in {@code from..to} (inclusive) is acknowledged. */
    public boolean containsAll(long from, long to) {
        checkRange(from, to);
        // Ranges are non-adjacent, so an acknowledged interval lies inside a single range.
        int i = firstEndAtLeast(from);
        return i < count && starts[i] <= from && ends[i] >= to;
    }

    /**
     * The lowest sequence number at or above {@code from} that is not acknowledged: where in-order
     * sending resumes. {@code firstGap(1)} is the low-water mark: everything below it is
     * acknowledged. Returns {@code SEQ_MAX + 1} if everything from {@code from} on is acknowledged.
     */
    public long firstGap(long from) {
        checkSeq(from);
        int i = firstEndAtLeast(from);
        return i < count && starts[i] <= from ? ends[i] + 1 : from;
    }

    /** The acknowledged ranges in ascending order: an immutable snapshot. */
    public List<Range> ranges() {
        Range[] out = new Range[count];
        for (int i = 0; i < count; i++) {
            out[i] = new Range(starts[i], ends[i]);
        }
        return List.of(out);
    }

    /** How many separate ranges there are (at most {@link #RANGES_MAX}). */
    public int rangeCount() {
        return count;
    }

    /** How many sequence numbers are acknowledged (cannot overflow: they all lie in [1, SEQ_MAX]). */
    public long acknowledgedCount() {
        long n = 0;
        for (int i = 0; i < count; i++) {
            n += ends[i] - starts[i] + 1;
        }
        return n;
    }

    /** True if nothing is acknowledged. */
    public boolean isEmpty() {
        return count == 0;
    }

    /** The compact encoding described in the class note; {@link #decode} reads it back. */
    public byte[] encode() {
        int size = 1 + varintSize(count) + CRC_BYTES;
        long prevEnd = 0;
        for (int i = 0; i < count; i++) {
            size += varintSize(starts[i] - prevEnd - 1) + varintSize(ends[i] - starts[i]);
            prevEnd = ends[i];
        }
        byte[] b = new byte[size];
        b[0] = FORMAT_VERSION;
        int p = putVarint(b, 1, count);
        prevEnd = 0;
        for (int i = 0; i < count; i++) {
            p = putVarint(b, p, starts[i] - prevEnd - 1);
            p = putVarint(b, p, ends[i] - starts[i]);
            prevEnd = ends[i];
        }
        CRC32C crc = new CRC32C();
        crc.update(b, 0, p);
        RecordCodec.putInt(b, p, (int) crc.getValue());
        assert p + CRC_BYTES == size;
        return b;
    }

    /**
     * Reads an encoding written by {@link #encode}.
     *
     * @param source where the bytes were read from, named in the error
     * @throws StoreException if the bytes are truncated, damaged, of another format version, or
     *     describe ranges that break an invariant (overlapping, adjacent, out of order, too many)
     */
    public static AckedRanges decode(byte[] bytes, Path source) {
        if (bytes.length < 1 + 1 + CRC_BYTES) {
            throw corrupt("truncated: " + bytes.length + " bytes", source);
        }
        if (bytes[0] != FORMAT_VERSION) {
            throw new StoreException(
                    "decode acknowledged ranges (format version " + bytes[0] + ", expected " + FORMAT_VERSION + ")",
                    source,
                    "the cursor was written by another Outpost version; run that version or reset the cursor",
                    null);
        }
        int end = bytes.length - CRC_BYTES;
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, end);
        if ((int) crc.getValue() != getInt(bytes, end)) {
            throw corrupt("checksum mismatch", source);
        }
        Reader r = new Reader(bytes, end, source);
        long n = r.varint("range count");
        if (n < 0 || n > RANGES_MAX) {
            throw corrupt("range count " + Long.toUnsignedString(n) + " exceeds " + RANGES_MAX, source);
        }
        AckedRanges out = new AckedRanges();
        out.starts = new long[Math.max(INITIAL_CAPACITY, (int) n)];
        out.ends = new long[out.starts.length];
        long prevEnd = 0;
        for (int i = 0; i < n; i++) {
            long gap = r.varint("gap before range " + i);
            long span = r.varint("span of range " + i);
            // Unsigned comparisons: a varint above Long.MAX_VALUE reads as negative, i.e. overlapping.
            if (i > 0 && gap == 0) {
                throw corrupt("range " + i + " is adjacent to the one before", source);
            }
            if (Long.compareUnsigned(gap, SEQ_MAX - prevEnd) >= 0) {
                throw corrupt(
                        "range " + i + (i == 0 ? "" : " overlaps the one before or") + " starts beyond " + SEQ_MAX,
                        source);
            }
            long from = prevEnd + 1 + gap;
            if (Long.compareUnsigned(span, SEQ_MAX - from) > 0) {
                throw corrupt("range " + i + " ends beyond " + SEQ_MAX, source);
            }
            out.starts[i] = from;
            out.ends[i] = from + span;
            prevEnd = from + span;
        }
        out.count = (int) n;
        if (r.pos != end) {
            throw corrupt((end - r.pos) + " bytes after the last range", source);
        }
        return out;
    }

    /** Equal if they acknowledge the same sequence numbers. */
    @Override
    public boolean equals(Object o) {
        return o instanceof AckedRanges a
                && Arrays.equals(starts, 0, count, a.starts, 0, a.count)
                && Arrays.equals(ends, 0, count, a.ends, 0, a.count);
    }

    @Override
    public int hashCode() {
        int h = 1;
        for (int i = 0; i < count; i++) {
            h = 31 * h + Long.hashCode(starts[i]);
            h = 31 * h + Long.hashCode(ends[i]);
        }
        return h;
    }

    /** Ranges as {@code [1-5, 8, 10-12]}, the first {@value #TO_STRING_RANGES_MAX} of them. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < Math.min(count, TO_STRING_RANGES_MAX); i++) {
            s.append(i > 0 ? ", " : "").append(starts[i]);
            if (ends[i] != starts[i]) {
                s.append('-').append(ends[i]);
            }
        }
        if (count > TO_STRING_RANGES_MAX) {
            s.append(", ... ").append(count - TO_STRING_RANGES_MAX).append(" more");
        }
        return s.append(']').toString();
    }

    /** Lowest index whose range ends at or above {@code x}, or {@code count}. */
    private int firstEndAtLeast(long x) {
        int lo = 0;
        int hi = count;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] >= x) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /** Lowest index whose range starts above {@code x}, or {@code count}. */
    private int firstStartAbove(long x) {
        int lo = 0;
        int hi = count;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (starts[mid] > x) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private static void checkSeq(long seq) {
        if (seq < 1 || seq > SEQ_MAX) {
            throw new IllegalArgumentException("sequence number must be in [1, " + SEQ_MAX + "]: " + seq);
        }
    }

    private static void checkRange(long from, long to) {
        if (from < 1 || to < from || to > SEQ_MAX) {
            throw new IllegalArgumentException(
                    "range must satisfy 1 <= from <= to <= " + SEQ_MAX + ": " + from + ".." + to);
        }
    }

    private static StoreException corrupt(String detail, Path source) {
        return new StoreException(
                "decode acknowledged ranges (" + detail + ")",
                source,
                "the bytes are damaged or are not an encoded cursor",
                null);
    }

    private static int getInt(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16 | (b[p + 3] & 0xFF) << 24;
    }

    private static int varintSize(long v) {
        int n = 1;
        while ((v >>>= 7) != 0) {
            n++;
        }
        return n;
    }

    private static int putVarint(byte[] b, int p, long v) {
        while ((v & ~0x7FL) != 0) {
            b[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        b[p++] = (byte) v;
        return p;
    }

    /** Reads varints up to {@code end}, failing with the decode error instead of running past it. */
    private static final class Reader {
        private final byte[] b;
        private final int end;
        private final Path source;
        int pos = 1;

        Reader(byte[] b, int end, Path source) {
            this.b = b;
            this.end = end;
            this.source = source;
        }

        /** An unsigned 64-bit value (negative as a long if above Long.MAX_VALUE). */
        long varint(String what) {
            long v = 0;
            for (int i = 0; i < VARINT_BYTES_MAX; i++) {
                if (pos == end) {
                    throw corrupt("truncated in " + what, source);
                }
                int x = b[pos++] & 0xFF;
                if (i == VARINT_BYTES_MAX - 1 && x > 1) {
                    throw corrupt(what + " overflows 64 bits", source);
                }
                // Only the shortest form is accepted, so equal cursors always have equal bytes.
                if (i > 0 && x == 0) {
                    throw corrupt(what + " is not a minimal varint", source);
                }
                v |= (long) (x & 0x7F) << (7 * i);
                if ((x & 0x80) == 0) {
                    return v;
                }
            }
            throw corrupt(what + " overflows 64 bits", source);
        }
    }
}

package dev.outpost.store;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The on-disk format of one event record, the body of one Chronicle Queue excerpt (written with
 * the raw bytes API). All integers little-endian.
 *
 * <pre>
 * offset  size  field
 * 0       1     magic 0x4F ('O')
 * 1       1     format version, {@value #VERSION}
 * 2       8     sequence number (gap-free, starts at 1)
 * 10      8     ingest time, hybrid logical clock (see {@link HybridClock})
 * 18      2     S = stream name length, then S bytes UTF-8
 * ..      2     I = event id length (0: none), then I bytes UTF-8
 * ..      2     K = request key length (0: none), then K bytes UTF-8
 * ..      4     line index in the request
 * ..      4     line count of the request
 * ..      2     D = number of duplicate pairs, then D x (4 line index, 8 original sequence)
 * ..      4     P = payload length, then P bytes: the event as compact JSON
 * end-4   4     CRC32C of every byte before it
 * </pre>
 *
 * A record whose length, magic, version or checksum does not match is corrupt: the reader skips it
 * and reports it; it is never half-decoded.
 *
 * <p>One append call (one HTTP request) is one excerpt, a <em>group</em>, so a request is stored
 * all or nothing: Chronicle publishes an excerpt's header only once the whole excerpt is written,
 * and kill -9 before that leaves nothing visible. A group is:
 *
 * <pre>
 * offset  size  field
 * 0       1     magic 0x47 ('G')
 * 1       1     format version, {@value #VERSION}
 * 2       4     N = number of records
 * 6       8     sequence number of the first record
 * 14      8     ingest time of the first record
 * 22      4     CRC32C of bytes 0..21
 * 26      ..    N x (4 record length L, then L bytes of record as above)
 * </pre>
 *
 * The header lets a seek binary-search groups by sequence or time reading 26 bytes per probe.
 *
 * <p>A compressed group has magic 0x5A ('Z') and the same header; after it comes one frame of the
 * compress module ({@code FrameCodec}) whose content is the records region of a 'G' group. The log
 * writes 'Z' when the codec policy chooses a codec for the hot log and the frame is smaller than
 * the records; readers accept both, so data written before compression stays readable.
 */
final class RecordCodec {
    /** First byte of every record. */
    static final byte MAGIC = 0x4F;

    /** The format version this code writes and reads. */
    static final byte VERSION = 1;

    /** Bytes of the fixed part: magic, version, seq, hlc, four length fields, line index/count, payload length, CRC. */
    static final int FIXED_BYTES = 1 + 1 + 8 + 8 + 2 + 2 + 2 + 4 + 4 + 2 + 4 + 4;

    /** First byte of every group. */
    static final byte GROUP_MAGIC = 0x47;

    /** First byte of a compressed group. */
    static final byte GROUP_MAGIC_COMPRESSED = 0x5A;

    /** Bytes of a group header. */
    static final int GROUP_HEADER_BYTES = 26;

    /** Longest stream name, event id or request key in bytes (u16 length field). */
    static final int NAME_BYTES_MAX = 0xFFFF;

    private RecordCodec() {}

    /** Appends the record to {@code buf} (grown if needed), preceded by its length. */
    static void encode(EventDraft d, long seq, long hlc, GrowableBuffer buf) {
        encode(d, seq, hlc, buf, new CRC32C());
    }

    /**
     * Appends the record to {@code buf} (grown if needed), preceded by its length; {@code crc} is the caller's (reset
     * here), so a log encodes without allocating for names that are ASCII (stream names always are) and a payload
     * copied straight from the draft's slice.
     */
    static void encode(EventDraft d, long seq, long hlc, GrowableBuffer buf, CRC32C crc) {
        String stream = d.stream();
        String id = d.eventId() == null ? "" : d.eventId();
        String key = d.requestKey() == null ? "" : d.requestKey();
        long[] dups = d.duplicates();
        assert dups.length % 2 == 0 && dups.length / 2 <= 0xFFFF;
        // UTF-8 takes at most 3 bytes per UTF-16 character: room enough for the names however they encode
        int namesMax = 3 * (stream.length() + id.length() + key.length());
        buf.ensure(4 + FIXED_BYTES + namesMax + (dups.length / 2) * 12 + d.payloadLength());
        int lengthAt = buf.position();
        buf.putInt(0); // the length, once known
        int start = buf.position();
        buf.put(MAGIC);
        buf.put(VERSION);
        buf.putLong(seq);
        buf.putLong(hlc);
        putName(stream, buf);
        putName(id, buf);
        putName(key, buf);
        buf.putInt(d.lineIndex());
        buf.putInt(d.lineCount());
        buf.putShort(dups.length / 2);
        for (int i = 0; i < dups.length; i += 2) {
            buf.putInt((int) dups[i]);
            buf.putLong(dups[i + 1]);
        }
        buf.putInt(d.payloadLength());
        buf.put(d.payload(), d.payloadOffset(), d.payloadLength());
        crc.reset();
        crc.update(buf.array(), start, buf.position() - start);
        buf.putInt((int) crc.getValue());
        int len = buf.position() - start;
        byte[] a = buf.array();
        a[lengthAt] = (byte) len;
        a[lengthAt + 1] = (byte) (len >>> 8);
        a[lengthAt + 2] = (byte) (len >>> 16);
        a[lengthAt + 3] = (byte) (len >>> 24);
    }

    /** A name as a u16 length and its UTF-8 bytes: straight from the string when it is ASCII. */
    private static void putName(String name, GrowableBuffer buf) {
        int lengthAt = buf.position();
        buf.putShort(0);
        if (buf.putAscii(name)) {
            int n = name.length();
            assert n <= NAME_BYTES_MAX;
            buf.array()[lengthAt] = (byte) n;
            buf.array()[lengthAt + 1] = (byte) (n >>> 8);
            return;
        }
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        assert utf8.length <= NAME_BYTES_MAX;
        buf.array()[lengthAt] = (byte) utf8.length;
        buf.array()[lengthAt + 1] = (byte) (utf8.length >>> 8);
        buf.put(utf8);
    }

    /** Writes a group header at offset 0 of {@code buf} (reserved by the caller). */
    static void writeGroupHeader(byte[] b, byte magic, int count, long firstSeq, long firstHlc) {
        assert magic == GROUP_MAGIC || magic == GROUP_MAGIC_COMPRESSED;
        b[0] = magic;
        b[1] = VERSION;
        putInt(b, 2, count);
        putLong(b, 6, firstSeq);
        putLong(b, 14, firstHlc);
        CRC32C crc = new CRC32C();
        crc.update(b, 0, 22);
        putInt(b, 22, (int) crc.getValue());
    }

    /** True if the first 26 bytes of {@code b} are a valid group header. */
    static boolean validGroupHeader(byte[] b, int len) {
        if (len < GROUP_HEADER_BYTES || (b[0] != GROUP_MAGIC && b[0] != GROUP_MAGIC_COMPRESSED) || b[1] != VERSION) {
            return false;
        }
        CRC32C crc = new CRC32C();
        crc.update(b, 0, 22);
        return (int) crc.getValue() == getInt(b, 22);
    }

    static void putInt(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
        b[p + 2] = (byte) (v >>> 16);
        b[p + 3] = (byte) (v >>> 24);
    }

    static void putLong(byte[] b, int p, long v) {
        putInt(b, p, (int) v);
        putInt(b, p + 4, (int) (v >>> 32));
    }

    /**
     * Decodes the {@code len} bytes of {@code b} at {@code off} into {@code view}; returns false if
     * they are corrupt.
     */
    static boolean decode(byte[] b, int off, int len, RecordView view) {
        if (len < FIXED_BYTES || off + len > b.length || b[off] != MAGIC || b[off + 1] != VERSION) {
            return false;
        }
        CRC32C crc = new CRC32C();
        crc.update(b, off, len - 4);
        int end = off + len;
        if ((int) crc.getValue() != getInt(b, end - 4)) {
            return false;
        }
        try {
            int p = off + 2;
            view.seq = getLong(b, p);
            p += 8;
            view.hlc = getLong(b, p);
            p += 8;
            int s = getShort(b, p);
            p += 2;
            view.streamOffset = p;
            view.streamLength = s;
            p += s;
            int i = getShort(b, p);
            p += 2;
            view.eventIdOffset = p;
            view.eventIdLength = i;
            p += i;
            int k = getShort(b, p);
            p += 2;
            view.requestKeyOffset = p;
            view.requestKeyLength = k;
            p += k;
            view.lineIndex = getInt(b, p);
            p += 4;
            view.lineCount = getInt(b, p);
            p += 4;
            int dups = getShort(b, p);
            p += 2;
            view.duplicatesOffset = p;
            view.duplicatesCount = dups;
            p += dups * 12;
            int payload = getInt(b, p);
            p += 4;
            if (payload < 0 || p + payload != end - 4) {
                return false;
            }
            view.payloadOffset = p;
            view.payloadLength = payload;
            view.buffer = b;
            return true;
        } catch (ArrayIndexOutOfBoundsException e) {
            return false; // lengths point outside the record: corrupt despite a matching checksum
        }
    }

    private static final byte[] EMPTY = new byte[0];

    static int getShort(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8;
    }

    static int getInt(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16 | (b[p + 3] & 0xFF) << 24;
    }

    static long getLong(byte[] b, int p) {
        return (getInt(b, p) & 0xFFFFFFFFL) | ((long) getInt(b, p + 4)) << 32;
    }
}

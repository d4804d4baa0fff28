package dev.outpost.sync.wire;

import dev.outpost.compress.Choice;
import dev.outpost.compress.DecodeLimits;
import dev.outpost.compress.DictionaryResolver;
import dev.outpost.compress.FrameCodec;
import dev.outpost.compress.FrameException;
import dev.outpost.store.Lane;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One push from an edge to a hub: records of one lane, and the range of sequence numbers the
 * batch covers (every record of that lane with a sequence number in the range is in the batch;
 * the other numbers in it belong to other lanes). The hub stores the records it has not seen and
 * acknowledges the range; the edge adds the range to its cursor only then.
 *
 * <p>Wire format, version 1 (all integers big-endian unless marked varint):
 *
 * <pre>
 *   magic      4 bytes  "OPSB"
 *   version    1 byte   1
 *   lane       1 byte   Lane ordinal (0 critical .. 3 bulk)
 *   node       1 byte length + UTF-8 node id (1..{@value #NODE_ID_BYTES_MAX} bytes)
 *   from, to   8 + 8    covered range, 1 <= from <= to
 *   count      4        records in the batch (0 .. {@value #RECORDS_MAX})
 *   crc        4        CRC32C of every byte above (the frame has its own checksum)
 *   frame      rest     a compress/ frame (checksummed; Zstd, with a dictionary where it pays)
 *                       holding the records, each:
 *                         seq     varint  (first: absolute; then the increase over the previous)
 *                         hlc     8 bytes
 *                         stream  varint length + UTF-8
 *                         payload varint length + the stored event JSON
 * </pre>
 *
 * Decoding is bounded: sizes are checked against {@link Limits} before anything is allocated,
 * records must lie inside the covered range in increasing order, and the frame checksum is
 * verified. Anything else is a {@link WireException} with status 400 (or 413 over a limit, 422 for
 * an unknown dictionary), never garbage.
 */
public record PushBatch(String node, Lane lane, long fromSeq, long toSeq, List<Record> records) {
    /** The first bytes of every push body. */
    static final byte[] MAGIC = {'O', 'P', 'S', 'B'};

    /** The wire format version this build writes and reads. */
    static final int VERSION = 1;

    /** Longest node id, in UTF-8 bytes. */
    public static final int NODE_ID_BYTES_MAX = 128;

    /** Most records one batch may carry, whatever the configuration says. */
    public static final int RECORDS_MAX = 100_000;

    /** Bytes before the frame: magic, version, lane, node length, range, count (plus the node id). */
    static final int FIXED_HEADER_BYTES = 4 + 1 + 1 + 1 + 8 + 8 + 4 + 4;

    /** One event as pushed: its edge sequence number, ingest time, stream and stored JSON. */
    public record Record(long seq, long hlc, String stream, byte[] payload) {}

    /**
     * Bounds a hub applies to a push body.
     *
     * @param bodyBytesMax largest compressed body
     * @param uncompressedBytesMax largest decoded record section
     * @param recordsMax most records
     */
    public record Limits(int bodyBytesMax, int uncompressedBytesMax, int recordsMax) {}

    public PushBatch {
        assert fromSeq >= 1 && fromSeq <= toSeq : "covered range " + fromSeq + ".." + toSeq;
    }

    /** Encodes the batch with {@code choice} (and {@code dict} if the choice uses one). */
    public byte[] encode(FrameCodec codec, Choice choice, dev.outpost.compress.Dictionary dict) {
        ByteArrayOutputStream body = new ByteArrayOutputStream(64 + records.size() * 256);
        long prev = 0;
        String lastStream = null;
        byte[] s = null;
        for (Record r : records) {
            writeVarint(body, prev == 0 ? r.seq() : r.seq() - prev);
            prev = r.seq();
            writeLong(body, r.hlc());
            if (!r.stream().equals(lastStream)) { // batches are mostly one stream: encode it once
                lastStream = r.stream();
                s = lastStream.getBytes(StandardCharsets.UTF_8);
            }
            writeVarint(body, s.length);
            body.writeBytes(s);
            writeVarint(body, r.payload().length);
            body.writeBytes(r.payload());
        }
        byte[] plain = body.toByteArray();
        byte[] frame = codec.encode(plain, 0, plain.length, choice, dict);
        byte[] nodeBytes = node.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(FIXED_HEADER_BYTES + nodeBytes.length + frame.length);
        out.writeBytes(MAGIC);
        out.write(VERSION);
        out.write(lane.ordinal());
        out.write(nodeBytes.length);
        out.writeBytes(nodeBytes);
        writeLong(out, fromSeq);
        writeLong(out, toSeq);
        writeInt(out, records.size());
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(out.toByteArray());
        writeInt(out, (int) crc.getValue());
        out.writeBytes(frame);
        return out.toByteArray();
    }

    /**
     * Decodes push bodies from untrusted sources within one set of {@link Limits}. Holds one frame codec, whose native
     * contexts are reused from push to push: make one decoder and keep it (a codec per push leaked a native Zstd
     * context each). Thread-safe.
     */
    public static final class Decoder {
        private final Limits limits;
        private final FrameCodec codec;

        public Decoder(Limits limits) {
            this.limits = limits;
            this.codec =
                    new FrameCodec(new DecodeLimits(limits.uncompressedBytesMax(), FrameCodec.EXPANSION_RATIO_MAX));
        }

        /** The bounds this decoder applies. */
        public Limits limits() {
            return limits;
        }

        /**
         * The size of the record section a push body's frame declares, read from the headers only (nothing decoded,
         * nothing allocated): what a hub charges the push before decoding it. The headers are checked as {@link
         * #decode} checks them: a declared size over {@link Limits#uncompressedBytesMax()} is a 413.
         */
        public int declaredBytes(byte[] b, int len) {
            Header h = header(b, len, limits);
            try {
                return codec.header(b, h.frameOffset(), len - h.frameOffset()).uncompressedLength();
            } catch (FrameException e) {
                throw refused(e, h);
            }
        }

        /** Decodes a push body from an untrusted source. */
        public PushBatch decode(byte[] b, int len, DictionaryResolver dictionaries) {
            Header h = header(b, len, limits);
            byte[] plain;
            try {
                plain = codec.decode(b, h.frameOffset(), len - h.frameOffset(), dictionaries);
            } catch (FrameException e) {
                throw refused(e, h);
            }
            return new PushBatch(h.node(), h.lane(), h.from(), h.to(), records(plain, h));
        }

        private WireException refused(FrameException e, Header h) {
            String source = "node " + h.node();
            return switch (e.kind()) {
                case UNKNOWN_DICTIONARY ->
                    new WireException("decode push batch", source, "upload the dictionary first", 422, e);
                case TOO_LARGE ->
                    new WireException(
                            "decode push batch",
                            source,
                            "this hub decodes at most " + limits.uncompressedBytesMax()
                                    + " bytes of records per push (its share of memory for pushes); send smaller"
                                    + " batches",
                            413,
                            e);
                default ->
                    new WireException("decode push batch", source, "the frame is damaged; resend the batch", 400, e);
            };
        }
    }

    /** What precedes the frame, checked. */
    private record Header(String node, Lane lane, long from, long to, int count, int frameOffset) {}

    private static Header header(byte[] b, int len, Limits limits) {
        if (len > limits.bodyBytesMax()) {
            throw bad("the body is " + len + " bytes; at most " + limits.bodyBytesMax() + " are accepted", 413);
        }
        if (len < FIXED_HEADER_BYTES + 1) {
            throw bad("the body is too short to be a push batch", 400);
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (b[i] != MAGIC[i]) {
                throw bad("the body does not start with the push batch magic OPSB", 400);
            }
        }
        if (b[4] != VERSION) {
            throw bad(
                    "push batch version " + (b[4] & 0xFF) + " is not one this hub reads (it reads " + VERSION + ")",
                    400);
        }
        int laneOrdinal = b[5] & 0xFF;
        if (laneOrdinal >= Lane.values().length) {
            throw bad("lane " + laneOrdinal + " does not exist", 400);
        }
        int nodeLen = b[6] & 0xFF;
        if (nodeLen == 0 || nodeLen > NODE_ID_BYTES_MAX || 7 + nodeLen + 24 > len) {
            throw bad("the node id length " + nodeLen + " is out of bounds", 400);
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, 0, 7 + nodeLen + 20);
        if ((int) crc.getValue() != getInt(b, 7 + nodeLen + 20)) {
            throw bad("the header checksum does not match", 400);
        }
        String node = new String(b, 7, nodeLen, StandardCharsets.UTF_8);
        int p = 7 + nodeLen;
        long from = getLong(b, p);
        long to = getLong(b, p + 8);
        int count = getInt(b, p + 16);
        if (from < 1 || to < from) {
            throw bad("the covered range " + from + ".." + to + " is not a range of sequence numbers", 400);
        }
        if (count < 0 || count > Math.min(limits.recordsMax(), RECORDS_MAX)) {
            throw bad("the batch claims " + count + " records; at most " + limits.recordsMax() + " are accepted", 413);
        }
        return new Header(node, Lane.values()[laneOrdinal], from, to, count, p + 24);
    }

    /** The records of a decoded frame: exactly {@code h.count()}, inside the covered range, in order. */
    private static List<Record> records(byte[] plain, Header h) {
        List<Record> records = new ArrayList<>(Math.min(h.count(), 1024));
        int[] pos = {0};
        long prev = 0;
        String lastStream = null;
        byte[] lastStreamBytes = null;
        for (int i = 0; i < h.count(); i++) {
            long delta = readVarint(plain, pos);
            long seq = prev == 0 ? delta : prev + delta;
            if (delta <= 0 && prev != 0 || seq < h.from() || seq > h.to()) {
                throw bad(
                        "record " + i + " has sequence " + seq + ", outside " + h.from() + ".." + h.to()
                                + " or out of order",
                        400);
            }
            prev = seq;
            need(plain, pos[0], 8);
            long hlc = getLong(plain, pos[0]);
            pos[0] += 8;
            int sl = length(plain, pos);
            need(plain, pos[0], sl);
            if (sl < 1 || sl > 128) {
                throw bad("record " + i + " has a stream name of " + sl + " bytes", 400);
            }
            String stream = lastStream != null
                            && java.util.Arrays.equals(
                                    plain, pos[0], pos[0] + sl, lastStreamBytes, 0, lastStreamBytes.length)
                    ? lastStream
                    : new String(plain, pos[0], sl, StandardCharsets.UTF_8);
            if (stream != lastStream) {
                lastStream = stream;
                lastStreamBytes = java.util.Arrays.copyOfRange(plain, pos[0], pos[0] + sl);
            }
            pos[0] += sl;
            int pl = length(plain, pos);
            need(plain, pos[0], pl);
            byte[] payload = java.util.Arrays.copyOfRange(plain, pos[0], pos[0] + pl);
            pos[0] += pl;
            records.add(new Record(seq, hlc, stream, payload));
        }
        if (pos[0] != plain.length) {
            throw bad("the record section has " + (plain.length - pos[0]) + " bytes after the last record", 400);
        }
        return records;
    }

    /** The node id of a push body, or null if the body is too short or damaged to tell. */
    public static String peekNode(byte[] b, int len) {
        if (len < FIXED_HEADER_BYTES + 1 || b[0] != MAGIC[0] || b[1] != MAGIC[1]) {
            return null;
        }
        int nodeLen = b[6] & 0xFF;
        return nodeLen == 0 || 7 + nodeLen > len ? null : new String(b, 7, nodeLen, StandardCharsets.UTF_8);
    }

    private static WireException bad(String what, int status) {
        return new WireException("decode push batch", "request body", what, status, null);
    }

    /** A length varint, bounded by the record section (a lying one is refused, not truncated to an int). */
    private static int length(byte[] b, int[] pos) {
        long n = readVarint(b, pos);
        if (n > b.length - pos[0]) {
            throw bad("a record runs past the end of the record section", 400);
        }
        return (int) n;
    }

    private static void need(byte[] b, int pos, int n) {
        // n > b.length - pos, not pos + n > b.length: a length near Integer.MAX_VALUE must not overflow past the check
        if (n < 0 || n > b.length - pos) {
            throw bad("a record runs past the end of the record section", 400);
        }
    }

    static void writeVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    static long readVarint(byte[] b, int[] pos) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos[0] >= b.length) {
                throw bad("a varint runs past the end of the record section", 400);
            }
            int x = b[pos[0]++] & 0xFF;
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                if (v < 0) {
                    throw bad("a varint is negative", 400);
                }
                return v;
            }
        }
        throw bad("a varint is longer than 10 bytes", 400);
    }

    private static void writeLong(ByteArrayOutputStream out, long v) {
        for (int i = 56; i >= 0; i -= 8) {
            out.write((int) (v >>> i));
        }
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        for (int i = 24; i >= 0; i -= 8) {
            out.write(v >>> i);
        }
    }

    static long getLong(byte[] b, int p) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[p + i] & 0xFF);
        }
        return v;
    }

    static int getInt(byte[] b, int p) {
        return ((b[p] & 0xFF) << 24) | ((b[p + 1] & 0xFF) << 16) | ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
    }
}

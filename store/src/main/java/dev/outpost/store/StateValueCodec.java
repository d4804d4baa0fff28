package dev.outpost.store;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The bytes of one state document as the state map stores them.
 *
 * <p>Format: magic 'S', format version 2, u64 version, i64 updatedAt, i64 logSeq, u8 flags (1 =
 * tombstone), u16 origin length + UTF-8, i32 doc length + bytes, u8 history count + that many i64
 * log sequences (format 2 only), CRC32C of all before it. Format 1 (no history) is still read. A
 * value that fails its checksum or its lengths decodes to null, never to half a document.
 */
final class StateValueCodec {
    /** First byte of every value. */
    static final byte MAGIC = 'S';
    /** Value format version written (1 is still read). */
    static final byte VERSION = 2;
    /** Most history entries a value holds. */
    static final int HISTORY_MAX = 64;

    private StateValueCodec() {}

    static byte[] encode(StateDoc d) {
        byte[] origin = d.origin().getBytes(StandardCharsets.UTF_8);
        byte[] doc = d.doc();
        long[] hist = d.history();
        assert hist.length <= HISTORY_MAX;
        int len = 2 + 8 + 8 + 8 + 1 + 2 + origin.length + 4 + doc.length + 1 + hist.length * 8 + 4;
        byte[] b = new byte[len];
        int p = 0;
        b[p++] = MAGIC;
        b[p++] = VERSION;
        RecordCodec.putLong(b, p, d.version());
        p += 8;
        RecordCodec.putLong(b, p, d.updatedAt());
        p += 8;
        RecordCodec.putLong(b, p, d.logSeq());
        p += 8;
        b[p++] = (byte) (d.deleted() ? 1 : 0);
        b[p++] = (byte) origin.length;
        b[p++] = (byte) (origin.length >>> 8);
        System.arraycopy(origin, 0, b, p, origin.length);
        p += origin.length;
        RecordCodec.putInt(b, p, doc.length);
        p += 4;
        System.arraycopy(doc, 0, b, p, doc.length);
        p += doc.length;
        b[p++] = (byte) hist.length;
        for (long h : hist) {
            RecordCodec.putLong(b, p, h);
            p += 8;
        }
        CRC32C crc = new CRC32C();
        crc.update(b, 0, p);
        RecordCodec.putInt(b, p, (int) crc.getValue());
        return b;
    }

    static StateDoc decodeOrNull(String key, byte[] b) {
        if (b.length < 33 || b[0] != MAGIC || (b[1] != 1 && b[1] != VERSION)) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(b, 0, b.length - 4);
        if ((int) crc.getValue() != RecordCodec.getInt(b, b.length - 4)) {
            return null;
        }
        int p = 2;
        long version = RecordCodec.getLong(b, p);
        long updatedAt = RecordCodec.getLong(b, p + 8);
        long logSeq = RecordCodec.getLong(b, p + 16);
        p += 24;
        boolean deleted = b[p++] == 1;
        int ol = RecordCodec.getShort(b, p);
        p += 2;
        if (p + ol + 4 > b.length - 4) {
            return null;
        }
        String origin = new String(b, p, ol, StandardCharsets.UTF_8);
        p += ol;
        int dl = RecordCodec.getInt(b, p);
        p += 4;
        int end = b.length - 4;
        if (dl < 0 || p + dl > end) {
            return null;
        }
        byte[] doc = Arrays.copyOfRange(b, p, p + dl);
        p += dl;
        long[] history = new long[0];
        if (b[1] >= 2) {
            int hn = p < end ? b[p++] & 0xFF : -1;
            if (hn < 0 || p + hn * 8 != end) {
                return null;
            }
            history = new long[hn];
            for (int i = 0; i < hn; i++) {
                history[i] = RecordCodec.getLong(b, p + i * 8);
            }
        } else if (p != end) {
            return null;
        }
        int sep = key.indexOf(ChronicleStateStore.SEPARATOR);
        return new StateDoc(
                key.substring(0, sep),
                key.substring(sep + 1),
                version,
                updatedAt,
                origin,
                logSeq,
                deleted,
                doc,
                history);
    }
}

package dev.outpost.store;

import dev.outpost.compress.DecodeLimits;
import dev.outpost.compress.DictionaryResolver;
import dev.outpost.compress.FrameCodec;
import dev.outpost.compress.FrameException;

/**
 * Turns a group as stored (raw 'G', or compressed 'Z': header plus one frame of its records) into
 * its plain form, reusing one buffer. Not thread-safe: one per reader.
 */
final class GroupInflater {
    /** Log groups are our own checksummed data, bounded by the body limit, not untrusted input. */
    static final FrameCodec FRAMES =
            new FrameCodec(new DecodeLimits(Integer.MAX_VALUE - 1024, FrameCodec.EXPANSION_RATIO_MAX));

    /** Sized by the first compressed group met (a cursor per round at the head must not cost 64 KiB of garbage). */
    private byte[] plain = new byte[0];
    /** The plain group after a successful {@link #inflate}: header then length-prefixed records. */
    byte[] bytes;
    /** Its length. */
    int length;

    /** Inflates the group in {@code g[0, len)}; false if its header or frame is corrupt. */
    boolean inflate(byte[] g, int len) {
        if (!RecordCodec.validGroupHeader(g, len)) {
            return false;
        }
        if (g[0] == RecordCodec.GROUP_MAGIC) {
            bytes = g;
            length = len;
            return true;
        }
        int h0 = RecordCodec.GROUP_HEADER_BYTES;
        try {
            FrameCodec.Header h = FRAMES.header(g, h0, len - h0);
            int need = h0 + h.uncompressedLength();
            if (plain.length < need) {
                plain = new byte[Math.max(need, plain.length * 2)];
            }
            System.arraycopy(g, 0, plain, 0, h0);
            FRAMES.decode(h, g, h0, DictionaryResolver.NONE, plain, h0);
            bytes = plain;
            length = need;
            return true;
        } catch (FrameException e) {
            return false;
        }
    }

    /** Inflates a stored group: {last seq, last hlc} if every record of it is valid, else null. */
    long[] verifiedTail(byte[] stored, int storedLen, RecordView v) {
        if (!inflate(stored, storedLen)) {
            return null;
        }
        byte[] g = bytes;
        int len = length;
        int count = RecordCodec.getInt(g, 2);
        int pos = RecordCodec.GROUP_HEADER_BYTES;
        for (int i = 0; i < count; i++) {
            if (pos + 4 > len) {
                return null;
            }
            int rl = RecordCodec.getInt(g, pos);
            pos += 4;
            if (rl < 0 || pos + rl > len || !RecordCodec.decode(g, pos, rl, v)) {
                return null;
            }
            pos += rl;
        }
        return count > 0 && pos == len ? new long[] {v.seq, v.hlc} : null;
    }
}

package dev.outpost.compress;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdDictDecompress;
import com.github.luben.zstd.ZstdException;
import java.util.Arrays;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Exception;

/**
 * Encodes and decodes self-describing frames.
 *
 * <p>Frame format, version {@value #VERSION} (varints are unsigned LEB128, 7 bits a byte):
 *
 * <pre>
 * size     field
 * 1        magic 0xC5
 * 1        format version (high 4 bits) | codec id (low 4 bits), see {@link Codec}
 * varint   dictionary id, 0 = none (see {@link Dictionary#idOf})
 * varint   U = uncompressed length
 * varint   C = compressed length: exactly C payload bytes follow the header
 * 4        CRC32C of the U uncompressed bytes, little-endian
 * C        payload: raw (NONE), an LZ4 block (LZ4), or a magicless Zstd frame without its own
 *          checksum, content size or dictionary id (ZSTD): the header above carries them
 * </pre>
 *
 * The header is 9 bytes for a small raw frame and at most {@value #HEADER_BYTES_MAX}. It is small
 * on purpose: a 200-byte event compressed with a dictionary is ~60 bytes, so every header byte
 * costs ratio on the wire.
 *
 * <p>Invariants: decoding checks the declared sizes against {@link DecodeLimits} before it
 * allocates anything, then verifies the checksum; it returns exactly the encoded bytes or throws
 * {@link FrameException} — never garbage. The encoder stores raw when compressing does not make
 * the payload smaller, and never writes a frame whose expansion ratio exceeds {@value
 * #EXPANSION_RATIO_MAX}. Thread-safe: a call takes a native context from the codec's pool and gives it back; keep
 * one codec per use (a codec per request would leave its idle contexts to leak: zstd-jni frees them only on close).
 */
public final class FrameCodec {
    /** First byte of every frame. */
    static final int MAGIC = 0xC5;
    /** The frame format version written and read. */
    static final int VERSION = 1;
    /** Longest header: magic, version/codec, three 5-byte varints, checksum. */
    public static final int HEADER_BYTES_MAX = 1 + 1 + 5 + 5 + 5 + 4;
    /** Highest uncompressed/compressed ratio the encoder writes and the default decoder accepts. */
    public static final int EXPANSION_RATIO_MAX = 1024;

    private final DecodeLimits limits;
    // Separate contexts with and without a dictionary: a context keeps its dictionary once loaded. Pooled, not per
    // thread (NativeContexts says why): make a codec once and keep it, since its idle contexts live as long as it.
    private final NativeContexts<ZstdCompressCtx> zstdCompress = new NativeContexts<>(FrameCodec::newCompressCtx);
    private final NativeContexts<ZstdCompressCtx> zstdCompressDict = new NativeContexts<>(FrameCodec::newCompressCtx);
    private final NativeContexts<ZstdDecompressCtx> zstdDecompress = new NativeContexts<>(FrameCodec::newDecompressCtx);
    private final NativeContexts<ZstdDecompressCtx> zstdDecompressDict =
            new NativeContexts<>(FrameCodec::newDecompressCtx);
    private final ThreadLocal<byte[]> scratch = ThreadLocal.withInitial(() -> new byte[64 * 1024]);

    public FrameCodec(DecodeLimits limits) {
        this.limits = limits;
    }

    public FrameCodec() {
        this(DecodeLimits.DEFAULT);
    }

    private static ZstdCompressCtx newCompressCtx() {
        ZstdCompressCtx c = new ZstdCompressCtx();
        c.setMagicless(true);
        c.setChecksum(false);
        c.setContentSize(false);
        c.setDictID(false);
        return c;
    }

    private static ZstdDecompressCtx newDecompressCtx() {
        ZstdDecompressCtx d = new ZstdDecompressCtx();
        d.setMagicless(true);
        return d;
    }

    /** The most bytes a frame of {@code len} content bytes can take. */
    public static int frameBytesMax(int len) {
        int lz4 = NativeCodecs.lz4().fastCompressor().maxCompressedLength(len);
        int zstd = (int) Math.min(Integer.MAX_VALUE - HEADER_BYTES_MAX, len + (len >> 7) + 512L);
        return HEADER_BYTES_MAX + Math.max(len, Math.max(lz4, zstd));
    }

    /** Encodes {@code src[off, off+len)} as one frame into a new array. */
    public byte[] encode(byte[] src, int off, int len, Choice choice, Dictionary dict) {
        byte[] out = new byte[frameBytesMax(len)];
        int n = encode(src, off, len, choice, dict, out, 0);
        return Arrays.copyOf(out, n);
    }

    /**
     * Encodes {@code src[off, off+len)} as one frame at {@code dst[dstOff]}; {@code dst} needs
     * {@link #frameBytesMax(int)} bytes free. Returns the frame's length.
     *
     * @param dict the dictionary, used when {@code choice.dictionary()} is set; may be null
     */
    public int encode(byte[] src, int off, int len, Choice choice, Dictionary dict, byte[] dst, int dstOff) {
        Codec codec = choice.codec();
        byte[] body = scratch(frameBytesMax(len));
        int c = 0;
        long dictId = 0;
        if (codec == Codec.LZ4) {
            c = choice.level() == 0
                    ? NativeCodecs.lz4().fastCompressor().compress(src, off, len, body, 0, body.length)
                    : NativeCodecs.lz4().highCompressor(choice.level()).compress(src, off, len, body, 0, body.length);
        } else if (codec == Codec.ZSTD) {
            NativeCodecs.requireZstd("encode a Zstd frame");
            boolean withDict = choice.dictionary() && dict != null;
            dictId = withDict ? dict.id() : 0;
            c = zstd(
                    withDict ? zstdCompressDict : zstdCompress,
                    withDict ? dict : null,
                    choice.level(),
                    src,
                    off,
                    len,
                    body);
        }
        if (codec != Codec.NONE && (long) c * EXPANSION_RATIO_MAX < len) {
            // Above the ratio cap decoders enforce: LZ4's format cannot exceed ~255x.
            codec = Codec.LZ4;
            dictId = 0;
            c = NativeCodecs.lz4().fastCompressor().compress(src, off, len, body, 0, body.length);
        }
        if (codec == Codec.NONE || c >= len) {
            codec = Codec.NONE; // compressing did not pay: store raw
            dictId = 0;
            c = len;
            System.arraycopy(src, off, body, 0, len);
        }
        int p = dstOff;
        dst[p++] = (byte) MAGIC;
        dst[p++] = (byte) (VERSION << 4 | codec.id);
        p = putVarint(dst, p, dictId);
        p = putVarint(dst, p, len);
        p = putVarint(dst, p, c);
        CRC32C crc = new CRC32C();
        crc.update(src, off, len);
        int sum = (int) crc.getValue();
        dst[p++] = (byte) sum;
        dst[p++] = (byte) (sum >>> 8);
        dst[p++] = (byte) (sum >>> 16);
        dst[p++] = (byte) (sum >>> 24);
        System.arraycopy(body, 0, dst, p, c);
        return p + c - dstOff;
    }

    /** Compresses {@code src[off, off+len)} into {@code body} with a context of {@code pool}; returns the length. */
    private static int zstd(
            NativeContexts<ZstdCompressCtx> pool,
            Dictionary dict,
            int level,
            byte[] src,
            int off,
            int len,
            byte[] body) {
        ZstdCompressCtx z = pool.take();
        int c;
        try {
            if (dict != null) {
                z.loadDict(dict.compressor(level));
            } else {
                z.setLevel(level);
            }
            c = z.compressByteArray(body, 0, body.length, src, off, len);
        } catch (ZstdException e) {
            pool.close(z);
            throw new IllegalStateException("Zstd failed to encode " + len + " bytes: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            pool.close(z);
            throw e;
        }
        pool.give(z);
        return c;
    }

    private byte[] scratch(int size) {
        byte[] b = scratch.get();
        if (b.length < size) {
            b = new byte[size];
            scratch.set(b);
        }
        return b;
    }

    /**
     * A parsed frame header.
     *
     * @param codec the codec
     * @param dictionaryId the dictionary id, 0 if none
     * @param uncompressedLength U
     * @param compressedLength C
     * @param checksum CRC32C of the content
     * @param headerLength bytes of header before the payload
     */
    public record Header(
            Codec codec,
            long dictionaryId,
            int uncompressedLength,
            int compressedLength,
            int checksum,
            int headerLength) {}

    /**
     * Parses and checks the header of the frame in {@code f[off, off+len)}: magic, version,
     * codec, sizes against the limits and the frame's length. Allocates nothing.
     */
    public Header header(byte[] f, int off, int len) {
        int end = off + len;
        if (len < 9) {
            throw new FrameException(FrameException.Kind.CORRUPT, "a frame is at least 9 bytes, got " + len);
        }
        if ((f[off] & 0xFF) != MAGIC) {
            throw new FrameException(
                    FrameException.Kind.BAD_MAGIC, "first byte is 0x" + Integer.toHexString(f[off] & 0xFF));
        }
        int vc = f[off + 1] & 0xFF;
        if (vc >>> 4 != VERSION) {
            throw new FrameException(FrameException.Kind.UNSUPPORTED_VERSION, "frame version " + (vc >>> 4));
        }
        Codec codec = Codec.byId(vc & 0x0F);
        if (codec == null) {
            throw new FrameException(FrameException.Kind.UNKNOWN_CODEC, "codec id " + (vc & 0x0F));
        }
        int[] pos = {off + 2};
        long dictId = getVarint(f, pos, end);
        long u = getVarint(f, pos, end);
        long c = getVarint(f, pos, end);
        if (pos[0] + 4 > end) {
            throw new FrameException(FrameException.Kind.CORRUPT, "truncated header");
        }
        if (u > limits.uncompressedBytesMax()) {
            throw new FrameException(
                    FrameException.Kind.TOO_LARGE,
                    "declares " + u + " uncompressed bytes; the limit is " + limits.uncompressedBytesMax());
        }
        if (codec != Codec.NONE && (c == 0 || u > c * limits.expansionRatioMax())) {
            throw new FrameException(
                    FrameException.Kind.EXPANSION_RATIO,
                    "declares " + u + " bytes from " + c + "; the ratio limit is " + limits.expansionRatioMax());
        }
        if (codec == Codec.NONE && c != u) {
            throw new FrameException(FrameException.Kind.CORRUPT, "a raw frame must declare equal lengths");
        }
        if (codec != Codec.ZSTD && dictId != 0) {
            throw new FrameException(FrameException.Kind.CORRUPT, "only Zstd frames name a dictionary");
        }
        int sum = (f[pos[0]] & 0xFF)
                | (f[pos[0] + 1] & 0xFF) << 8
                | (f[pos[0] + 2] & 0xFF) << 16
                | (f[pos[0] + 3] & 0xFF) << 24;
        int headerLen = pos[0] + 4 - off;
        if (headerLen + c != len) {
            throw new FrameException(
                    FrameException.Kind.CORRUPT,
                    "header plus " + c + " payload bytes is not the frame's " + len + " bytes");
        }
        return new Header(codec, dictId, (int) u, (int) c, sum, headerLen);
    }

    /** Decodes the frame in {@code f[off, off+len)} into a new array of exactly the content. */
    public byte[] decode(byte[] f, int off, int len, DictionaryResolver dictionaries) {
        Header h = header(f, off, len);
        byte[] out = new byte[h.uncompressedLength()];
        decode(h, f, off, dictionaries, out, 0);
        return out;
    }

    /**
     * Decodes a frame whose header was parsed by {@link #header} into {@code dst[dstOff]}, which
     * needs {@code h.uncompressedLength()} bytes free. Returns that length.
     */
    public int decode(Header h, byte[] f, int off, DictionaryResolver dictionaries, byte[] dst, int dstOff) {
        int src = off + h.headerLength();
        int u = h.uncompressedLength();
        int c = h.compressedLength();
        if (dst.length - dstOff < u) {
            throw new IllegalArgumentException("destination has " + (dst.length - dstOff) + " bytes, frame needs " + u);
        }
        switch (h.codec()) {
            case NONE -> System.arraycopy(f, src, dst, dstOff, u);
            case LZ4 -> {
                int n;
                try {
                    n = NativeCodecs.lz4().safeDecompressor().decompress(f, src, c, dst, dstOff, u);
                } catch (LZ4Exception e) {
                    throw new FrameException(FrameException.Kind.CORRUPT, "LZ4 payload: " + e.getMessage());
                }
                if (n != u) {
                    throw new FrameException(
                            FrameException.Kind.CORRUPT, "LZ4 payload decodes to " + n + " bytes, not " + u);
                }
            }
            case ZSTD -> {
                NativeCodecs.requireZstd("decode a Zstd frame");
                ZstdDictDecompress d = h.dictionaryId() == 0 ? null : digested(h.dictionaryId(), dictionaries);
                int n = unzstd(d == null ? zstdDecompress : zstdDecompressDict, d, f, src, c, dst, dstOff, u);
                if (n != u) {
                    throw new FrameException(
                            FrameException.Kind.CORRUPT, "Zstd payload decodes to " + n + " bytes, not " + u);
                }
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(dst, dstOff, u);
        if ((int) crc.getValue() != h.checksum()) {
            throw new FrameException(FrameException.Kind.CHECKSUM, "content checksum does not match");
        }
        return u;
    }

    /** The digested form of dictionary {@code id} for decoding; a typed error if it is unknown or Zstd cannot load it. */
    private static ZstdDictDecompress digested(long id, DictionaryResolver dictionaries) {
        Dictionary d = dictionaries.find(id);
        if (d == null) {
            throw new FrameException(
                    FrameException.Kind.UNKNOWN_DICTIONARY,
                    "dictionary " + Long.toHexString(id) + " is not known on this node");
        }
        try {
            return d.decompressor();
        } catch (RuntimeException e) { // stored before uploads were checked (Dictionary.loadable), or damaged
            throw new FrameException(
                    FrameException.Kind.CORRUPT,
                    "dictionary " + Long.toHexString(id) + " cannot be loaded by Zstd: " + e.getMessage());
        }
    }

    /** Decompresses {@code f[src, src+c)} into {@code dst[dstOff]} with a context of {@code pool}; returns the length. */
    private static int unzstd(
            NativeContexts<ZstdDecompressCtx> pool,
            ZstdDictDecompress d,
            byte[] f,
            int src,
            int c,
            byte[] dst,
            int dstOff,
            int u) {
        ZstdDecompressCtx z = pool.take();
        int n;
        try {
            if (d != null) {
                z.loadDict(d);
            }
            n = z.decompressByteArray(dst, dstOff, u, f, src, c);
        } catch (ZstdException e) {
            pool.close(z);
            throw new FrameException(FrameException.Kind.CORRUPT, "Zstd payload: " + e.getMessage());
        } catch (RuntimeException e) {
            pool.close(z);
            throw e;
        }
        pool.give(z);
        return n;
    }

    /**
     * Native Zstd contexts of every codec in this process that are not closed: those in use, plus a few idle per
     * codec. A number that grows with requests is a leak (a codec made per request, say).
     */
    public static long zstdContextsOpen() {
        return NativeContexts.open();
    }

    static int putVarint(byte[] b, int p, long v) {
        assert v >= 0;
        while (v >= 0x80) {
            b[p++] = (byte) (v | 0x80);
            v >>>= 7;
        }
        b[p++] = (byte) v;
        return p;
    }

    /** Reads a varint of at most 5 bytes (values below 2^35) at pos[0], advancing it. */
    static long getVarint(byte[] b, int[] pos, int end) {
        long v = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            if (pos[0] >= end) {
                throw new FrameException(FrameException.Kind.CORRUPT, "truncated header");
            }
            int x = b[pos[0]++] & 0xFF;
            v |= (long) (x & 0x7F) << shift;
            if (x < 0x80) {
                return v;
            }
        }
        throw new FrameException(FrameException.Kind.CORRUPT, "varint longer than 5 bytes");
    }
}

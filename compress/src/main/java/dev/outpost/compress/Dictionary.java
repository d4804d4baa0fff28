package dev.outpost.compress;

import com.github.luben.zstd.ZstdDictCompress;
import com.github.luben.zstd.ZstdDictDecompress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A trained Zstd dictionary. Its id is derived from its content (the first 32 bits of its
 * SHA-256, never 0), so the same dictionary has the same id on every node and a frame names the
 * exact bytes it needs.
 *
 * <p>Holds the digested native forms (one compressor per level, one decompressor), created on
 * first use; they live off-heap until the dictionary is closed.
 */
public final class Dictionary implements AutoCloseable {
    /** Largest dictionary accepted, in bytes. */
    public static final int BYTES_MAX = 1 << 20;

    private final long id;
    private final byte[] bytes;
    private final Map<Integer, ZstdDictCompress> compressors = new ConcurrentHashMap<>();
    private volatile ZstdDictDecompress decompressor;

    private Dictionary(long id, byte[] bytes) {
        this.id = id;
        this.bytes = bytes;
    }

    /** A dictionary of these bytes (copied); its id is computed from them. */
    public static Dictionary of(byte[] bytes) {
        if (bytes.length == 0 || bytes.length > BYTES_MAX) {
            throw new IllegalArgumentException("a dictionary is 1.." + BYTES_MAX + " bytes, not " + bytes.length);
        }
        byte[] copy = bytes.clone();
        return new Dictionary(idOf(copy), copy);
    }

    /** The content-derived id of {@code bytes}. */
    public static long idOf(byte[] bytes) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(bytes);
            long id = ((h[0] & 0xFFL) << 24) | ((h[1] & 0xFFL) << 16) | ((h[2] & 0xFFL) << 8) | (h[3] & 0xFFL);
            return id == 0 ? 1 : id;
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("SHA-256 is in every JDK", e);
        }
    }

    public long id() {
        return id;
    }

    /** A copy of the dictionary's bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    public int size() {
        return bytes.length;
    }

    ZstdDictCompress compressor(int level) {
        return compressors.computeIfAbsent(level, l -> new ZstdDictCompress(bytes, l));
    }

    ZstdDictDecompress decompressor() {
        ZstdDictDecompress d = decompressor;
        if (d == null) {
            synchronized (this) {
                d = decompressor;
                if (d == null) {
                    d = new ZstdDictDecompress(bytes);
                    decompressor = d;
                }
            }
        }
        return d;
    }

    @Override
    public void close() {
        compressors.values().forEach(ZstdDictCompress::close);
        compressors.clear();
        synchronized (this) {
            if (decompressor != null) {
                decompressor.close();
                decompressor = null;
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dictionary d && d.id == id && Arrays.equals(d.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(id);
    }

    @Override
    public String toString() {
        return "Dictionary[id=" + Long.toHexString(id) + ", " + bytes.length + " bytes]";
    }
}

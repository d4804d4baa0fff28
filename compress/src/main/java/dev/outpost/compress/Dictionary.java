package dev.outpost.compress;

import com.github.luben.zstd.ZstdDictCompress;
import com.github.luben.zstd.ZstdDictDecompress;
import java.lang.ref.Cleaner;
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
 * first use. They are freed by a {@link Cleaner} once the dictionary is unreachable, not by an
 * explicit close: a codec context keeps a digested dictionary referenced (and locked) after using
 * it, so closing one that a context still refers to would fail.
 */
public final class Dictionary {
    private static final Cleaner CLEANER = Cleaner.create();
    /** Largest dictionary accepted, in bytes. */
    public static final int BYTES_MAX = 1 << 20;

    private final long id;
    private final byte[] bytes;
    private final Natives natives = new Natives();

    /** The native forms, apart from the dictionary so the cleaner does not keep it reachable. */
    private static final class Natives implements Runnable {
        final Map<Integer, ZstdDictCompress> compressors = new ConcurrentHashMap<>();
        volatile ZstdDictDecompress decompressor;

        @Override
        public void run() {
            for (ZstdDictCompress c : compressors.values()) {
                closeQuietly(c);
            }
            if (decompressor != null) {
                closeQuietly(decompressor);
            }
        }

        private static void closeQuietly(java.io.Closeable c) {
            try {
                c.close();
            } catch (java.io.IOException | IllegalStateException stillInUse) {
                // A context still holds it: it is freed with that context's next dictionary.
            }
        }
    }

    private Dictionary(long id, byte[] bytes) {
        this.id = id;
        this.bytes = bytes;
        CLEANER.register(this, natives);
    }

    /** A dictionary of these bytes (copied); its id is computed from them. */
    public static Dictionary of(byte[] bytes) {
        if (bytes.length == 0 || bytes.length > BYTES_MAX) {
            throw new IllegalArgumentException("a dictionary is 1.." + BYTES_MAX + " bytes, not " + bytes.length);
        }
        byte[] copy = bytes.clone();
        return new Dictionary(idOf(copy), copy);
    }

    /**
     * A dictionary of these bytes (copied) that Zstd can load: digested for decoding here (kept for the decodes that
     * follow), so one from an untrusted source is refused when it arrives, not at every frame that names it. Bytes
     * that start with the Zstd dictionary magic must hold valid entropy tables; others are loaded as raw content.
     * Without the native Zstd library nothing is checked (nothing can decode with it here either).
     *
     * @throws IllegalArgumentException saying why Zstd cannot load it
     */
    public static Dictionary loadable(byte[] bytes) {
        Dictionary d = of(bytes);
        if (NativeCodecs.status().zstd()) {
            try {
                d.decompressor();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("Zstd cannot load it as a dictionary (" + e.getMessage() + ")", e);
            }
        }
        return d;
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
        return natives.compressors.computeIfAbsent(level, l -> new ZstdDictCompress(bytes, l));
    }

    ZstdDictDecompress decompressor() {
        ZstdDictDecompress d = natives.decompressor;
        if (d == null) {
            synchronized (natives) {
                d = natives.decompressor;
                if (d == null) {
                    d = new ZstdDictDecompress(bytes);
                    natives.decompressor = d;
                }
            }
        }
        return d;
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

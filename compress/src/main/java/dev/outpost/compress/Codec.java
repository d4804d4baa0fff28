package dev.outpost.compress;

/** A codec as written in a frame header (4 bits). Never renumber: frames on disk carry the id. */
public enum Codec {
    /** Stored as is. */
    NONE(0),
    /** LZ4 block format; fast and high-compression encoders both produce it. */
    LZ4(1),
    /** Zstandard, magicless frame without its own checksum, content size or dictionary id. */
    ZSTD(2);

    /** The id in a frame header. */
    public final int id;

    Codec(int id) {
        this.id = id;
    }

    /** The codec with {@code id}, or null if this build does not know it. */
    static Codec byId(int id) {
        for (Codec c : values()) {
            if (c.id == id) {
                return c;
            }
        }
        return null;
    }
}

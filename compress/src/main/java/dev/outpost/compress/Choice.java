package dev.outpost.compress;

/**
 * How to encode one payload.
 *
 * @param codec the codec
 * @param level LZ4: 0 = fast, 1-17 = high-compression level; Zstd: {@value #ZSTD_LEVEL_MIN} to
 *     {@value #ZSTD_LEVEL_MAX} (negative levels are Zstd's fast levels); NONE: 0
 * @param dictionary true to use the purpose's dictionary when one is available (Zstd only)
 */
public record Choice(Codec codec, int level, boolean dictionary) {
    /** Lowest Zstd level accepted (a fast level). */
    public static final int ZSTD_LEVEL_MIN = -7;
    /** Highest Zstd level accepted (19; 20-22 need far more memory than an edge box has). */
    public static final int ZSTD_LEVEL_MAX = 19;
    /** Highest LZ4 high-compression level. */
    public static final int LZ4_LEVEL_MAX = 17;

    /** Store as is. */
    public static final Choice NONE = new Choice(Codec.NONE, 0, false);
    /** LZ4, fast encoder. */
    public static final Choice LZ4_FAST = new Choice(Codec.LZ4, 0, false);

    public Choice {
        switch (codec) {
            case NONE -> {
                if (level != 0 || dictionary) {
                    throw new IllegalArgumentException("NONE takes no level or dictionary");
                }
            }
            case LZ4 -> {
                if (level < 0 || level > LZ4_LEVEL_MAX || dictionary) {
                    throw new IllegalArgumentException("LZ4 level must be 0-" + LZ4_LEVEL_MAX + ", without dictionary");
                }
            }
            case ZSTD -> {
                if (level < ZSTD_LEVEL_MIN || level > ZSTD_LEVEL_MAX || level == 0) {
                    throw new IllegalArgumentException(
                            "Zstd level must be " + ZSTD_LEVEL_MIN + "..-1 or 1.." + ZSTD_LEVEL_MAX + ": " + level);
                }
            }
        }
    }

    public static Choice lz4High(int level) {
        return new Choice(Codec.LZ4, level, false);
    }

    public static Choice zstd(int level, boolean dictionary) {
        return new Choice(Codec.ZSTD, level, dictionary);
    }
}

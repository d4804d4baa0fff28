package dev.outpost.compress;

/**
 * Bounds on decoding untrusted frames, checked against the header before anything is allocated.
 *
 * @param uncompressedBytesMax largest decoded content accepted
 * @param expansionRatioMax largest uncompressed / compressed ratio accepted (the encoder never
 *     writes a frame above {@link FrameCodec#EXPANSION_RATIO_MAX})
 */
public record DecodeLimits(int uncompressedBytesMax, int expansionRatioMax) {
    /** Defaults: 64 MiB of content, the encoder's own ratio cap. */
    public static final DecodeLimits DEFAULT = new DecodeLimits(64 << 20, FrameCodec.EXPANSION_RATIO_MAX);

    public DecodeLimits {
        if (uncompressedBytesMax < 0 || expansionRatioMax < 1) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }
}

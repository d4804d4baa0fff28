package dev.outpost.compress;

/** A frame cannot be decoded. Never garbage: either this, or exactly the original bytes. */
public final class FrameException extends RuntimeException {
    /** What is wrong with the frame. */
    public enum Kind {
        /** Not a frame: the magic byte does not match. */
        BAD_MAGIC,
        /** A format version this build does not read. */
        UNSUPPORTED_VERSION,
        /** A codec id this build does not know. */
        UNKNOWN_CODEC,
        /** The frame needs a dictionary this node does not have. */
        UNKNOWN_DICTIONARY,
        /** The declared sizes are beyond the decode limits (checked before any allocation). */
        TOO_LARGE,
        /** The declared expansion ratio is beyond the limit. */
        EXPANSION_RATIO,
        /** Truncated, or the codec rejected the payload. */
        CORRUPT,
        /** Decoded, but the content checksum does not match. */
        CHECKSUM,
        /** The codec's native library is not loaded on this node. */
        CODEC_UNAVAILABLE
    }

    private final Kind kind;

    public FrameException(Kind kind, String message) {
        super(kind + ": " + message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}

package dev.outpost.sync;

import java.util.function.LongSupplier;

/**
 * An optional cap on upload bytes per second (metered links): a token bucket that fills at the
 * cap and holds at most one second of it, or one batch if that is larger. Not thread-safe: one
 * sync loop owns it; only the cap itself may be changed from another thread (a hub's config change).
 */
public final class Bandwidth {
    private volatile long bytesPerSecond;
    private final LongSupplier clockNanos;
    private double tokens;
    private long lastNanos;

    /** @param bytesPerSecond the cap; 0 means no cap */
    public Bandwidth(long bytesPerSecond, LongSupplier clockNanos) {
        this.bytesPerSecond = bytesPerSecond;
        this.clockNanos = clockNanos;
        this.lastNanos = clockNanos.getAsLong();
        this.tokens = bytesPerSecond;
    }

    /** Changes the cap (0: none); takes effect at the next batch. */
    public void bytesPerSecond(long cap) {
        this.bytesPerSecond = cap;
    }

    /** The cap, bytes per second (0: none). */
    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** How long to wait, in milliseconds, before sending {@code bytes}; takes them if 0. */
    public long waitMillisFor(long bytes) {
        long bytesPerSecond = this.bytesPerSecond; // one value for the whole decision
        if (bytesPerSecond <= 0) {
            return 0;
        }
        long now = clockNanos.getAsLong();
        double bucket = Math.max(bytesPerSecond, bytes);
        tokens = Math.min(bucket, tokens + (now - lastNanos) * bytesPerSecond / 1e9);
        lastNanos = now;
        if (tokens >= bytes) {
            tokens -= bytes;
            return 0;
        }
        return (long) Math.ceil((bytes - tokens) * 1000.0 / bytesPerSecond);
    }
}

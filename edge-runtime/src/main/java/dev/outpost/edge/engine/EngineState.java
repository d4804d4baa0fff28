package dev.outpost.edge.engine;

import java.nio.ByteBuffer;

/**
 * What the engine checkpoints beside its position: the rules' cooldowns and the anomaly detectors, taken together so
 * a replay from the checkpoint starts from exactly the state the first run had at that position.
 *
 * <p>Format ({@link #snapshot()}): int {@link #FORMAT}, int n, n bytes of {@link Cooldowns#snapshot()}, int m, m bytes
 * of {@link Detectors#snapshot()}. A state written before detectors existed is a bare cooldown snapshot, whose first
 * int is 1; it restores with no detector state.
 *
 * <p>Pacing. The detectors change with every event they see, and their snapshot grows with their groups (about 40
 * bytes each: 4 MB at 100,000). Writing that every second would wear a device's flash for nothing, so the interval
 * between checkpoints stretches with the snapshot's size, to write at most {@link #STATE_BYTES_PER_SECOND} on average,
 * up to {@link #CHECKPOINT_INTERVAL_MAX_MILLIS}. A longer interval costs only a longer replay after a crash.
 */
final class EngineState {
    /** Version of the combined format; 1 was a cooldown snapshot alone. */
    private static final int FORMAT = 2;

    private static final int LEGACY_FORMAT = 1;

    /** Average rate of checkpointed state the engine allows itself, bytes per second. */
    static final long STATE_BYTES_PER_SECOND = 1L << 20;

    /** Longest interval between checkpoints while state changes, milliseconds (bounds the replay after a crash). */
    static final long CHECKPOINT_INTERVAL_MAX_MILLIS = 10_000;

    final Cooldowns cooldowns;
    final Detectors detectors;
    private int lastBytes;

    EngineState(Cooldowns cooldowns, Detectors detectors) {
        this.cooldowns = cooldowns;
        this.detectors = detectors;
    }

    /** True if a cooldown or a detector changed since the last {@link #snapshot()}. */
    boolean changedSinceSnapshot() {
        return cooldowns.changedSinceSnapshot() || detectors.changedSinceSnapshot();
    }

    /** The interval between checkpoints for the size of the last snapshot, at least {@code minMillis}. */
    long checkpointIntervalMillis(long minMillis) {
        long paced = lastBytes * 1000L / STATE_BYTES_PER_SECOND;
        return Math.max(minMillis, Math.min(paced, CHECKPOINT_INTERVAL_MAX_MILLIS));
    }

    byte[] snapshot() {
        byte[] c = cooldowns.snapshot();
        byte[] d = detectors.snapshot();
        ByteBuffer out = ByteBuffer.allocate(12 + c.length + d.length);
        out.putInt(FORMAT).putInt(c.length).put(c).putInt(d.length).put(d);
        lastBytes = out.capacity();
        return out.array();
    }

    /** Replaces the state with a {@link #snapshot()}'s (an empty array restores nothing). */
    void restore(byte[] state) {
        if (state.length == 0) {
            cooldowns.restore(state);
            detectors.restore(state);
            return;
        }
        ByteBuffer in = ByteBuffer.wrap(state);
        int format = in.getInt();
        if (format == LEGACY_FORMAT) {
            cooldowns.restore(state);
            detectors.restore(new byte[0]);
            return;
        }
        if (format != FORMAT) {
            throw new IllegalArgumentException("engine state format " + format + ", expected " + FORMAT);
        }
        try {
            cooldowns.restore(section(in));
            detectors.restore(section(in));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("engine state is cut short or damaged", e);
        }
        lastBytes = state.length;
    }

    private static byte[] section(ByteBuffer in) {
        byte[] b = new byte[in.getInt()];
        in.get(b);
        return b;
    }
}

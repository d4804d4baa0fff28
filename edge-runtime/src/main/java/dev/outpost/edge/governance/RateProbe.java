package dev.outpost.edge.governance;

import dev.outpost.governor.Probe;
import java.util.function.LongSupplier;

/** Events per second from a monotonic counter, between successive readings (the ingest-rate dimension). */
final class RateProbe implements Probe {
    private final LongSupplier counter;
    private final LongSupplier clockNanos;
    private long lastCount;
    private long lastNanos;

    RateProbe(LongSupplier counter, LongSupplier clockNanos) {
        this.counter = counter;
        this.clockNanos = clockNanos;
        this.lastCount = counter.getAsLong();
        this.lastNanos = clockNanos.getAsLong();
    }

    @Override
    public synchronized long usage() {
        long now = clockNanos.getAsLong();
        long count = counter.getAsLong();
        long elapsed = Math.max(1, now - lastNanos);
        long rate = (count - lastCount) * 1_000_000_000L / elapsed;
        lastCount = count;
        lastNanos = now;
        return rate;
    }
}

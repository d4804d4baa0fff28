package dev.outpost.edge.ingest;

import java.util.concurrent.locks.LockSupport;

/**
 * How the threads that follow acknowledged writes (the live feed, the engine) learn of them: producers ring, one
 * consumer thread waits.
 *
 * <p>Design note. Waking a parked thread costs the producer a futex call and the consumer two context switches; done
 * once per acknowledged request it took a quarter of the agent's CPU on single-event ingest and cost 23 % of the rate
 * (docs/BENCHMARKS.md, issue #14). Here a ring costs the producer one volatile read while the consumer is busy or
 * settling, and one write per consumer turn; only a consumer parked for want of work is unparked. After a turn the
 * consumer settles for {@code settleNanos} before it waits: what arrives meanwhile is taken in its next turn, so a
 * busy consumer wakes at most once per settle period while an idle one is woken at once.
 *
 * <p>Invariants: a ring is never lost — the consumer clears {@code rung} before its turn, announces {@code waiting}
 * and then reads {@code rung} before parking; a producer makes its work visible, sets {@code rung} and then reads
 * {@code waiting} (all volatile), so either the consumer sees the ring or the producer sees the waiter. Only one thread,
 * the consumer, calls {@link #turnStarts} and {@link #await}. To stop a consumer, ring and unpark its thread: that
 * ends a settle period too, and the ring keeps it from parking again.
 */
public final class Doorbell {
    private final long settleNanos;
    private volatile boolean rung;
    private volatile boolean waiting;
    private volatile Thread consumer;

    /** @param settleNanos how long the consumer lets work gather after a turn before it waits for a ring */
    public Doorbell(long settleNanos) {
        if (settleNanos < 0) {
            throw new IllegalArgumentException("settleNanos " + settleNanos + " < 0");
        }
        this.settleNanos = settleNanos;
    }

    /** There is work for the consumer (made visible before this call). Any thread; cheap while the consumer is busy. */
    public void ring() {
        if (!rung) {
            rung = true;
        }
        if (waiting) {
            waiting = false;
            Thread t = consumer;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    /** The consumer begins a turn: rings from here on are for work this turn may not see. */
    public void turnStarts() {
        rung = false;
    }

    /**
     * The consumer found no work: settles, then parks until rung or {@code maxNanos} passed (returns at once if rung
     * since {@link #turnStarts}). Spurious returns are possible, as with {@link LockSupport#parkNanos}.
     */
    public void await(long maxNanos) {
        consumer = Thread.currentThread();
        if (settleNanos > 0 && maxNanos > settleNanos) {
            LockSupport.parkNanos(this, settleNanos);
            maxNanos -= settleNanos;
        }
        waiting = true;
        if (!rung) {
            LockSupport.parkNanos(this, maxNanos);
        }
        waiting = false;
    }
}

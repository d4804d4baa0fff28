package dev.outpost.edge.http;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * Which HTTP connections the agent holds within budget.connections, and which one makes room when
 * it is full.
 *
 * <p>Design note. budget.connections bounds the sockets the agent holds (a file descriptor and a
 * pipeline each). Of it, budget.probe_connections are kept for probes: a connection admitted on
 * that share (tier {@link Tier#PROBES}) serves only GET/HEAD /health* and /metrics, so a probe
 * finds room while every other connection has a request in flight; the rest ({@link
 * Tier#GENERAL}) is what the governor's lower-concurrency action lowers. A connection with no
 * request in flight — just opened and still sending its headers, or kept alive between requests —
 * costs its slot and nothing else, so when its tier is full a new connection takes the slot of the
 * one that has waited longest that way, instead of being refused (nginx does the same with its
 * "reusable" connections): idle sockets cannot lock real clients or probes out.
 *
 * <p>Never evicted: a connection with a request in flight; a new one its event loop has not yet
 * polled ({@link Slot#settle}) — under a flood of new connections the loops are busy admitting
 * them, and a probe's request can sit unread in its socket for longer than it takes a budget's
 * worth of newer connections to arrive, so "oldest first" alone would close probes, as a test
 * showed; and a kept-alive one answered less than {@link #EVICTABLE_AFTER_NANOS} ago (its next
 * request may be on its way). While only such connections could make room, a new one waits for
 * them ({@link #worthWaiting}, bounded by the gate); when no connection could, it is refused.
 *
 * <p>Invariants: a tier's count never exceeds its limit at admission (a lowered general limit
 * cuts no open connection, and evicts none that would not make room); {@code open} is the sum of
 * both tiers; at most budget.connections connections wait; a slot is released exactly once
 * (closed or evicted, whichever comes first); an evicted connection starts no further request,
 * because eviction moves its phase AWAITING → GONE by the same compare-and-set its event loop
 * needs for AWAITING → BUSY. Thread-safe: connections are admitted on every event loop at once.
 */
final class ConnectionBudget {
    /** The share of the budget a connection was admitted on. */
    enum Tier {
        GENERAL,
        PROBES
    }

    /** Most evictions one admission tries (each retry is a race lost to another admission). */
    private static final int ADMISSION_ATTEMPTS_MAX = 8;

    /** How long a kept-alive connection is safe from eviction after its last response went out. */
    static final long EVICTABLE_AFTER_NANOS = 20_000_000;

    /** Results of {@link #evictOldest}. */
    private static final int EVICTED = 1;

    private static final int SOON = 0;
    private static final int NONE = -1;

    private static final int AWAITING = 0;
    private static final int BUSY = 1;
    private static final int GONE = 2;

    private final int budget;
    private final int reserve;
    private final IntSupplier limit;
    private final Runnable opened;
    private final Runnable closed;
    private final AtomicInteger general = new AtomicInteger();
    private final AtomicInteger probes = new AtomicInteger();
    private final Set<Slot> slots = ConcurrentHashMap.newKeySet();
    private final LongAdder evictions = new LongAdder();
    /** Connections waiting for room (no slot yet, nothing read from them). */
    private final AtomicInteger waiting = new AtomicInteger();

    /**
     * @param budget budget.connections
     * @param reserve budget.probe_connections (less than {@code budget})
     * @param limit the general limit the governor sets (budget.connections, or lowered under CPU pressure)
     * @param open the count of admitted connections, kept here (the governor's connections dimension)
     */
    ConnectionBudget(int budget, int reserve, AtomicInteger limit, AtomicInteger open) {
        this(budget, reserve, limit::get, open::incrementAndGet, open::decrementAndGet);
    }

    /**
     * @param limit the general limit in force (the governor's; budget.connections when not lowered)
     * @param opened counts an admitted connection where the governor's connections dimension reads it
     * @param closed uncounts it
     */
    ConnectionBudget(int budget, int reserve, IntSupplier limit, Runnable opened, Runnable closed) {
        if (reserve < 0 || reserve >= budget) {
            throw new IllegalArgumentException("reserve " + reserve + " must be in [0, " + budget + ")");
        }
        this.budget = budget;
        this.reserve = reserve;
        this.limit = limit;
        this.opened = opened;
        this.closed = closed;
    }

    /** Connections the general tier admits now: the governor's limit, less the probes' share. */
    int generalLimit() {
        return Math.min(limit.getAsInt(), budget - reserve);
    }

    /** Whether the general limit is lowered below the budget now (CPU pressure). */
    boolean lowered() {
        return limit.getAsInt() < budget;
    }

    /**
     * Admits a new connection, evicting the longest-waiting idle one of a full tier if that makes
     * room: general first, then the probes' share. While the general tier is full but holds an
     * idle connection that may not yield yet, the new one can wait for it ({@code
     * waitForGeneral}) rather than take a probes' slot, which could serve it nothing but probes.
     *
     * @param now the clock's nanoseconds
     * @param close closes the connection if it is evicted later; called on any thread
     * @param waitForGeneral null rather than a probes' slot while a general one may soon yield
     * @return its slot, or null if there is no room now
     */
    Slot admit(long now, Runnable close, boolean waitForGeneral) {
        for (int attempt = 0; attempt < ADMISSION_ATTEMPTS_MAX; attempt++) {
            int g = generalLimit();
            if (acquire(general, g)) {
                return add(Tier.GENERAL, now, close);
            }
            // Above a lowered limit an eviction would not make room: the new one goes to probes.
            if (general.get() <= g) {
                int evicted = evictOldest(Tier.GENERAL, now);
                if (evicted == EVICTED) {
                    continue;
                }
                if (evicted == SOON && waitForGeneral) {
                    return null;
                }
            }
            if (acquire(probes, reserve)) {
                return add(Tier.PROBES, now, close);
            }
            if (evictOldest(Tier.PROBES, now) != EVICTED) {
                return null;
            }
        }
        return null;
    }

    /**
     * Whether a connection that found no room should wait a moment: an idle connection that may
     * not yield yet (only just opened or answered, or not yet polled) will be able to.
     */
    boolean worthWaiting() {
        boolean generalMayYield = general.get() <= generalLimit();
        for (Slot s : slots) {
            if (s.phase.get() == AWAITING && (s.tier == Tier.PROBES || generalMayYield)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Takes a place among the connections waiting for room, if fewer than budget.connections do.
     *
     * @return false if as many wait already: refuse the connection
     */
    boolean startWaiting() {
        return acquire(waiting, budget);
    }

    /** A waiting connection was admitted, refused or closed. */
    void stopWaiting() {
        waiting.decrementAndGet();
    }

    /** Gives the slot back (the connection closed); a no-op if it was evicted already. */
    void release(Slot s) {
        s.phase.set(GONE);
        if (s.released.compareAndSet(false, true)) {
            (s.tier == Tier.GENERAL ? general : probes).decrementAndGet();
            closed.run();
            slots.remove(s);
        }
    }

    /** Connections waiting for room now. */
    int waitingNow() {
        return waiting.get();
    }

    /** Connections open on the probes' share. */
    int probesOpen() {
        return probes.get();
    }

    /** Connections closed to make room for a new one, since start. */
    long evictions() {
        return evictions.sum();
    }

    private static boolean acquire(AtomicInteger count, int max) {
        while (true) {
            int c = count.get();
            if (c >= max) {
                return false;
            }
            if (count.compareAndSet(c, c + 1)) {
                return true;
            }
        }
    }

    private Slot add(Tier tier, long now, Runnable close) {
        Slot s = new Slot(tier, now, close);
        opened.run();
        slots.add(s);
        return s;
    }

    /**
     * Evicts the connection of {@code tier} that has waited longest with no request in flight, if
     * it may yield: polled by its event loop since it opened, and (kept alive) answered at least
     * {@link #EVICTABLE_AFTER_NANOS} ago.
     *
     * @return {@link #EVICTED} (or the chosen one was taken by a request or another admission
     *     meanwhile: try again), {@link #SOON} if an idle one may not yield yet, {@link #NONE}
     */
    private int evictOldest(Tier tier, long now) {
        Slot oldest = null;
        boolean soon = false;
        for (Slot s : slots) {
            if (s.tier != tier || s.phase.get() != AWAITING) {
                continue;
            }
            if (!s.settled || (s.answered && now - s.awaitingSince < EVICTABLE_AFTER_NANOS)) {
                soon = true;
            } else if (oldest == null || s.awaitingSince - oldest.awaitingSince < 0) {
                oldest = s;
            }
        }
        if (oldest == null) {
            return soon ? SOON : NONE;
        }
        if (oldest.phase.compareAndSet(AWAITING, GONE)) {
            release(oldest);
            evictions.increment();
            oldest.close.run();
        }
        return EVICTED;
    }

    /**
     * One admitted connection's place in the budget. Its event loop moves it between AWAITING (no
     * request in flight: evictable) and BUSY; eviction and release move it to GONE for good.
     */
    static final class Slot {
        final Tier tier;
        private final Runnable close;
        private final AtomicInteger phase = new AtomicInteger(AWAITING);
        private final AtomicBoolean released = new AtomicBoolean();
        /** Since when it has had no request in flight (the clock's nanoseconds); read by evictions. */
        private volatile long awaitingSince;
        /** Its event loop polled its socket at least once since it opened. */
        private volatile boolean settled;
        /** It has answered a request (kept alive since). */
        private volatile boolean answered;

        private Slot(Tier tier, long now, Runnable close) {
            this.tier = tier;
            this.close = close;
            this.awaitingSince = now;
        }

        /**
         * A request starts: no longer evictable.
         *
         * @return false if the connection was evicted (it is being closed; drop the request)
         */
        boolean busy() {
            return phase.compareAndSet(AWAITING, BUSY) || phase.get() == BUSY;
        }

        /**
         * Called on the connection's event loop by a task scheduled (without delay) when it was
         * admitted: such a task runs after the loop's next I/O pass, so a request that came with
         * the connection has been read by then.
         */
        void settle() {
            settled = true;
        }

        /** No request in flight any more, since {@code now}: evictable again (after a moment). */
        void awaiting(long now) {
            awaitingSince = now;
            answered = true;
            phase.compareAndSet(BUSY, AWAITING);
        }
    }
}

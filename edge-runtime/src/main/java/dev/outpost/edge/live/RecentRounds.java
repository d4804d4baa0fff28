package dev.outpost.edge.live;

import java.util.ArrayDeque;

/**
 * The live feed's last rounds, kept after every live subscriber was offered them, so a subscriber a little behind (a
 * burst larger than its buffer, a connection that stalled for a moment) is served from the same shared, once-framed
 * rounds instead of reading the log for itself.
 *
 * <p>Design note. Before this, each subscriber behind the feed read its own round from the log (a seek per subscriber
 * per turn): with 2,000 subscribers and bursts larger than their 8 KiB buffers, the feed spent most of its time in
 * Chronicle's index scans and fell seconds behind (docs/BENCHMARKS.md, "Live subscriptions"). Invariants: the rounds
 * are consecutive (each starts right after the one before) and end at the feed's position, or the window is empty;
 * at most {@link #ROUNDS_MAX} rounds and, but for the newest one, {@link #PAYLOAD_BYTES_MAX} payload bytes are held
 * (each framing adds about that again); feed thread only.
 */
final class RecentRounds {
    /** Most rounds kept. */
    static final int ROUNDS_MAX = 64;
    /** About the most payload bytes kept. */
    static final int PAYLOAD_BYTES_MAX = 2 * 1024 * 1024;

    private final ArrayDeque<Round> rounds = new ArrayDeque<>();
    private long bytes;

    /** The feed offered {@code round} to its live subscribers: keep it (the window now ends at it). */
    void add(Round round) {
        if (!rounds.isEmpty() && rounds.peekLast().lastExamined() + 1 != round.firstSeq()) {
            clear(); // not consecutive: the window would have a hole
        }
        rounds.addLast(round);
        bytes += round.payloadBytes();
        while (rounds.size() > 1 && (rounds.size() > ROUNDS_MAX || bytes > PAYLOAD_BYTES_MAX)) {
            Round old = rounds.removeFirst();
            bytes -= old.payloadBytes();
            old.release();
        }
    }

    /** True when the window holds the events right after {@code cursor} (and at least one of them). */
    boolean covers(long cursor) {
        return !rounds.isEmpty()
                && rounds.peekFirst().firstSeq() <= cursor + 1
                && cursor < rounds.peekLast().lastExamined();
    }

    /** Offers {@code s} the rounds past its cursor, in order, until one does not fit. */
    Subscriber.Taken serve(Subscriber s, long nowNanos) {
        for (Round r : rounds) {
            if (r.lastExamined() > s.cursor() && s.deliver(r, nowNanos) == Subscriber.Taken.FULL) {
                return Subscriber.Taken.FULL;
            }
        }
        return Subscriber.Taken.YES;
    }

    /**
     * Lets the oldest round go: framed rounds hold their memory limit, and the window's framings must not be what keeps
     * every subscriber behind from being served.
     */
    void shedOldest() {
        Round old = rounds.pollFirst();
        if (old != null) {
            bytes -= old.payloadBytes();
            old.release();
        }
    }

    /** Lets every round go (the feed moved on without reading, or stops). */
    void clear() {
        for (Round r : rounds) {
            r.release();
        }
        rounds.clear();
        bytes = 0;
    }
}

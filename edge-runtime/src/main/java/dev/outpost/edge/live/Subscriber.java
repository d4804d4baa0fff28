package dev.outpost.edge.live;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One live subscription: what it wants, how far it has got, and what its connection has not taken yet.
 *
 * <p>Design note. Every subscriber has a bounded buffer: the messages and bytes handed to its connection that the
 * connection has not written yet ({@link #pendingMessages}, {@link #pendingBytes}, decreased as writes complete). The
 * feed never waits for a subscriber: a round that does not fit is not sent ({@link Taken#FULL}), and the feed serves
 * the subscriber from the log once its buffer has drained to half, so a burst costs a fast subscriber nothing. One that
 * falls more than live.lag_events_max behind is skipped forward — it is owed a gap message naming the first and last
 * seq it missed, sent once its buffer has room and before anything else — or cut with the reason, as {@code
 * live.overflow} says. Invariants: {@link #cursor} is the highest seq examined for this
 * subscriber, and it only grows; an event is sent at most once, in seq order, and only if its seq is above the cursor
 * when examined; the buffer never holds more than its limits but for one gap or heartbeat message, and for one event
 * offered when it is empty (so an event larger than the buffer still goes out); all fields but the
 * pending counts and {@link #closed} are touched by the feed's thread only.
 */
final class Subscriber {
    /** What happens when a round does not fit. */
    enum Overflow {
        SKIP,
        DISCONNECT
    }

    /** The buffer's limits and policy. */
    record Limits(int messagesMax, long bytesMax, Overflow overflow) {}

    private final Outlet outlet;
    private final TailFilter filter;
    private final Framing framing;
    private final java.util.function.Supplier<Limits> limits;
    private final LiveCounters counters;
    private final Runnable wake;
    private final AtomicInteger pendingMessages = new AtomicInteger();
    private final AtomicLong pendingBytes = new AtomicLong();
    private volatile boolean closed;
    private volatile boolean waitingForRoom;

    private long cursor;
    private boolean live;
    private long gapFrom = -1;
    private long gapTo;
    private long lastSentNanos;
    private int[] selected = new int[64];
    /**
     * What a write costs beyond its bytes, in bytes, for the send budget: a small write (a gap message) is not free.
     */
    static final int WRITE_COST_BYTES = 2_048;

    /** Bytes handed to the connection since {@link #takeSent} last asked (feed thread). */
    private long sent;

    Subscriber(
            Outlet outlet,
            TailFilter filter,
            Framing framing,
            java.util.function.Supplier<Limits> limits,
            long afterSeq,
            LiveCounters counters,
            Runnable wake,
            long nowNanos) {
        this.outlet = outlet;
        this.filter = filter;
        this.framing = framing;
        this.limits = limits;
        this.cursor = afterSeq;
        this.counters = counters;
        this.wake = wake;
        this.lastSentNanos = nowNanos;
    }

    long cursor() {
        return cursor;
    }

    /** Whether this subscriber's transport has memory to frame a round now. */
    boolean framingRoomy() {
        return framing.roomy();
    }

    boolean live() {
        return live;
    }

    void goLive() {
        live = true;
    }

    boolean closed() {
        return closed;
    }

    /** The connection is gone (closed by the client, the agent, or an error): the feed drops this subscriber. */
    void markClosed() {
        closed = true;
    }

    /** True when the buffer is at most half full: a catching-up subscriber reads on, a skipped one is told its gap. */
    boolean hasRoom() {
        Limits l = limits.get();
        boolean room = pendingMessages.get() * 2L <= l.messagesMax() && pendingBytes.get() * 2 <= l.bytesMax();
        waitingForRoom = !room;
        return room;
    }

    /** Tells the subscriber that retention deleted the events it asked for, below {@code firstSeq}. */
    void deleted(long firstSeq) {
        if (cursor + 1 < firstSeq) {
            control();
            outlet.gap(cursor + 1, firstSeq - 1, firstSeq - 1 - cursor, this::controlTaken);
            counters.gaps.increment();
            cursor = firstSeq - 1;
        }
    }

    /** Whether a subscriber took what it was offered. */
    enum Taken {
        /** Sent (or nothing in it was for this subscriber): the cursor moved past it. */
        YES,
        /** It did not fit: nothing was sent and the cursor stayed (the feed serves the subscriber from the log). */
        FULL
    }

    /**
     * Offers the round's events above the cursor that the filter admits: as many as fit in the buffer, in order (at
     * least one when it is empty). FULL when not all of them fit: the cursor is then at the last one sent.
     */
    Taken deliver(Round round, long nowNanos) {
        if (gapFrom >= 0) {
            if (!hasRoom()) {
                return Taken.FULL;
            }
            endGap(nowNanos);
        }
        int n = select(round);
        if (n > 0) {
            Framing.Framed f = round.framed(framing);
            if (f == null) {
                return Taken.FULL; // no memory to frame it: the feed serves this subscriber once there is
            }
            int k = fitting(f, n);
            if (k > 0) {
                send(slices(f, k), k);
                counters.messages.add(k);
                lastSentNanos = nowNanos;
            }
            if (k < n) {
                cursor = k > 0 ? round.seq(selected[k - 1]) : cursor;
                waitingForRoom = true;
                return Taken.FULL;
            }
        }
        cursor = Math.max(cursor, round.lastExamined());
        return Taken.YES;
    }

    /** How many of the {@code n} selected frames fit in the buffer now (at least one when it is empty). */
    private int fitting(Framing.Framed f, int n) {
        Limits l = limits.get();
        int waiting = pendingMessages.get();
        long bytes = pendingBytes.get();
        int k = 0;
        while (k < n) {
            int i = selected[k];
            long size = f.ends()[i] - f.start(i);
            boolean fits = waiting + k + 1 <= l.messagesMax() && bytes + size <= l.bytesMax();
            if (!fits && (waiting > 0 || k > 0)) {
                break;
            }
            bytes += size;
            k++;
        }
        return k;
    }

    /** Messages the buffer can take now (at least one), for sizing a round read for this subscriber alone. */
    int freeMessages() {
        return Math.max(1, limits.get().messagesMax() - pendingMessages.get());
    }

    /** Bytes the buffer can take now (at least one). */
    int freeBytes() {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, limits.get().bytesMax() - pendingBytes.get()));
    }

    /**
     * The subscriber is more than live.lag_events_max behind the feed: it is skipped forward to {@code seq} (a gap
     * message goes out once its buffer has room) or cut, as live.overflow says. False if cut.
     */
    boolean fellBehind(long seq) {
        if (limits.get().overflow() == Overflow.DISCONNECT) {
            counters.disconnects.increment();
            close("fell more than live.lag_events_max behind: the connection did not take what it was sent");
            return false;
        }
        counters.skipped.add(seq - cursor);
        gapFrom = gapFrom >= 0 ? gapFrom : cursor + 1;
        gapTo = seq;
        cursor = seq;
        return true;
    }

    private int select(Round round) {
        int n = 0;
        for (int i : round.indexesOf(filter.streams())) {
            if (round.seq(i) > cursor && filter.meets(round, i)) {
                if (n == selected.length) {
                    selected = java.util.Arrays.copyOf(selected, n * 2);
                }
                selected[n++] = i;
            }
        }
        return n;
    }

    /** The selected frames as one buffer: a slice of the shared bytes per run of consecutive events. */
    private ByteBuf slices(Framing.Framed f, int n) {
        ByteBuf whole = f.bytes();
        java.util.ArrayList<ByteBuf> runs = new java.util.ArrayList<>(4);
        int k = 0;
        while (k < n) {
            int from = selected[k];
            int to = from;
            while (k + 1 < n && selected[k + 1] == to + 1) {
                to = selected[++k];
            }
            k++;
            int start = f.start(from);
            runs.add(whole.retainedSlice(start, f.ends()[to] - start));
        }
        return runs.size() == 1 ? runs.get(0) : Unpooled.wrappedBuffer(runs.size(), runs.toArray(ByteBuf[]::new));
    }

    private void endGap(long nowNanos) {
        control();
        sent += WRITE_COST_BYTES;
        outlet.gap(gapFrom, gapTo, gapTo - gapFrom + 1, this::controlTaken);
        counters.gaps.increment();
        gapFrom = -1;
        lastSentNanos = nowNanos;
    }

    /**
     * Tells a skipped subscriber its gap once its buffer has drained (no need to wait for the next event), and sends a
     * heartbeat when nothing was sent for {@code intervalNanos} and nothing is waiting. The gap waits while not {@code
     * mayTellGap} (the feed's send budget is spent).
     */
    void tick(long nowNanos, long intervalNanos, boolean mayTellGap) {
        if (gapFrom >= 0 && mayTellGap && hasRoom()) {
            endGap(nowNanos);
        }
        if (nowNanos - lastSentNanos >= intervalNanos && pendingMessages.get() == 0) {
            control();
            outlet.heartbeat(this::controlTaken);
            lastSentNanos = nowNanos;
        }
    }

    /** Ends the subscription, telling the client why. */
    void close(String reason) {
        closed = true;
        outlet.close(reason);
    }

    /** What was handed to the connection since the last call, in bytes and {@link #WRITE_COST_BYTES} a write. */
    long takeSent() {
        long n = sent;
        sent = 0;
        return n;
    }

    private void send(ByteBuf frames, int messages) {
        int size = frames.readableBytes();
        sent += size + WRITE_COST_BYTES;
        pendingMessages.addAndGet(messages);
        pendingBytes.addAndGet(size);
        outlet.events(frames, messages, () -> taken(messages, size));
    }

    /** A control message (a gap or heartbeat, under 200 bytes) counts as one message and no bytes. */
    private void control() {
        pendingMessages.incrementAndGet();
    }

    private void controlTaken() {
        taken(1, 0);
    }

    private void taken(int messages, int size) {
        pendingMessages.addAndGet(-messages);
        pendingBytes.addAndGet(-size);
        if (waitingForRoom) {
            wake.run();
        }
    }
}

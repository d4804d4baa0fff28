package dev.outpost.edge.live;

import io.netty.buffer.ByteBuf;

/**
 * Where one subscription's messages go, in its transport's words (an SSE stream, a WebSocket subscription). Each
 * method queues its message for the connection and never blocks; {@code taken} runs once the connection has written
 * or dropped it. Implementations are thread-safe (the feed writes, the connection's loop completes).
 */
public interface Outlet {
    /**
     * Events: {@code frames} (owned) holds {@code count} of them as the transport's {@link Framing} framed them, one
     * after another.
     */
    void events(ByteBuf frames, int count, Runnable taken);

    /** The events with seqs in {@code [fromSeq, toSeq]} ({@code skipped} of them) will not be sent. */
    void gap(long fromSeq, long toSeq, long skipped, Runnable taken);

    /** Nothing else was sent for a while: show that the subscription is alive. */
    void heartbeat(Runnable taken);

    /** The agent ends the subscription: say why, then let it go. */
    void close(String reason);
}

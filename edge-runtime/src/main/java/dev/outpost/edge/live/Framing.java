package dev.outpost.edge.live;

import io.netty.buffer.ByteBuf;

/**
 * How a transport puts the feed's messages on the wire (SSE today). One instance per transport, shared by its
 * subscribers; called on the feed's thread only.
 */
public interface Framing {
    /**
     * A round's events, framed one after another.
     *
     * @param bytes every event of the round, framed, in order (the caller releases it)
     * @param ends {@code ends[i]} is where event i's frame ends in {@code bytes}; a frame of length 0 is an event the
     *     transport cannot send (unreadable), which subscribers skip
     */
    record Framed(ByteBuf bytes, int[] ends) {
        int start(int i) {
            return i == 0 ? 0 : ends[i - 1];
        }
    }

    Framed frame(Round round);

    /** A message saying that the events with seqs in {@code [fromSeq, toSeq]} were not sent ({@code skipped} of them). */
    ByteBuf gap(long fromSeq, long toSeq, long skipped);

    /** A message that only shows the connection is alive. */
    ByteBuf heartbeat();

    /** The last message of a subscription the agent ends, saying why. */
    ByteBuf closing(String reason);
}

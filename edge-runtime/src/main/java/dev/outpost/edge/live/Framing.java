package dev.outpost.edge.live;

import io.netty.buffer.ByteBuf;

/**
 * How a transport frames events (SSE, WebSocket). One instance per transport, shared by its subscribers, so a round is
 * framed once however many subscribers take it; called on the feed's thread only.
 */
public interface Framing {
    /**
     * A round's events, framed, one after another.
     *
     * @param bytes every event of the round, framed, in order (the caller releases it)
     * @param ends {@code ends[i]} is where event i's frame ends in {@code bytes}; a frame of length 0 is an event the
     *     transport cannot send (unreadable), which adds nothing
     */
    record Framed(ByteBuf bytes, int[] ends) {
        int start(int i) {
            return i == 0 ? 0 : ends[i - 1];
        }
    }

    /** The round framed, or null when the memory for framed rounds is short ({@link FramedMemory#take}). */
    Framed frame(Round round);

    /** Whether there is memory to frame a round now: worth reading one from the log for a subscriber behind. */
    default boolean roomy() {
        return true;
    }
}

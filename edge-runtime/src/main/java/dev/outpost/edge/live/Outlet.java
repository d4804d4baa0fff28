package dev.outpost.edge.live;

import io.netty.buffer.ByteBuf;

/** Where a subscriber's messages go: its connection. Implementations are thread-safe (the feed writes, the loop ends). */
public interface Outlet {
    /**
     * Queues {@code bytes} for the connection (taking ownership of them) and calls {@code taken} once the connection
     * has written or dropped them. Never blocks.
     */
    void send(ByteBuf bytes, Runnable taken);

    /** Sends {@code last} (owned) if it can, then closes the connection. */
    void close(ByteBuf last);
}

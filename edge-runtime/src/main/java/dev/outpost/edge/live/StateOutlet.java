package dev.outpost.edge.live;

import dev.outpost.store.StateDoc;
import java.util.List;

/**
 * Where one state watch's messages go (an SSE stream, a WebSocket subscription). Each method queues its message and
 * never blocks; {@code taken} runs once the connection has written or dropped it. Thread-safe.
 */
public interface StateOutlet {
    /** The namespace's live documents as of {@code seq}; {@code resync} when it replaces a replica the client lost. */
    void snapshot(List<StateDoc> docs, long seq, boolean resync, Runnable taken);

    /**
     * One change: document {@code id} is now at {@code version}, was at {@code previous} (0: absent); {@code op} is
     * put or delete; {@code patch} (RFC 6902, against the previous version; null for a delete) makes the new document.
     */
    void change(String id, long version, long previous, String op, List<Object> patch, long seq, Runnable taken);

    /** The agent ends the watch: say why, then let it go. */
    void close(String reason);
}

package dev.outpost.store;

import java.util.List;

/**
 * Versioned state documents by {namespace, id}. Implementations are thread-safe for single
 * operations; callers serialize read-modify-write sequences (see the runtime's state service).
 */
public interface StateStore extends AutoCloseable {
    /** The document (or tombstone), or null if never written (or compacted). */
    StateDoc get(String namespace, String id);

    /**
     * Stores {@code doc} as the current version.
     *
     * @throws StateStoreFullException if the store is at capacity and the document is new
     */
    void put(StateDoc doc);

    /**
     * Throws {@link StateStoreFullException} if {@link #put} of {@code candidate} would be refused;
     * lets a caller refuse before it writes anything else (e.g. the event log).
     */
    void checkRoom(StateDoc candidate);

    /** Removes the entry (used to compact old tombstones); true if it was there. */
    boolean remove(String namespace, String id);

    /** Tombstones last changed before {@code hlc}, at most {@code max}. */
    List<StateDoc> tombstonesBefore(long hlc, int max);

    /** Documents of a namespace whose id starts with {@code prefix}, after {@code afterId}, in id order. */
    List<StateDoc> list(String namespace, String prefix, String afterId, int limit);

    /** Documents held (tombstones included). */
    long size();

    /** Most documents the store accepts. */
    long capacity();

    /** The highest log sequence applied to any document. */
    long maxLogSeq();

    @Override
    void close();
}

package dev.outpost.store;

/**
 * Durable positions of sync: per (upstream, lane), the set of sequence ranges acknowledged
 * ({@link AckedRanges}). An edge keeps what its hub acknowledged, a hub what each node sent, a
 * puller how far it has applied the hub's changes. The {@link Catalog} keeps them in SQLite.
 */
public interface SyncCursors {
    /** What {@code upstream} has acknowledged on {@code lane}: a fresh copy, empty if nothing is stored. */
    AckedRanges syncCursor(String upstream, String lane);

    /** Stores (replacing) what {@code upstream} has acknowledged on {@code lane}; durable when it returns. */
    void putSyncCursor(String upstream, String lane, AckedRanges ranges);
}

package dev.outpost.store;

/** Reads records forward in sequence order. Not thread-safe; close it when done. */
public interface EventCursor extends AutoCloseable {
    /**
     * Fills {@code view} with the next readable record and returns true, or returns false at the end
     * of the log. Corrupt records are skipped (and counted in {@link LogCounters}).
     */
    boolean next(RecordView view);

    @Override
    void close();
}

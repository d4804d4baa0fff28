package dev.outpost.store;

import java.nio.file.Path;

/** The state store is at its configured capacity: the write is refused (HTTP 507), nothing changed. */
public final class StateStoreFullException extends StoreException {
    public StateStoreFullException(Path file, long capacity) {
        this(
                file,
                "the state store holds its configured maximum of " + capacity
                        + " documents (state.documents_max); delete documents or raise the limit");
    }

    private StateStoreFullException(Path file, String hint) {
        super("store a new state document", file, hint, null);
    }

    /**
     * A document larger than the state map, at its full size, takes in one entry (Chronicle keeps an
     * entry within one segment, whose size follows state.documents_max x state.doc_bytes_avg).
     */
    static StateStoreFullException tooLarge(Path file, int valueBytes, long entryBytesMax) {
        return new StateStoreFullException(
                file,
                "a document of " + valueBytes + " bytes (encoded) is larger than the " + entryBytesMax
                        + " bytes one entry of the state map takes at state.documents_max; raise"
                        + " state.doc_bytes_avg or state.documents_max, or lower state.doc_bytes_max");
    }
}

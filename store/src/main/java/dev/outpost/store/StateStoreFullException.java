package dev.outpost.store;

import java.nio.file.Path;

/** The state store is at its configured capacity: the write is refused (HTTP 507), nothing changed. */
public final class StateStoreFullException extends StoreException {
    public StateStoreFullException(Path file, long capacity) {
        super(
                "store a new state document",
                file,
                "the state store holds its configured maximum of " + capacity
                        + " documents (state.documents_max); delete documents or raise the limit",
                null);
    }
}

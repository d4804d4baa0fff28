package dev.outpost.store;

import java.nio.file.Path;

/**
 * The filesystem under the store has no room left (ENOSPC, or a quota): the write was refused
 * whole, nothing of it is kept, and the same write succeeds once space is freed (HTTP 507 with
 * Retry-After). Unlike {@link StateStoreFullException} this is not a configured limit but the real
 * disk.
 */
public final class DiskFullException extends StoreException {
    public DiskFullException(String operation, Path path, Throwable cause) {
        super(
                operation,
                path,
                "the filesystem of the data directory is full; free space there (the agent resumes by itself,"
                        + " retry the request) or lower budget.disk below the free space so that the agent sheds"
                        + " and retires data before the disk fills",
                cause);
    }
}

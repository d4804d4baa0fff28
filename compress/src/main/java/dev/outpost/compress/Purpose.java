package dev.outpost.compress;

/** Where a payload goes; each place trades CPU against bytes differently. */
public enum Purpose {
    /** The event log as written: cheap, on the ingest path. */
    HOT_LOG,
    /** Data at rest that is rarely read: strong. */
    COLD_SEGMENT,
    /** Batches to an upstream hub: strong, with a dictionary where one helps. */
    WIRE
}

package dev.outpost.governor;

/** A dimension of the one budget. Units: bytes (memory, disk), milli-cores (CPU), count, events per second. */
public enum Dimension {
    MEMORY,
    CPU,
    DISK,
    CONNECTIONS,
    INGEST_RATE
}

package dev.outpost.store;

/**
 * One versioned state document.
 *
 * @param namespace its namespace
 * @param id its id within the namespace
 * @param version 1 for the first write, +1 per change (a delete is a change)
 * @param updatedAt HLC time of the last change
 * @param origin node id that made the last change
 * @param logSeq sequence of the state-change event in the event log that produced this version
 * @param deleted true for a tombstone (kept for sync, compacted later)
 * @param doc the JSON document (empty for a tombstone)
 */
public record StateDoc(
        String namespace,
        String id,
        long version,
        long updatedAt,
        String origin,
        long logSeq,
        boolean deleted,
        byte[] doc) {}

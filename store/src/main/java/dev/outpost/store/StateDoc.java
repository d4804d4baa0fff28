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
 * @param history log sequences of the previous versions' state events, newest first (bounded)
 */
public record StateDoc(
        String namespace,
        String id,
        long version,
        long updatedAt,
        String origin,
        long logSeq,
        boolean deleted,
        byte[] doc,
        long[] history) {

    private static final long[] NONE = new long[0];

    public StateDoc {
        if (history == null) {
            history = NONE;
        }
    }

    /** A document without history. */
    public StateDoc(
            String namespace,
            String id,
            long version,
            long updatedAt,
            String origin,
            long logSeq,
            boolean deleted,
            byte[] doc) {
        this(namespace, id, version, updatedAt, origin, logSeq, deleted, doc, NONE);
    }

    /** The history of the version after this one: this version first, then older, at most {@code max}. */
    public long[] historyForNext(int max) {
        int n = Math.min(max, history.length + 1);
        long[] h = new long[n];
        if (n > 0) {
            h[0] = logSeq;
            System.arraycopy(history, 0, h, 1, n - 1);
        }
        return h;
    }
}

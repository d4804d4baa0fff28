package dev.outpost.edge.state;

import dev.outpost.store.StateDoc;
import dev.outpost.store.StateStore;
import java.util.ArrayList;
import java.util.List;

/**
 * A page of a namespace's live documents, in id order; {@code more}: it ended at its limit or at {@link
 * #PAGE_BYTES_MAX}, not at the end of the prefix. A page is built in memory, so it is bounded by bytes as well as by
 * count: a limit of 100,000 documents of 64 KiB would not fit the heap.
 */
public record StatePage(List<StateDoc> docs, boolean more) {
    /** Most document bytes one page holds (at least one document). */
    public static final long PAGE_BYTES_MAX = 4L << 20;
    /** Documents read from the store at a time while a page is built. */
    static final int BATCH_MAX = 64;

    /** At most {@code limit} live documents of {@code namespace} by id prefix, after {@code afterId}. */
    static StatePage read(StateStore store, String namespace, String prefix, String afterId, int limit) {
        String p = prefix == null ? "" : prefix;
        List<StateDoc> out = new ArrayList<>(Math.min(limit, 1024));
        String after = afterId;
        long bytes = 0;
        while (out.size() < limit && bytes < PAGE_BYTES_MAX) {
            // Tombstones are skipped, so read on past them until the page is full or the prefix ends.
            List<StateDoc> batch = store.list(namespace, p, after, Math.min(BATCH_MAX, limit - out.size()));
            if (batch.isEmpty()) {
                return new StatePage(out, false);
            }
            for (StateDoc d : batch) {
                if (!d.deleted()) {
                    out.add(d);
                    bytes += d.doc().length;
                }
                after = d.id();
                if (bytes >= PAGE_BYTES_MAX) {
                    break;
                }
            }
        }
        return new StatePage(out, true);
    }
}

package dev.outpost.store;

import java.util.Map;
import java.util.NavigableSet;
import java.util.concurrent.ConcurrentHashMap;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Finds groups in the event log by the keys in their headers (first seq, first HLC), without reading records: the
 * cycle by its first group's keys (cached per cycle), then a binary search over the cycle's excerpts. Groups are
 * appended in seq and HLC order, so both keys increase along the log. Invariants: quarantined groups are never read;
 * a header that does not parse is treated as absent; excerpts at or past a cycle's tear are never searched; the cache is dropped for a cycle retention deletes ({@link
 * #forget}). A seq among the groups this process appended last is found without a search ({@link #appended}: a
 * reader following the head, as the live feed and sync do, opens a cursor per round; the search listed the
 * directory and read ~20 group headers each time); those are groups just written, never quarantined or torn, and
 * retention deleting any cycle forgets them all. Thread-safe for the caches; each caller brings its own tailer.
 */
final class GroupIndex {
    /** No group: the log is empty. */
    static final long NONE = Long.MIN_VALUE;

    private final SingleChronicleQueue queue;
    private final Quarantine quarantine;
    private final Map<Integer, long[]> cycleFirstKeys = new ConcurrentHashMap<>();

    /** How many of the most recently appended groups are remembered (first seq, index), for readers at the head. */
    static final int RECENT_GROUPS = 1_024;

    /** Pairs (first seq, index) of the last groups this process appended, a ring from {@link #recentStart}. */
    private final long[] recent = new long[2 * RECENT_GROUPS];

    private int recentStart;
    private int recentCount;

    GroupIndex(SingleChronicleQueue queue, Quarantine quarantine) {
        this.queue = queue;
        this.quarantine = quarantine;
    }

    /**
     * The index of the last group whose first key (seq, or HLC if {@code byTime}) is <= key; the
     * first group if key is before all; NONE if the log is empty.
     */
    long findGroup(ExcerptTailer t, long key, boolean byTime) {
        long recent = byTime ? NONE : recentGroup(key);
        if (recent != NONE) {
            return recent;
        }
        int first = queue.firstCycle();
        int last = queue.lastCycle();
        if (first == Integer.MAX_VALUE || last == Integer.MIN_VALUE || first > last) {
            return NONE;
        }
        NavigableSet<Long> cycles = queue.listCyclesBetween(first, last);
        long chosenCycle = NONE;
        for (Long c : cycles.descendingSet()) {
            long[] k = firstKeysOfCycle(t, c.intValue());
            if (k == null) {
                continue;
            }
            chosenCycle = c;
            if ((byTime ? k[1] : k[0]) <= key) {
                break;
            }
        }
        if (chosenCycle == NONE) {
            return NONE;
        }
        int cycle = (int) chosenCycle;
        RollCycle rc = queue.rollCycle();
        long n = readableExcerpts(t, cycle);
        long lo = 0;
        long hi = n - 1;
        long best = 0;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            long[] k = groupKeysAt(t, rc.toIndex(cycle, mid));
            if (k == null) {
                // A corrupt header: no key to compare; searching on from the left half stays correct
                // because the reader skips forward past it anyway.
                hi = mid - 1;
                continue;
            }
            if ((byTime ? k[1] : k[0]) <= key) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return rc.toIndex(cycle, best);
    }

    long[] firstKeysOfCycle(ExcerptTailer t, int cycle) {
        long[] cached = cycleFirstKeys.get(cycle);
        if (cached != null) {
            return cached;
        }
        long n = readableExcerpts(t, cycle);
        RollCycle rc = queue.rollCycle();
        for (long i = 0; i < n; i++) {
            long idx = rc.toIndex(cycle, i);
            if (quarantine.holds(idx)) {
                continue;
            }
            long[] k = groupKeysAt(t, idx);
            if (k != null) {
                cycleFirstKeys.put(cycle, k);
                return k;
            }
        }
        return null;
    }

    /** {first seq, first hlc} from the header of the group at {@code index}, or null if unreadable. */
    private long[] groupKeysAt(ExcerptTailer t, long index) {
        if (!t.moveToIndex(index)) {
            return null;
        }
        try (DocumentContext dc = t.readingDocument()) {
            if (!dc.isPresent()) {
                return null;
            }
            Bytes<?> b = dc.wire().bytes();
            if (b.readRemaining() < RecordCodec.GROUP_HEADER_BYTES) {
                return null;
            }
            byte[] h = new byte[RecordCodec.GROUP_HEADER_BYTES];
            b.read(h, 0, h.length);
            if (!RecordCodec.validGroupHeader(h, h.length)) {
                return null;
            }
            return new long[] {RecordCodec.getLong(h, 6), RecordCodec.getLong(h, 14)};
        }
    }

    /** Sequence number of the last record of the last readable group of {@code cycle}, 0 if none. */
    long lastSeqOfCycle(ExcerptTailer t, int cycle) {
        RollCycle rc = queue.rollCycle();
        for (long i = readableExcerpts(t, cycle) - 1; i >= 0; i--) {
            long idx = rc.toIndex(cycle, i);
            if (quarantine.holds(idx) || !t.moveToIndex(idx)) {
                continue;
            }
            try (DocumentContext dc = t.readingDocument()) {
                if (!dc.isPresent()) {
                    continue;
                }
                Bytes<?> b = dc.wire().bytes();
                if (b.readRemaining() < RecordCodec.GROUP_HEADER_BYTES) {
                    continue;
                }
                byte[] h = new byte[RecordCodec.GROUP_HEADER_BYTES];
                b.read(h, 0, h.length);
                if (RecordCodec.validGroupHeader(h, h.length)) {
                    return RecordCodec.getLong(h, 6) + RecordCodec.getInt(h, 2) - 1;
                }
            }
        }
        return 0;
    }

    /** Excerpts of {@code cycle} readers may read: all of them, or those before its tear ({@link TornCycle}). */
    private long readableExcerpts(ExcerptTailer t, int cycle) {
        long n = t.excerptsInCycle(cycle);
        long torn = quarantine.tornAt(cycle);
        return torn == Long.MAX_VALUE ? n : Math.min(n, queue.rollCycle().toSequenceNumber(torn));
    }

    /** Retention deleted {@code cycle}: its keys are gone. */
    void forget(int cycle) {
        cycleFirstKeys.remove(cycle);
        synchronized (recent) {
            recentCount = 0; // rarely: retention deletes old cycles, the recent groups are refound from the file
        }
    }

    /**
     * The group whose first seq is {@code firstSeq} was appended at {@code index} ({@link #NONE}: unknown, as after a
     * fault); under the log's append lock, in seq order.
     */
    void appended(long firstSeq, long index) {
        synchronized (recent) {
            if (index == NONE) {
                recentCount = 0; // a group of unknown index: the ones before it would answer for its seqs
                return;
            }
            int slot = (recentStart + recentCount) % RECENT_GROUPS;
            if (recentCount == RECENT_GROUPS) {
                recentStart = (recentStart + 1) % RECENT_GROUPS;
            } else {
                recentCount++;
            }
            recent[2 * slot] = firstSeq;
            recent[2 * slot + 1] = index;
        }
    }

    /**
     * The index of the last recently appended group whose first seq is {@code <= seq}, or {@link #NONE} when {@code
     * seq} is older than the groups remembered (or none is): readers following the head find their group without a
     * search over the cycle's excerpts.
     */
    private long recentGroup(long seq) {
        synchronized (recent) {
            if (recentCount == 0 || recent[2 * recentStart] > seq) {
                return NONE;
            }
            int lo = 0;
            int hi = recentCount - 1;
            while (lo < hi) { // the last entry whose first seq <= seq; entry lo qualifies
                int mid = (lo + hi + 1) >>> 1;
                if (recent[2 * ((recentStart + mid) % RECENT_GROUPS)] <= seq) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            return recent[2 * ((recentStart + lo) % RECENT_GROUPS) + 1];
        }
    }
}

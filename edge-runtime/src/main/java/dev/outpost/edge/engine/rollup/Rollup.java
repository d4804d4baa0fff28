package dev.outpost.edge.engine.rollup;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One defined rollup at run time: its declaration, the log position and counters as of the last flush plus
 * what was applied since, and its open windows' summaries in memory.
 *
 * <p>Windows are tumbling and aligned to the epoch: an event at time t belongs to the window starting at
 * {@code floor(t / window) * window}. The watermark is the highest event time this rollup has applied, except
 * that an event dated more than {@link #FUTURE_SKEW_MILLIS_MAX} after its ingest time moves it only that far
 * (one event stamped in the year 9999 must not close every window). A window is closed once {@code end +
 * allowed lateness <= watermark}; an event for a closed window is counted as late and not applied, anything
 * else updates its window, on disk if no longer in memory. The watermark and counters are stored with the
 * rows, so a replay after a crash classifies each event exactly as the first run did.
 *
 * <p>Invariant: every summary in {@link #windows} holds all applied events of its window and group (it was
 * loaded from its row before any event was added, when the window is in {@link #spilled}). Engine thread
 * only.
 */
final class Rollup {
    /** How far past its ingest time an event's own time may move the watermark, in milliseconds. */
    static final long FUTURE_SKEW_MILLIS_MAX = 5 * 60_000L;

    /** Reads a window's summary from disk when memory no longer has it. */
    interface Loader {
        /** The stored summary of {@code key}, or null. */
        WindowSummary load(Rollup r, GroupKey key);
    }

    /** One row to write. */
    record Write(long rollupId, long windowStart, String groupKey, byte[] vals, byte[] summary) {}

    final long id;
    final RollupSpec spec;
    final List<String> valueFields;
    final boolean[] sketched;
    private int[] groupSlots;
    private int[] valueSlots;
    private final Probe probe = new Probe();

    /** Open windows' summaries held in memory (dirty ones not yet written). */
    final Map<GroupKey, WindowSummary> windows = new HashMap<>();
    /** Open windows some of whose rows are on disk but maybe not in {@link #windows}. */
    final Set<Long> spilled = new HashSet<>();

    long coveredSeq;
    /** The highest seq folded in memory (at least {@link #coveredSeq}); rows on disk cover up to coveredSeq. */
    long appliedSeq;

    long watermarkMillis;
    long backfillUntilSeq;
    long events;
    long lateEvents;
    long skippedValues;
    final long definedAtMillis;

    Rollup(
            long id,
            RollupSpec spec,
            long coveredSeq,
            long watermarkMillis,
            long backfillUntilSeq,
            long definedAtMillis) {
        this.id = id;
        this.spec = spec;
        this.coveredSeq = coveredSeq;
        this.appliedSeq = coveredSeq;
        this.watermarkMillis = watermarkMillis;
        this.backfillUntilSeq = backfillUntilSeq;
        this.definedAtMillis = definedAtMillis;
        this.valueFields = spec.valueFields();
        this.sketched = new boolean[valueFields.size()];
        for (Aggregate a : spec.aggregates()) {
            if (a.isQuantile()) {
                sketched[valueFields.indexOf(a.field())] = true;
            }
        }
    }

    /** All fields this rollup reads, as declared. */
    List<String> fields() {
        List<String> all = new ArrayList<>(spec.groupBy());
        all.addAll(valueFields);
        return all;
    }

    /** Binds this rollup to the slots of its stream's reader. */
    void bind(EventFields f) {
        groupSlots = spec.groupBy().stream().mapToInt(f::slot).toArray();
        valueSlots = valueFields.stream().mapToInt(f::slot).toArray();
    }

    long windowStart(long eventMillis) {
        return Math.floorDiv(eventMillis, spec.windowMillis()) * spec.windowMillis();
    }

    boolean closed(long windowStart) {
        return windowStart + spec.windowMillis() + spec.allowedLatenessMillis() <= watermarkMillis;
    }

    /**
     * Folds the event {@code f} has read into its window and group.
     *
     * @return 1 if a summary was added to memory, else 0
     */
    int fold(long ingestMillis, EventFields f, Loader loader) {
        long eventMillis = f.eventMillis(ingestMillis);
        long advance = Math.min(eventMillis, ingestMillis + FUTURE_SKEW_MILLIS_MAX);
        watermarkMillis = Math.max(watermarkMillis, advance);
        long start = windowStart(eventMillis);
        if (closed(start)) {
            lateEvents++;
            return 0;
        }
        WindowSummary s = windows.get(probe.of(start, f));
        int added = 0;
        if (s == null) {
            GroupKey key = key(start, f);
            s = spilled.contains(start) ? loader.load(this, key) : null;
            if (s == null) {
                s = new WindowSummary(sketched);
            }
            windows.put(key, s);
            added = 1;
        }
        s.addEvent();
        for (int i = 0; i < valueSlots.length; i++) {
            double v = f.number(valueSlots[i]);
            if (WindowSummary.accepts(v)) {
                s.addValue(i, v);
            } else {
                skippedValues++;
            }
        }
        s.dirty = true;
        events++;
        return added;
    }

    private GroupKey key(long start, EventFields f) {
        String[] values = new String[groupSlots.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = f.text(groupSlots[i]);
        }
        return new GroupKey(start, Arrays.asList(values));
    }

    /**
     * The event's (window, group) as a {@link #windows} lookup key without creating its strings: equal to, and hashing
     * as, the {@link GroupKey} {@link #key} would make. Only ever the argument of a lookup (HashMap calls the
     * argument's equals), never stored; reused event after event.
     */
    private final class Probe {
        private long start;
        private EventFields fields;
        private int hash;

        Probe of(long windowStart, EventFields f) {
            start = windowStart;
            fields = f;
            int h = 1; // List.hashCode of the values
            for (int slot : groupSlots) {
                h = 31 * h + f.textHash(slot);
            }
            hash = GroupKey.hash(windowStart, h);
            return this;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof GroupKey k) || k.windowStart() != start) {
                return false;
            }
            List<String> values = k.values();
            for (int i = 0; i < groupSlots.length; i++) {
                if (!fields.textEquals(groupSlots[i], values.get(i))) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * The {@code covered_seq} a flush stores: every seq up to {@code lastSeq} (the last the rollups were fed
     * in full) counts for every rollup, whatever its stream; one may have folded the seq after it as well.
     */
    long coveredAfterFlush(long lastSeq) {
        return Math.max(coveredSeq, Math.max(lastSeq, appliedSeq));
    }

    /** The rows changed since the last flush (they stay dirty until {@link #written}). */
    List<Write> dirtyRows() {
        List<Write> rows = new ArrayList<>();
        for (Map.Entry<GroupKey, WindowSummary> e : windows.entrySet()) {
            WindowSummary s = e.getValue();
            if (s.dirty) {
                GroupKey k = e.getKey();
                rows.add(new Write(id, k.windowStart(), k.json(), vals(s.valueArray(spec)), s.encode()));
            }
        }
        return rows;
    }

    /** After a commit: everything in memory is on disk. */
    void written() {
        for (WindowSummary s : windows.values()) {
            s.dirty = false;
        }
    }

    /** Drops the written summaries of closed windows (they can never change again); returns how many. */
    int dropClosed() {
        int dropped = 0;
        for (Iterator<Map.Entry<GroupKey, WindowSummary>> it =
                        windows.entrySet().iterator();
                it.hasNext(); ) {
            Map.Entry<GroupKey, WindowSummary> e = it.next();
            if (!e.getValue().dirty && closed(e.getKey().windowStart())) {
                it.remove();
                dropped++;
            }
        }
        spilled.removeIf(this::closed);
        return dropped;
    }

    /** Drops every written summary, remembering their windows as spilled; returns how many. */
    int dropWritten() {
        int dropped = 0;
        for (Iterator<Map.Entry<GroupKey, WindowSummary>> it =
                        windows.entrySet().iterator();
                it.hasNext(); ) {
            Map.Entry<GroupKey, WindowSummary> e = it.next();
            if (!e.getValue().dirty) {
                spilled.add(e.getKey().windowStart());
                it.remove();
                dropped++;
            }
        }
        return dropped;
    }

    /** The aggregates' values as stored in a row's {@code vals}: big-endian doubles, NaN for none. */
    static byte[] vals(double[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * Double.BYTES);
        for (double v : values) {
            b.putDouble(v);
        }
        return b.array();
    }

    /** The first window start that may still be open. */
    long openFrom() {
        long lag = spec.windowMillis() + spec.allowedLatenessMillis();
        return watermarkMillis - lag < 0 ? 0 : windowStart(watermarkMillis - lag);
    }
}

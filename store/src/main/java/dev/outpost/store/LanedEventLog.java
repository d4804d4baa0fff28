package dev.outpost.store;

import dev.outpost.compress.Pressure;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * The event log as one Chronicle queue per {@link Lane}, under {@code directory/<lane>}.
 *
 * <p>Design note. Lanes are stored apart so that retention can delete the oldest cycle of the
 * {@code bulk} lane without touching {@code critical} data written in the same minute, and so that
 * sync can read one lane at a time. Readers still see one log. Invariants:
 *
 * <ul>
 *   <li>One append lock and one sequence for all lanes ({@link ChronicleEventLog.Shared}): sequence
 *       numbers are unique and increasing across the whole log and are published in order, so
 *       {@link #lastSeq()} is a watermark: every record at or below it is readable in its lane.
 *   <li>Within a lane, sequence numbers increase with gaps (the other lanes' records).
 *   <li>A cursor merges the lanes by sequence number up to the watermark read when it opens; it
 *       never yields a record out of order.
 *   <li>A request is one group in one lane: all or nothing, as before. A request that mixes
 *       streams of several classes goes to the highest of their lanes (nothing is demoted).
 * </ul>
 */
public final class LanedEventLog implements LanedLog {
    private final Map<Lane, ChronicleEventLog> lanes = new EnumMap<>(Lane.class);
    private final ChronicleEventLog.Shared shared = new ChronicleEventLog.Shared();

    private LanedEventLog(LogOptions options, HybridClock clock) {
        try {
            for (Lane lane : Lane.values()) {
                LogOptions lo = new LogOptions(
                        options.directory().resolve(lane.id()),
                        options.quarantineDirectory().resolve(lane.id()),
                        options.durability(),
                        options.rollCycle(),
                        options.fsyncDelayMicros(),
                        options.compress(),
                        options.blockBytes());
                lanes.put(lane, ChronicleEventLog.openLane(lo, clock, shared));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Opens (creating if needed) every lane under {@code options.directory()}. */
    public static LanedEventLog open(LogOptions options, HybridClock clock) {
        return new LanedEventLog(options, clock);
    }

    /** One lane's own log (for retention and sync, which work lane by lane). */
    @Override
    public ChronicleEventLog lane(Lane lane) {
        return lanes.get(lane);
    }

    @Override
    public AppendResult append(List<EventDraft> drafts) {
        return append(Lane.NORMAL, drafts);
    }

    @Override
    public AppendResult append(Lane lane, List<EventDraft> drafts) {
        return lanes.get(lane).append(drafts, null);
    }

    @Override
    public AppendResult append(Lane lane, List<EventDraft> drafts, java.util.concurrent.Executor acks) {
        return lanes.get(lane).append(drafts, acks);
    }

    @Override
    public long lastSeq() {
        return shared.lastSeq;
    }

    @Override
    public long firstSeq() {
        long first = Long.MAX_VALUE;
        for (ChronicleEventLog l : lanes.values()) {
            if (l.lastSeq() >= l.firstSeq()) {
                first = Math.min(first, l.firstSeq());
            }
        }
        return first == Long.MAX_VALUE ? lastSeq() + 1 : first;
    }

    @Override
    public EventCursor cursorFromSeq(long fromSeq) {
        long bound = shared.lastSeq; // read first: everything at or below it is already in its lane
        List<EventCursor> cs = new ArrayList<>(lanes.size());
        for (ChronicleEventLog l : lanes.values()) {
            if (l.lastSeq() >= Math.max(fromSeq, l.firstSeq())) {
                cs.add(l.cursorFromSeq(fromSeq));
            }
        }
        return cs.size() == 1 ? new Bounded(cs.getFirst(), bound) : new Merged(cs, bound);
    }

    /** Every lane's follower, merged by seq (a lane empty now may be written later: each is followed). */
    @Override
    public EventFollower follow(long fromSeq) {
        List<LogFollower> fs = new ArrayList<>(lanes.size());
        for (ChronicleEventLog l : lanes.values()) {
            fs.add(l.follow(fromSeq));
        }
        LogFollower[] all = fs.toArray(LogFollower[]::new);
        return new EventFollower() {
            @Override
            public boolean next(RecordView view, long toSeq) {
                int best = -1;
                RecordView bestHead = null;
                for (int i = 0; i < all.length; i++) {
                    RecordView h = all[i].peek(toSeq);
                    if (h != null && (bestHead == null || h.seq < bestHead.seq)) {
                        best = i;
                        bestHead = h;
                    }
                }
                if (best < 0) {
                    return false;
                }
                view.copyFrom(bestHead);
                all[best].take();
                return true;
            }

            @Override
            public void close() {
                for (LogFollower f : all) {
                    f.close();
                }
            }
        };
    }

    @Override
    public long seqAtOrAfterTime(long hlc) {
        long best = lastSeq() + 1;
        for (ChronicleEventLog l : lanes.values()) {
            long s = l.seqAtOrAfterTime(hlc);
            if (s <= l.lastSeq()) {
                best = Math.min(best, s);
            }
        }
        return best;
    }

    @Override
    public LogCounters counters() {
        return shared.counters;
    }

    /** Called after every append in any lane with how much the files grew, under the append lock. */
    public void onBytesWritten(LongConsumer listener) {
        lanes.values().forEach(l -> l.onBytesWritten(listener));
    }

    /** The governor's pressure hint for choosing the hot-log codec. */
    public void pressure(Pressure p) {
        lanes.values().forEach(l -> l.pressure(p));
    }

    /** Records torn cycles in every cycle of every lane ({@link ChronicleEventLog#recordTears}); returns how many. */
    public int recordTears() {
        int n = 0;
        for (ChronicleEventLog l : lanes.values()) {
            n += l.recordTears();
        }
        return n;
    }

    /** A group quarantined on open: its lane, log index and the file it was copied to. */
    public record Quarantined(Lane lane, long index, Path file) {}

    /** Every quarantined group of every lane (this and earlier runs). */
    public List<Quarantined> quarantined() {
        List<Quarantined> out = new ArrayList<>();
        for (Map.Entry<Lane, ChronicleEventLog> e : lanes.entrySet()) {
            for (long index : e.getValue().quarantinedGroups()) {
                out.add(new Quarantined(e.getKey(), index, e.getValue().quarantineFile(index)));
            }
        }
        return out;
    }

    /** As {@link EventLog#summary()}, then each lane's range: "..., by lane: normal 1..3; empty: critical, high, bulk". */
    @Override
    public String summary() {
        String all = LanedLog.super.summary();
        if (lastSeq() == 0 || firstSeq() > lastSeq()) {
            return all;
        }
        List<String> held = new ArrayList<>();
        List<String> empty = new ArrayList<>();
        for (Map.Entry<Lane, ChronicleEventLog> e : lanes.entrySet()) {
            ChronicleEventLog l = e.getValue();
            if (l.lastSeq() > 0 && l.lastSeq() >= l.firstSeq()) {
                held.add(e.getKey().id() + " " + l.firstSeq() + ".." + l.lastSeq());
            } else {
                empty.add(e.getKey().id());
            }
        }
        return all + ", by lane: " + String.join("; ", held)
                + (empty.isEmpty() ? "" : "; empty: " + String.join(", ", empty));
    }

    /** Closes every lane; says nothing itself: the agent logs {@link #summary()} once when it stops. */
    @Override
    public void close() {
        for (ChronicleEventLog l : lanes.values()) {
            l.close();
        }
    }

    /** One lane's cursor, cut at the watermark. */
    private static final class Bounded implements EventCursor {
        private final EventCursor c;
        private final long bound;

        Bounded(EventCursor c, long bound) {
            this.c = c;
            this.bound = bound;
        }

        @Override
        public boolean next(RecordView view) {
            return c.next(view) && view.seq <= bound;
        }

        @Override
        public void close() {
            c.close();
        }
    }

    /**
     * Merges lane cursors by sequence number. Each lane keeps its own view as its head; the chosen
     * head is copied (shallowly: it points into that lane's buffer, which stays put until the next
     * call moves that lane on).
     */
    private static final class Merged implements EventCursor {
        private final EventCursor[] cursors;
        private final RecordView[] heads;
        private final boolean[] live;
        private final long bound;
        private int taken = -1;
        private boolean started;

        Merged(List<EventCursor> cs, long bound) {
            this.cursors = cs.toArray(EventCursor[]::new);
            this.heads = new RecordView[cursors.length];
            this.live = new boolean[cursors.length];
            this.bound = bound;
            for (int i = 0; i < heads.length; i++) {
                heads[i] = new RecordView();
            }
        }

        @Override
        public boolean next(RecordView view) {
            if (!started) {
                started = true;
                for (int i = 0; i < cursors.length; i++) {
                    advance(i);
                }
            } else if (taken >= 0) {
                advance(taken);
            }
            int best = -1;
            for (int i = 0; i < cursors.length; i++) {
                if (live[i] && (best < 0 || heads[i].seq < heads[best].seq)) {
                    best = i;
                }
            }
            taken = best;
            if (best < 0) {
                return false;
            }
            view.copyFrom(heads[best]);
            return true;
        }

        private void advance(int i) {
            live[i] = cursors[i].next(heads[i]) && heads[i].seq <= bound;
        }

        @Override
        public void close() {
            for (EventCursor c : cursors) {
                c.close();
            }
        }
    }
}

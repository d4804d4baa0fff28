package dev.outpost.edge.live;

import dev.outpost.store.EventCursor;
import dev.outpost.store.EventFollower;
import dev.outpost.store.EventLog;
import dev.outpost.store.RecordView;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A run of stored events read from the log once and offered to every subscriber it concerns: the unit of the live
 * feed's work.
 *
 * <p>Design note. The feed reads each event once however many subscribers it has, copies its payload here (the
 * cursor's view is only valid until its next record), and each transport frames the round once ({@link #framed}):
 * subscribers that take the same events share the framed bytes. Invariants: seqs strictly increase; at most {@code
 * recordsMax} records and, but for a single larger record, {@code bytesMax} payload bytes; never beyond {@code
 * toSeq}, so nothing not yet acknowledged is read.
 */
public final class Round {
    /** Records a round has room for before it grows (most rounds at the head hold a request's worth or less). */
    private static final int RECORDS_INITIAL = 64;

    private final int recordsMax;
    private long[] seqs;
    private long[] hlcs;
    private String[] streams;
    private int[] ends;
    private byte[] payloads;
    private int count;
    private int used;
    private final long from;
    private long lastExamined;
    /** Records above this seq were written by this process, whose writers all check or generate clean JSON. */
    private long cleanAfterSeq = Long.MAX_VALUE;
    /** The framings this round was framed by and their bytes (a transport or two: SSE, WebSocket; a hub's per node). */
    private Framing[] framedBy = new Framing[2];

    private Framing.Framed[] framed = new Framing.Framed[2];
    private int framings;
    /** Per set of streams asked for, the indexes of this round's events of those streams (subscribers share it). */
    private Map<Set<String>, int[]> byStreams;

    private Round(int recordsMax, long from) {
        this.recordsMax = recordsMax;
        int n = Math.min(recordsMax, RECORDS_INITIAL);
        seqs = new long[n];
        hlcs = new long[n];
        streams = new String[n];
        ends = new int[n];
        payloads = new byte[4 * 1024];
        this.from = from;
        lastExamined = from - 1;
    }

    /**
     * Reads the records with seqs in {@code [fromSeq, toSeq]}, up to {@code recordsMax} of them and about {@code
     * bytesMax} payload bytes.
     */
    static Round read(EventLog log, long fromSeq, long toSeq, int recordsMax, int bytesMax) {
        return read(log, fromSeq, toSeq, recordsMax, bytesMax, Long.MAX_VALUE);
    }

    /** As {@link #read(EventLog, long, long, int, int)}; records above {@code cleanAfterSeq} are {@link #clean}. */
    static Round read(EventLog log, long fromSeq, long toSeq, int recordsMax, int bytesMax, long cleanAfterSeq) {
        Round r = new Round(recordsMax, fromSeq);
        r.cleanAfterSeq = cleanAfterSeq;
        if (fromSeq > toSeq) {
            return r;
        }
        RecordView view = new RecordView();
        try (EventCursor cursor = log.cursorFromSeq(fromSeq)) {
            while (r.count < recordsMax && r.used < bytesMax && cursor.next(view) && view.seq() <= toSeq) {
                r.add(view);
            }
        }
        // Nothing past the last record read up to toSeq exists (records lost to a crash leave holes): done with it.
        r.lastExamined = r.count < recordsMax && r.used < bytesMax ? toSeq : r.lastExamined;
        return r;
    }

    /** As {@link #read(EventLog, long, long, int, int, long)}, reading on with {@code follower} (at {@code fromSeq}). */
    static Round follow(
            EventFollower follower, long fromSeq, long toSeq, int recordsMax, int bytesMax, long cleanAfterSeq) {
        Round r = new Round(recordsMax, fromSeq);
        r.cleanAfterSeq = cleanAfterSeq;
        if (fromSeq > toSeq) {
            return r;
        }
        RecordView view = new RecordView();
        while (r.count < recordsMax && r.used < bytesMax && follower.next(view, toSeq)) {
            r.add(view);
        }
        r.lastExamined = r.count < recordsMax && r.used < bytesMax ? toSeq : r.lastExamined;
        return r;
    }

    private void add(RecordView view) {
        if (count == seqs.length) {
            int n = Math.min(recordsMax, count * 2);
            seqs = Arrays.copyOf(seqs, n);
            hlcs = Arrays.copyOf(hlcs, n);
            streams = Arrays.copyOf(streams, n);
            ends = Arrays.copyOf(ends, n);
        }
        int len = view.payloadLength();
        if (used + len > payloads.length) {
            payloads = Arrays.copyOf(payloads, Math.max(payloads.length * 2, used + len));
        }
        System.arraycopy(view.payloadArray(), view.payloadOffset(), payloads, used, len);
        used += len;
        seqs[count] = view.seq();
        hlcs[count] = view.hlc();
        streams[count] = view.stream();
        ends[count] = used;
        lastExamined = view.seq();
        count++;
    }

    /** Records held. */
    public int count() {
        return count;
    }

    /** The lowest seq this round accounts for: the start of the range it read. */
    long firstSeq() {
        return from;
    }

    /** Payload bytes held (what the round costs in memory, framing aside). */
    int payloadBytes() {
        return used;
    }

    /** The highest seq this round accounts for: its last record's, or the end of the range when it read it all. */
    long lastExamined() {
        return lastExamined;
    }

    public long seq(int i) {
        return seqs[i];
    }

    /**
     * Whether record {@code i}'s payload is known to be one line of clean JSON with at least one member — written by
     * this process into its own log (ingest checks every event; the engine and state write what Jackson generated) —
     * so a transport need not check it again (a log's older records, and what a hub's nodes pushed, are checked).
     */
    public boolean clean(int i) {
        return seqs[i] > cleanAfterSeq;
    }

    public long hlc(int i) {
        return hlcs[i];
    }

    public String stream(int i) {
        return streams[i];
    }

    /** The array holding record {@code i}'s payload, from {@link #payloadOffset} for {@link #payloadLength} bytes. */
    public byte[] payloads() {
        return payloads;
    }

    public int payloadOffset(int i) {
        return i == 0 ? 0 : ends[i - 1];
    }

    public int payloadLength(int i) {
        return ends[i] - payloadOffset(i);
    }

    /**
     * The indexes of the events of {@code streams} (null: every event), computed once per distinct set and shared by
     * the subscribers asking for it: with thousands of subscribers of a few streams, each looks only at its events.
     * Feed thread only.
     */
    int[] indexesOf(Set<String> wanted) {
        if (wanted == null) {
            return byStreams().computeIfAbsent(Set.of(), all -> {
                int[] every = new int[count];
                Arrays.setAll(every, i -> i);
                return every;
            });
        }
        return byStreams().computeIfAbsent(wanted, set -> {
            int[] out = new int[count];
            int n = 0;
            for (int i = 0; i < count; i++) {
                if (set.contains(streams[i])) {
                    out[n++] = i;
                }
            }
            return Arrays.copyOf(out, n);
        });
    }

    private Map<Set<String>, int[]> byStreams() {
        if (byStreams == null) {
            byStreams = new HashMap<>();
        }
        return byStreams;
    }

    /**
     * The round framed by {@code framing}, framed once and shared (feed thread only): every framing asked for is kept
     * until {@link #release}, so subscribers of two transports taking turns do not frame the round again and again.
     * Null when the framing has no memory for it now.
     */
    Framing.Framed framed(Framing framing) {
        for (int k = 0; k < framings; k++) {
            if (framedBy[k] == framing) {
                return framed[k];
            }
        }
        if (framings == framedBy.length) {
            framedBy = Arrays.copyOf(framedBy, framings * 2);
            framed = Arrays.copyOf(framed, framings * 2);
        }
        Framing.Framed f = framing.frame(this);
        if (f == null) {
            return null; // no memory to frame it now: asked again later
        }
        framedBy[framings] = framing;
        framed[framings++] = f;
        return f;
    }

    /** Lets go of the framed bytes (subscribers hold their own references to what they were sent). */
    void release() {
        for (int k = 0; k < framings; k++) {
            framed[k].bytes().release();
            framed[k] = null;
            framedBy[k] = null;
        }
        framings = 0;
    }
}

package dev.outpost.edge.ingest;

import dev.outpost.store.AppendResult;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventDraft;
import dev.outpost.store.EventLog;
import dev.outpost.store.Lane;
import dev.outpost.store.RecordView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns validated events into log appends, making retries no-ops.
 *
 * <p>Design note. Two bounded dedup windows, both rebuilt from the log tail on start so they
 * survive kill -9: the last {@code windowEvents} event ids (scoped per stream) and the last {@code
 * windowRequests} Idempotency-Keys with the sequences their request got. Invariants: the dedup
 * check and the append happen under one lock, so two concurrent retries of the same event store it
 * once; a retry within the window returns the original sequences; a retry older than the window is
 * stored again (documented in docs/API.md). A request is stored all or nothing (one log group). Under memory
 * pressure the governor shrinks the windows ({@link #resizeWindows}), keeping their newest entries.
 */
public final class Ingestor {
    private static final Logger LOG = LoggerFactory.getLogger(Ingestor.class);

    /** Longest Idempotency-Key accepted, in characters. */
    public static final int REQUEST_KEY_CHARS_MAX = 128;

    private final EventLog log;
    private final Function<String, Lane> laneOf;
    private BoundedMap<String, Long> eventIds; // guarded by this
    private BoundedMap<String, Seen> requests; // guarded by this

    private record Seen(long[] seqs, CompletableFuture<Void> durable) {}

    public Ingestor(EventLog log, int windowEvents, int windowRequests) {
        this(log, windowEvents, windowRequests, stream -> Lane.NORMAL);
    }

    /**
     * @param laneOf the lane of a stream's events; a request goes whole to the highest lane among
     *     its events' streams, so nothing in it is demoted
     */
    public Ingestor(EventLog log, int windowEvents, int windowRequests, Function<String, Lane> laneOf) {
        this.log = log;
        this.laneOf = laneOf;
        this.eventIds = new BoundedMap<>(windowEvents);
        this.requests = new BoundedMap<>(windowRequests);
        rebuild(Math.max(windowEvents, windowRequests));
    }

    /**
     * Sets how many event ids and request keys the windows remember, keeping the newest (shrinking copies them into
     * fresh maps, so the old tables are freed too). A window configured as 0 (disabled) stays 0 whatever is asked.
     */
    public synchronized void resizeWindows(int events, int requests) {
        if (eventIds.capacity() > 0 && events != eventIds.capacity()) {
            eventIds = eventIds.resized(Math.max(1, events));
        }
        if (this.requests.capacity() > 0 && requests != this.requests.capacity()) {
            this.requests = this.requests.resized(Math.max(1, requests));
        }
    }

    /** How many event ids the window remembers at most now. */
    public synchronized int windowEvents() {
        return eventIds.capacity();
    }

    /** How many request keys the window remembers at most now. */
    public synchronized int windowRequests() {
        return requests.capacity();
    }

    /** Stores {@code events} (all or nothing) unless the request or events were seen before. */
    public IngestResult ingest(List<ParsedEvent> events, String requestKey) {
        return ingest(events, requestKey, null);
    }

    /**
     * As {@link #ingest(List, String)}; the result's {@code durable} completes on {@code acks} when the log
     * acknowledges later (durability fsync; null: on the log's own thread). A replay keeps its original future.
     * Throws what refused the request ({@link InvalidInput}, a {@link dev.outpost.store.StoreException}).
     */
    public IngestResult ingest(List<ParsedEvent> events, String requestKey, java.util.concurrent.Executor acks) {
        Object r = ingestAll(List.of(new Pending(events, requestKey)), acks)[0];
        if (r instanceof RuntimeException e) {
            throw e;
        }
        return (IngestResult) r;
    }

    /** One request of {@link #ingestAll}: its events and its Idempotency-Key (or null). */
    public record Pending(List<ParsedEvent> events, String requestKey) {}

    /**
     * Stores several requests in as few log groups as it can, each request all or nothing and with the outcome it
     * would get alone: consecutive requests to the same lane share one group, and a request with an Idempotency-Key
     * or event ids waits until the requests before it that have them are stored, so it finds the dedup windows as it
     * would one request at a time. Returns, per request in order, its {@link IngestResult} or the RuntimeException that refused it (a
     * failed append refuses every request of its group). Results complete on {@code acks} as for {@link
     * #ingest(List, String, java.util.concurrent.Executor)}.
     */
    public Object[] ingestAll(List<Pending> pending, java.util.concurrent.Executor acks) {
        Object[] out = new Object[pending.size()];
        synchronized (this) {
            int events = 0;
            for (Pending p : pending) {
                events += p.events().size();
            }
            Group group = new Group(acks, out, events);
            for (int i = 0; i < pending.size(); i++) {
                Pending p = pending.get(i);
                try {
                    checkKey(p.requestKey());
                    if (group.changesWhat(p)) {
                        group.append(); // stored first, so this request finds the windows as it would alone
                    }
                    IngestResult replay = replay(p.requestKey(), p.events().size());
                    if (replay != null) {
                        out[i] = replay;
                        continue;
                    }
                    group.add(i, p, plan(p.events(), p.requestKey()));
                } catch (InvalidInput e) {
                    out[i] = e;
                }
            }
            group.append();
        }
        return out;
    }

    /** Whether a request has an Idempotency-Key or event ids: the dedup windows then matter to it. */
    private static boolean usesWindows(Pending p) {
        if (p.requestKey() != null) {
            return true;
        }
        for (ParsedEvent e : p.events()) {
            if (e.id() != null) {
                return true;
            }
        }
        return false;
    }

    /** After the append: the request's sequences resolved, its event ids and key remembered; its result. */
    private IngestResult remember(Plan plan, Pending p, CompletableFuture<Void> durable) {
        plan.resolveRepeats();
        List<ParsedEvent> events = p.events();
        for (int i = 0; i < events.size(); i++) {
            ParsedEvent e = events.get(i);
            if (e.id() != null && plan.draftOfLine[i] >= 0) {
                eventIds.put(e.stream() + '\u0000' + e.id(), plan.seqs[i]);
            }
        }
        if (p.requestKey() != null) {
            requests.put(p.requestKey(), new Seen(plan.seqs.clone(), durable));
        }
        return new IngestResult(plan.seqs, plan.drafts.size(), false, durable);
    }

    /**
     * Requests of one {@link #ingestAll} call waiting to be appended as one group: all to one lane; none looks up the
     * dedup windows after one that will change them. Under the ingestor's lock.
     */
    private final class Group {
        private final java.util.concurrent.Executor acks;
        private final Object[] out;
        // Sized for the call's requests up front: one group per call is the usual case, and growing from empty
        // was a tenth of what a single-event request allocated.
        private final List<Integer> indexes;
        private final List<Pending> requests;
        private final List<Plan> plans;
        private final List<EventDraft> drafts;
        /** A request held here has a key or event ids: the windows change when it is stored. */
        private boolean remembers;

        private Lane lane;

        Group(java.util.concurrent.Executor acks, Object[] out, int events) {
            this.acks = acks;
            this.out = out;
            this.indexes = new ArrayList<>(out.length);
            this.requests = new ArrayList<>(out.length);
            this.plans = new ArrayList<>(out.length);
            this.drafts = new ArrayList<>(events);
        }

        /**
         * Whether {@code p} must wait until what is held is stored: it looks up the windows (it has an
         * Idempotency-Key or event ids) and requests held here will change them (adding their keys and ids, and
         * evicting the oldest), so it would not see what it would see one request at a time.
         */
        boolean changesWhat(Pending p) {
            return remembers && usesWindows(p);
        }

        /** Holds a planned request; one that stores nothing (all repeats) keeps its place without a lane. */
        void add(int index, Pending p, Plan plan) {
            if (!plan.drafts.isEmpty()) {
                Lane l = laneOf(plan.drafts);
                if (lane != null && l != lane) {
                    append(); // a group is one lane's; requests keep their order across lanes
                }
                lane = l;
            }
            indexes.add(index);
            requests.add(p);
            plans.add(plan);
            drafts.addAll(drafts(plan, p.requestKey(), p.events().size()));
            remembers |= usesWindows(p);
        }

        /**
         * Appends what is held as one group and fills in each request's result, remembering keys and ids in request
         * order (the windows forget the oldest first, as they would one request at a time); then holds nothing.
         */
        void append() {
            AppendResult r = null;
            RuntimeException failed = null;
            if (!drafts.isEmpty()) {
                try {
                    r = log.append(lane, drafts, acks);
                } catch (RuntimeException e) {
                    failed = e; // the group was not stored: none of its requests
                }
            }
            long first = r == null ? 0 : r.firstSeq();
            for (int k = 0; k < plans.size(); k++) {
                Plan plan = plans.get(k);
                int index = indexes.get(k);
                if (plan.drafts.isEmpty()) {
                    out[index] = remember(plan, requests.get(k), CompletableFuture.completedFuture(null));
                } else if (failed != null) {
                    out[index] = failed;
                } else {
                    for (int i = 0; i < plan.seqs.length; i++) {
                        if (plan.draftOfLine[i] >= 0) {
                            plan.seqs[i] = first + plan.draftOfLine[i];
                        }
                    }
                    first += plan.drafts.size();
                    out[index] = remember(plan, requests.get(k), r.durable());
                }
            }
            indexes.clear();
            requests.clear();
            plans.clear();
            drafts.clear();
            remembers = false;
            lane = null;
        }
    }

    private static void checkKey(String requestKey) {
        if (requestKey != null && (requestKey.isEmpty() || requestKey.length() > REQUEST_KEY_CHARS_MAX)) {
            throw new InvalidInput(
                    IngestOutcome.Fault.BAD_IDEMPOTENCY_KEY,
                    "Idempotency-Key must be 1-" + REQUEST_KEY_CHARS_MAX + " characters",
                    0,
                    "Idempotency-Key");
        }
    }

    /** The original answer if {@code requestKey} was seen (a request of another size is refused); else null. */
    private IngestResult replay(String requestKey, int n) {
        Seen seen = requestKey == null ? null : requests.get(requestKey);
        if (seen == null) {
            return null;
        }
        if (seen.seqs.length != n) {
            throw new InvalidInput(
                    IngestOutcome.Fault.IDEMPOTENCY_KEY_REUSED,
                    "Idempotency-Key '" + requestKey + "' was used for a request of " + seen.seqs.length
                            + " events; this one has " + n,
                    0,
                    "Idempotency-Key");
        }
        return new IngestResult(seen.seqs.clone(), 0, true, seen.durable);
    }

    /**
     * What one request stores: a draft per new event. For line i, {@code draftOfLine[i]} is its draft's index (>= 0),
     * -1 if it repeats an event stored earlier (its sequence is then known), or -2 - j if it repeats line j of this
     * request (resolved after the append). {@code dups} pairs (line, sequence) for the log's record of repeats: a
     * repeat within the request is recorded relative to its first stored sequence, as -(draft index + 1).
     */
    private static final class Plan {
        final long[] seqs;
        final int[] draftOfLine;
        final List<EventDraft> drafts;
        List<long[]> dups;

        Plan(int n) {
            seqs = new long[n];
            draftOfLine = new int[n];
            drafts = new ArrayList<>(n);
        }

        void resolveRepeats() {
            for (int i = 0; i < seqs.length; i++) {
                if (draftOfLine[i] <= -2) {
                    seqs[i] = seqs[-2 - draftOfLine[i]];
                }
            }
        }
    }

    private Plan plan(List<ParsedEvent> events, String requestKey) {
        int n = events.size();
        Plan plan = new Plan(n);
        Map<String, Integer> batchIds = null;
        for (int i = 0; i < n; i++) {
            ParsedEvent e = events.get(i);
            plan.draftOfLine[i] = -1;
            if (e.id() != null && eventIds.capacity() > 0) {
                String k = e.stream() + '\u0000' + e.id();
                Long orig = eventIds.get(k);
                if (orig != null) {
                    plan.seqs[i] = orig;
                    plan.dups = addDup(plan.dups, i, orig);
                    continue;
                }
                if (batchIds == null) {
                    batchIds = new HashMap<>();
                }
                Integer earlier = batchIds.putIfAbsent(k, i);
                if (earlier != null) {
                    plan.draftOfLine[i] = -2 - earlier;
                    plan.dups = addDup(plan.dups, i, -(plan.draftOfLine[earlier] + 1L));
                    continue;
                }
            }
            plan.draftOfLine[i] = plan.drafts.size();
            plan.drafts.add(
                    new EventDraft(e.stream(), e.id(), requestKey, i, n, null, e.json(), e.offset(), e.length()));
        }
        return plan;
    }

    /**
     * The plan's drafts as they go to the log: when the request has an Idempotency-Key and repeats, its first draft
     * carries the record of repeats (for the window's rebuild after a restart).
     */
    private static List<EventDraft> drafts(Plan plan, String requestKey, int n) {
        List<EventDraft> drafts = plan.drafts;
        if (requestKey == null || plan.dups == null || drafts.isEmpty()) {
            return drafts;
        }
        List<EventDraft> out = new ArrayList<>(drafts);
        EventDraft d0 = drafts.getFirst();
        out.set(
                0,
                new EventDraft(
                        d0.stream(),
                        d0.eventId(),
                        requestKey,
                        d0.lineIndex(),
                        n,
                        flatten(plan.dups),
                        d0.payload(),
                        d0.payloadOffset(),
                        d0.payloadLength()));
        return out;
    }

    /** The highest lane among the drafts' streams: a request goes whole to it, so nothing in it is demoted. */
    private Lane laneOf(List<EventDraft> drafts) {
        Lane lane = Lane.BULK;
        for (EventDraft d : drafts) {
            Lane l = laneOf.apply(d.stream());
            if (l.ordinal() < lane.ordinal()) {
                lane = l;
            }
        }
        return lane;
    }

    private static List<long[]> addDup(List<long[]> dups, int line, long seq) {
        if (dups == null) {
            dups = new ArrayList<>();
        }
        dups.add(new long[] {line, seq});
        return dups;
    }

    private static long[] flatten(List<long[]> dups) {
        long[] out = new long[dups.size() * 2];
        for (int i = 0; i < dups.size(); i++) {
            out[2 * i] = dups.get(i)[0];
            out[2 * i + 1] = dups.get(i)[1];
        }
        return out;
    }

    /** Reads the last {@code records} records of the log to refill the windows (bounded). */
    private void rebuild(int records) {
        if (records == 0 || log.lastSeq() == 0) {
            return;
        }
        long from = Math.max(log.firstSeq(), log.lastSeq() - records + 1);
        Map<String, long[]> partial = new LinkedHashMap<>();
        int seen = 0;
        try (EventCursor c = log.cursorFromSeq(from)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                seen++;
                String id = v.eventId();
                if (id != null) {
                    eventIds.put(v.stream() + '\u0000' + id, v.seq());
                }
                String key = v.requestKey();
                if (key != null) {
                    long[] seqs = partial.computeIfAbsent(key, k -> new long[v.lineCount()]);
                    if (v.lineIndex() < seqs.length) {
                        seqs[v.lineIndex()] = v.seq();
                    }
                    long[] d = v.duplicates();
                    for (int i = 0; i + 1 < d.length; i += 2) {
                        if (d[i] < seqs.length) {
                            // Negative: a repeat within the request, relative to this (its first) record.
                            seqs[(int) d[i]] = d[i + 1] >= 0 ? d[i + 1] : v.seq() + (-d[i + 1] - 1);
                        }
                    }
                }
            }
        }
        CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
        partial.forEach((k, seqs) -> requests.put(k, new Seen(seqs, done)));
        LOG.info(
                "dedup windows rebuilt from the last {} records: {} event ids, {} request keys",
                seen,
                eventIds.size(),
                requests.size());
    }

    /** Insertion-ordered map that forgets its oldest entry beyond {@code capacity}. Not thread-safe. */
    static final class BoundedMap<K, V> extends LinkedHashMap<K, V> {
        private final int capacity;

        BoundedMap(int capacity) {
            super(16, 0.75f, false);
            this.capacity = capacity;
        }

        int capacity() {
            return capacity;
        }

        /** A copy that remembers at most {@code capacity} entries: the newest of these, in the same order. */
        BoundedMap<K, V> resized(int capacity) {
            BoundedMap<K, V> copy = new BoundedMap<>(capacity);
            int skip = size() - capacity;
            for (Map.Entry<K, V> e : entrySet()) {
                if (skip-- <= 0) {
                    copy.put(e.getKey(), e.getValue());
                }
            }
            return copy;
        }

        @Override
        public V put(K key, V value) {
            return capacity == 0 ? null : super.put(key, value);
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > capacity;
        }
    }
}

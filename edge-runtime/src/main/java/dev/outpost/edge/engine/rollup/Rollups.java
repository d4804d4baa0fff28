package dev.outpost.edge.engine.rollup;

import dev.outpost.edge.engine.PathValues;
import dev.outpost.store.EventDraft;
import dev.outpost.store.json.JsonTree;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The rollups of one agent, kept in one SQLite file ({@link RollupDatabase}).
 *
 * <p>Design note. The engine feeds every event of the log, of every stream, in increasing sequence order
 * ({@link #apply}); each rollup folds the events of its stream into per-(window, group) {@link WindowSummary}s
 * in memory, and {@link #flush} writes the changed ones in one transaction together with each rollup's
 * {@code covered_seq} (the highest sequence number applied), watermark and counters. Invariants:
 *
 * <ul>
 *   <li>Exactly once. On disk, a rollup's rows hold exactly the events of its stream with {@code seq <=
 *       covered_seq} (minus the late ones, which are counted). {@link #apply} ignores an event whose seq is
 *       at or below the rollup's {@code covered_seq}, or at or below the last seq this instance was fed. So
 *       after a crash (kill -9: everything since the last flush is lost) the engine reads the log again from
 *       {@link #lowestCoveredSeq()} + 1 and each rollup takes exactly the events it is missing.
 *   <li>Every seq counts for every rollup: a rollup's {@code covered_seq} advances past events of other
 *       streams too, so the engine must feed them all (it may skip the apply when {@link #specs} is empty).
 *   <li>Bounded memory: at most {@link Limits#groupsMax} summaries are in memory. Before an event could pass
 *       it, the rollups flush and drop all written summaries; a window's dropped rows are read back one by one
 *       when its groups see events again. Summaries of closed windows are dropped at every flush (they can
 *       no longer change).
 *   <li>Final windows (end + allowed lateness passed on the watermark) never change; {@link #emitFinal} emits each
 *       once as an event for the hub, marking it only after the log made the event durable ({@link FinalWindows}).
 *   <li>Queries and {@link #status} read what the last flush wrote, on their own connections, from any
 *       thread. {@link #define}, {@link #apply} and {@link #flush} are for the engine thread (they
 *       synchronize, so a definition over HTTP may call {@link #define} too).
 * </ul>
 *
 * <p>A new rollup, or one whose stream, window, group-by or aggregates changed, starts with {@code
 * covered_seq} 0: {@link #lowestCoveredSeq()} drops, the engine reads the log from the start again, and the
 * rollup backfills while the others ignore what they have; {@link #status} shows its progress.
 */
public final class Rollups implements AutoCloseable {
    /** Most rows in one query page. */
    public static final int QUERY_LIMIT_MAX = WindowQuery.LIMIT_MAX;

    /** A rollup as queries see it: published by {@link #define}, read from any thread. */
    private record Defined(long id, RollupSpec spec) {}

    private final RollupDatabase db;
    private final LongSupplier clockMillis;
    private final Limits limits;
    private final FinalWindows emitter;

    private final Map<String, Rollup> byName = new LinkedHashMap<>();
    private Map<String, List<Rollup>> byStream = Map.of();
    private Map<String, EventFields> readers = Map.of();
    private int inMemory;
    private long lastSeq;
    private long readShared;
    private volatile Map<String, Defined> defined = Map.of();

    private Rollups(RollupDatabase db, LongSupplier clockMillis, Limits limits) {
        this.db = db;
        this.clockMillis = clockMillis;
        this.limits = limits;
        this.emitter = new FinalWindows(db);
    }

    /** Opens (creating or migrating) the rollups file and loads the rollups defined in it. */
    public static Rollups open(Path sqliteFile, LongSupplier clockMillis, Limits limits) {
        Rollups r = new Rollups(RollupDatabase.open(sqliteFile), clockMillis, limits);
        try {
            r.load();
        } catch (RuntimeException e) {
            r.db.close();
            throw e;
        }
        return r;
    }

    private void load() {
        db.write(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT id, name, spec, covered_seq, watermark_millis,"
                            + " backfill_until_seq, events, late_events, skipped_values, defined_at_millis"
                            + " FROM rollups ORDER BY name");
                    ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(2);
                    byte[] json = rs.getString(3).getBytes(StandardCharsets.UTF_8);
                    RollupSpec spec = RollupSpec.parse(name, JsonTree.parseStored(json, 0, json.length));
                    Rollup r = new Rollup(
                            rs.getLong(1), spec, rs.getLong(4), rs.getLong(5), rs.getLong(6), rs.getLong(10));
                    r.events = rs.getLong(7);
                    r.lateEvents = rs.getLong(8);
                    r.skippedValues = rs.getLong(9);
                    byName.put(name, r);
                }
            }
            return null;
        });
        for (Rollup r : byName.values()) {
            // Open windows may have rows on disk: read them back when their groups see events.
            r.spilled.addAll(db.windowStarts(r.id, r.openFrom()));
        }
        rebuild();
    }

    /** Rebuilds the per-stream readers and the published definitions after a change of the set. */
    private void rebuild() {
        Map<String, List<Rollup>> streams = new HashMap<>();
        Map<String, Defined> published = new LinkedHashMap<>();
        for (Rollup r : byName.values()) {
            streams.computeIfAbsent(r.spec.stream(), s -> new ArrayList<>()).add(r);
            published.put(r.spec.name(), new Defined(r.id, r.spec));
        }
        Map<String, EventFields> fields = new HashMap<>();
        for (Map.Entry<String, List<Rollup>> e : streams.entrySet()) {
            List<String> all = new ArrayList<>();
            e.getValue().forEach(r -> all.addAll(r.fields()));
            EventFields f = new EventFields(all);
            e.getValue().forEach(r -> r.bind(f));
            fields.put(e.getKey(), f);
        }
        byStream = streams;
        readers = fields;
        inMemory = byName.values().stream().mapToInt(r -> r.windows.size()).sum();
        defined = published;
    }

    /**
     * Replaces the set of rollups, all or nothing, as {@link #define(Collection, long)} with the highest
     * sequence number this instance knows as the log's last.
     */
    public synchronized void define(Collection<RollupSpec> specs) {
        long known = lastSeq;
        for (Rollup r : byName.values()) {
            known = Math.max(known, r.coveredSeq);
        }
        define(specs, known);
    }

    /**
     * Replaces the set of rollups, all or nothing. A new rollup starts with {@code covered_seq} 0 and
     * backfills up to {@code logLastSeq}; a removed one's rows are deleted; one whose stream, window,
     * group-by or aggregates changed starts again like a new one; one whose allowed lateness changed keeps its
     * rows. Pending work is flushed first.
     *
     * @throws RollupRefusal if two specs share a name or there are more than {@link Limits#rollupsMax}
     */
    public synchronized void define(Collection<RollupSpec> specs, long logLastSeq) {
        Map<String, RollupSpec> next = new LinkedHashMap<>();
        for (RollupSpec s : specs) {
            if (next.put(s.name(), s) != null) {
                throw new RollupRefusal(s.name(), null, "two rollups have this name");
            }
        }
        if (next.size() > limits.rollupsMax()) {
            throw new RollupRefusal(
                    specs.iterator().next().name(),
                    null,
                    "at most " + limits.rollupsMax() + " rollups may be defined, not " + next.size());
        }
        flush();
        long now = clockMillis.getAsLong();
        Map<String, Rollup> replaced = db.transaction(c -> new Definitions(c, byName, now, logLastSeq).apply(next));
        byName.clear();
        byName.putAll(replaced);
        rebuild();
        // The engine now reads from lowestCoveredSeq() + 1: let those seqs in again.
        lastSeq = Math.min(lastSeq, lowestCoveredSeq());
    }

    /**
     * Per stream, the field paths its rollups read (as tokens, in their reader's slot order): what an evaluator may read
     * for them in its own pass ({@link dev.outpost.edge.engine.Evaluator#alsoRead(Map)}). Replaced, not changed, when the
     * set of rollups changes, so a list's identity names one reader.
     */
    public synchronized Map<String, List<List<String>>> paths() {
        Map<String, List<List<String>>> out = new HashMap<>();
        readers.forEach((stream, f) -> out.put(stream, f.paths()));
        return out;
    }

    /** Whether any rollup is defined (asked by the engine on every wake: no list built). */
    public boolean anyDefined() {
        return !defined.isEmpty();
    }

    /** The rollups defined, in name order. */
    public List<RollupSpec> specs() {
        return defined.values().stream().map(Defined::spec).toList();
    }

    /**
     * The lowest {@code covered_seq} (on disk: as of the last flush) of the rollups of {@code stream}, or {@link
     * Long#MAX_VALUE} if no rollup reads it (retention asks before it deletes a log cycle).
     */
    public synchronized long coveredSeq(String stream) {
        List<Rollup> rollups = byStream.get(stream);
        if (rollups == null) {
            return Long.MAX_VALUE;
        }
        long lowest = Long.MAX_VALUE;
        for (Rollup r : rollups) {
            lowest = Math.min(lowest, r.coveredSeq);
        }
        return lowest;
    }

    /** The lowest {@code covered_seq} over all rollups; with none, the last seq this instance was fed. */
    public synchronized long lowestCoveredSeq() {
        long lowest = Long.MAX_VALUE;
        for (Rollup r : byName.values()) {
            lowest = Math.min(lowest, r.coveredSeq);
        }
        return lowest == Long.MAX_VALUE ? lastSeq : lowest;
    }

    /**
     * Folds one event into every rollup of its stream that does not cover {@code seq} yet. {@code json[off,
     * off+len)} is the stored event (one line of UTF-8 JSON); its time is {@code ts} when present, else
     * {@code ingestMillis}. Never throws for a bad event: a missing or non-numeric value is skipped for its
     * field and counted; an event that does not parse counts with every field missing. Throws {@code
     * StoreException} only when the disk fails (a flush forced by {@link Limits#groupsMax}, or reading back a
     * window); the event is then not applied, or applied to some rollups only, and feeding it again applies
     * it to the others.
     */
    public synchronized void apply(long seq, long ingestMillis, String stream, byte[] json, int off, int len) {
        apply(seq, ingestMillis, stream, json, off, len, null);
    }

    /**
     * {@link #apply(long, long, String, byte[], int, int)} with the event's fields already read by another pass ({@code
     * read}: the values of {@link #paths()}'s list for this stream), or null to read them here.
     */
    public synchronized void apply(
            long seq, long ingestMillis, String stream, byte[] json, int off, int len, PathValues read) {
        if (seq <= lastSeq) {
            return; // fed already (engine restarted its read without a crash)
        }
        List<Rollup> rollups = byStream.get(stream);
        if (rollups != null && wants(rollups, seq)) {
            if (inMemory + rollups.size() > limits.groupsMax()) {
                flush();
                evict();
            }
            EventFields f = readers.get(stream);
            if (f.adopt(read)) {
                readShared++;
            } else {
                f.read(json, off, len);
            }
            for (Rollup r : rollups) {
                if (seq > r.appliedSeq) {
                    inMemory += r.fold(ingestMillis, f, this::load);
                    r.appliedSeq = seq; // if a later rollup's read from disk throws, a retry skips this one
                }
            }
        }
        lastSeq = seq;
    }

    private static boolean wants(List<Rollup> rollups, long seq) {
        for (Rollup r : rollups) {
            if (seq > r.appliedSeq) {
                return true;
            }
        }
        return false;
    }

    private WindowSummary load(Rollup r, GroupKey key) {
        byte[] stored = db.summary(r.id, key.windowStart(), key.json());
        return stored == null ? null : WindowSummary.decode(stored);
    }

    /** Drops every written summary (called right after a flush, when all are written). */
    private void evict() {
        for (Rollup r : byName.values()) {
            inMemory -= r.dropWritten();
        }
    }

    /**
     * Writes what {@link #apply} accumulated, in one transaction with each rollup's new {@code covered_seq}
     * (the highest seq fed), watermark and counters, and deletes the rows of windows that ended more than
     * their rollup's retention before its watermark. If it throws, nothing was written and the work stays in
     * memory for the next flush.
     */
    public synchronized void flush() {
        List<Rollup.Write> rows = new ArrayList<>();
        for (Rollup r : byName.values()) {
            rows.addAll(r.dirtyRows());
        }
        if (rows.isEmpty() && byName.values().stream().allMatch(r -> r.coveredAfterFlush(lastSeq) == r.coveredSeq)) {
            return; // nothing applied since the last flush
        }
        long now = clockMillis.getAsLong();
        db.transaction(c -> {
            RollupRows.write(c, rows);
            for (Rollup r : byName.values()) {
                RollupRows.position(c, r, r.coveredAfterFlush(lastSeq), now);
                RollupRows.prune(c, r);
            }
            return null;
        });
        for (Rollup r : byName.values()) {
            r.coveredSeq = r.coveredAfterFlush(lastSeq);
            r.written();
            inMemory -= r.dropClosed();
        }
    }

    /**
     * A rollup's progress as of its last flush.
     *
     * @throws RollupRefusal of kind NOT_FOUND if no rollup has that name
     */
    public Status status(String name, long logLastSeq) {
        Defined d = find(name);
        return db.read(c -> RollupRows.status(c, d.id(), d.spec(), logLastSeq));
    }

    /**
     * One page of a rollup's windows, as of its last flush: windows starting in {@code [fromMillis,
     * toMillis)}, only groups whose group-by fields equal {@code filters} (field as declared to value), in
     * (window start, group) order, at most {@code limit} rows, after {@code cursor} (null for the first page).
     *
     * @throws RollupRefusal naming the parameter at fault, or of kind NOT_FOUND
     */
    public Page query(
            String name, long fromMillis, long toMillis, Map<String, String> filters, int limit, String cursor) {
        return page(name, fromMillis, toMillis, filters, limit, cursor, false);
    }

    /** {@link #query} with each row's mergeable summary (for sync to the hub). */
    public Page querySummaries(
            String name, long fromMillis, long toMillis, Map<String, String> filters, int limit, String cursor) {
        return page(name, fromMillis, toMillis, filters, limit, cursor, true);
    }

    private Page page(
            String name,
            long from,
            long to,
            Map<String, String> filters,
            int limit,
            String cursor,
            boolean withSummaries) {
        Defined d = find(name);
        WindowQuery q = new WindowQuery(name, d.spec(), d.id());
        WindowQuery.Params params = q.params(from, to, filters, limit, cursor);
        return db.read(c -> q.page(c, params, withSummaries));
    }

    private Defined find(String name) {
        Defined d = defined.get(name);
        if (d == null) {
            throw new RollupRefusal(RollupRefusal.Kind.NOT_FOUND, name, null, "no rollup has this name");
        }
        return d;
    }

    /**
     * Emits the final windows not emitted yet as events of {@link FinalWindow#STREAM} ({@link FinalWindows}), batch by
     * batch for at most {@code budgetNanos}; the rest waits for the next call. {@code appendDurably} appends a batch
     * and returns once it is durable (or throws: then nothing of that batch is marked). Engine thread.
     *
     * @return windows emitted
     */
    public int emitFinal(Consumer<List<EventDraft>> appendDurably, long budgetNanos) {
        long deadline = System.nanoTime() + budgetNanos;
        return emitter.emit(
                targets(),
                appendDurably,
                mark -> {
                    synchronized (this) {
                        mark.run();
                    }
                },
                deadline);
    }

    /** Final windows emitted (durable in the log and marked) since start. */
    public long finalEmitted() {
        return emitter.emittedTotal();
    }

    /** Final windows not emitted yet, as of the last flush. */
    public long finalBacklog() {
        return emitter.backlog(targets());
    }

    private List<FinalWindows.Target> targets() {
        return defined.values().stream()
                .map(d -> new FinalWindows.Target(d.id(), d.spec()))
                .toList();
    }

    /** What the rollups file takes on disk, WAL included (for the disk budget). */
    public long diskBytes() {
        return db.diskBytes();
    }

    /** Events whose fields the rollups took from the rules' pass instead of reading them again (metrics, tests). */
    public synchronized long eventsReadShared() {
        return readShared;
    }

    /** Summaries held in memory now (for metrics and tests). */
    public synchronized int groupsInMemory() {
        return inMemory;
    }

    /** Flushes, then closes the file. */
    @Override
    public synchronized void close() {
        try {
            flush();
        } finally {
            db.close();
        }
    }

    /** Closes the file without flushing: what a crash leaves (for tests). */
    synchronized void abandon() {
        db.close();
    }
}

package dev.outpost.edge.engine.rollup;

import dev.outpost.store.json.JsonTree;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * The hub's rollup windows: the final windows its nodes sent ({@link FinalWindow}), in {@code hub-rollups.db}, and
 * the rollup query over them, for one node or for all nodes merged.
 *
 * <p>Design note. The file has the node's window tables ({@code rollup_windows}, {@code rollup_summaries}), with one
 * {@code rollups} row per (node, rollup) holding the node's declaration, so {@link WindowQuery} pages a node's
 * windows exactly as on the node. Invariants:
 *
 * <ul>
 *   <li>Idempotent upsert: a window is stored under (node, rollup, window start, group key) with the node's sequence
 *       number of its event, and replaces what was there unless that came from a later event: a resent window (a
 *       node killed between appending it and marking it) changes nothing, a window a node re-derived (a longer
 *       allowed lateness reopened it) replaces the older, and an older copy arriving after it (sync sends the newest
 *       first after an outage) does not. The values are recomputed from the summary, never taken from the event.
 *   <li>One definition per (node, rollup): a window from a later event whose declaration changed what rows mean
 *       (stream, window, group-by or aggregates) replaces the node's declaration and deletes that node's older windows
 *       of the rollup, as the node itself does; a window of the replaced declaration arriving after that is skipped.
 *   <li>Merged answers ({@link #query} without a node) merge per (window, group) the rows of the nodes whose
 *       declaration makes the same rows as the most recently updated one; the others are named in the answer, not
 *       merged. A merged page is complete up to its cursor: each node's page is read with the same cursor and limit,
 *       and rows past the lowest last row of a node with more to read wait for the next page. A merged page reads at
 *       most {@link #MERGE_ROWS_READ_MAX} rows over all nodes (each node's page cut to its share), so a fleet of
 *       thousands answers in bounded memory with shorter pages.
 *   <li>Retention: windows that ended more than {@code retentionMillis} before the hub's clock are deleted
 *       ({@link #prune}, at most every {@link #PRUNE_INTERVAL_MILLIS} on upsert).
 *   <li>One writer: upserts and prunes synchronize; queries read on their own connections (WAL) from any thread.
 * </ul>
 */
public final class FleetRollups implements AutoCloseable {
    /** Migration i (0-based) brings the schema to version i + 1. Append only; never edit one. */
    static final List<String> MIGRATIONS = List.of("""
            CREATE TABLE rollups (
              id INTEGER PRIMARY KEY,
              node TEXT NOT NULL,
              name TEXT NOT NULL,
              spec TEXT NOT NULL,
              spec_seq INTEGER NOT NULL,
              updated_at_millis INTEGER NOT NULL,
              UNIQUE (node, name)
            );
            CREATE TABLE rollup_windows (
              rollup_id INTEGER NOT NULL,
              window_start INTEGER NOT NULL,
              group_key TEXT NOT NULL,
              vals BLOB NOT NULL,
              node_seq INTEGER NOT NULL,
              PRIMARY KEY (rollup_id, window_start, group_key)
            ) WITHOUT ROWID;
            CREATE INDEX rollup_windows_by_group ON rollup_windows (rollup_id, group_key, window_start, vals);
            CREATE TABLE rollup_summaries (
              rollup_id INTEGER NOT NULL,
              window_start INTEGER NOT NULL,
              group_key TEXT NOT NULL,
              summary BLOB NOT NULL,
              node_seq INTEGER NOT NULL,
              PRIMARY KEY (rollup_id, window_start, group_key)
            ) WITHOUT ROWID;
            """);

    /**
     * Most rows (each with its summary, up to ~2 KiB) one merged page reads over all nodes: each node's page is cut to
     * its share, and the merged page may then hold fewer rows than asked, with a cursor.
     */
    static final int MERGE_ROWS_READ_MAX = 10_000;

    /** Least time between two prunes run by upserts, milliseconds. */
    static final long PRUNE_INTERVAL_MILLIS = 60_000;

    /** One node's declaration of one rollup, its id in the file, and the node's seq of the window that set it. */
    private record Source(long id, String node, RollupSpec spec, long specSeq, long updatedAtMillis) {}

    /**
     * A final window as received.
     *
     * @param nodeSeq the sequence number the node stored its event under
     */
    public record Received(long nodeSeq, FinalWindow window) {}

    /**
     * A page of a rollup query on the hub.
     *
     * @param page the rows and the cursor
     * @param spec the declaration the rows follow
     * @param nodes the nodes whose windows the page holds (one with {@code node=})
     * @param otherDefinitions nodes with windows of this rollup under a declaration that makes other rows (not merged)
     */
    public record Answer(Page page, RollupSpec spec, List<String> nodes, List<String> otherDefinitions) {}

    /** A row's place in (window start, group key) order. */
    private record Key(long window, String group) {}

    private static final Comparator<Key> ORDER =
            Comparator.comparingLong(Key::window).thenComparing(Key::group);

    private final RollupDatabase db;
    private final long retentionMillis;
    private final LongSupplier clockMillis;
    private final int mergeRowsReadMax;
    private final Map<String, Source> sources = new HashMap<>(); // node + NUL + name; guarded by this
    private volatile Map<String, List<Source>> byName = Map.of();
    private long prunedAtMillis = Long.MIN_VALUE;

    private FleetRollups(RollupDatabase db, long retentionMillis, LongSupplier clockMillis, int mergeRowsReadMax) {
        this.db = db;
        this.retentionMillis = retentionMillis;
        this.clockMillis = clockMillis;
        this.mergeRowsReadMax = mergeRowsReadMax;
    }

    /** Opens (creating or migrating) the hub's rollups file. */
    public static FleetRollups open(Path file, long retentionMillis, LongSupplier clockMillis) {
        return open(file, retentionMillis, clockMillis, MERGE_ROWS_READ_MAX);
    }

    /** {@link #open} with another bound on the rows a merged page reads (tests). */
    static FleetRollups open(Path file, long retentionMillis, LongSupplier clockMillis, int mergeRowsReadMax) {
        FleetRollups f =
                new FleetRollups(RollupDatabase.open(file, MIGRATIONS), retentionMillis, clockMillis, mergeRowsReadMax);
        try {
            f.load();
        } catch (RuntimeException e) {
            f.db.close();
            throw e;
        }
        return f;
    }

    private synchronized void load() {
        db.write(c -> {
            try (PreparedStatement p = c.prepareStatement(
                            "SELECT id, node, name, spec, spec_seq, updated_at_millis FROM rollups");
                    ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    byte[] json = rs.getString(4).getBytes(StandardCharsets.UTF_8);
                    RollupSpec spec = RollupSpec.parse(rs.getString(3), JsonTree.parseStored(json, 0, json.length));
                    sources.put(
                            rs.getString(2) + '\0' + rs.getString(3),
                            new Source(rs.getLong(1), rs.getString(2), spec, rs.getLong(5), rs.getLong(6)));
                }
            }
            return null;
        });
        publish();
    }

    private void publish() {
        Map<String, List<Source>> names = new HashMap<>();
        for (Source s : sources.values()) {
            names.computeIfAbsent(s.spec().name(), n -> new ArrayList<>()).add(s);
        }
        names.values().forEach(l -> l.sort(Comparator.comparing(Source::node)));
        byName = Map.copyOf(names);
    }

    /**
     * Stores {@code windows} of {@code node} in one transaction, each replacing the stored window of the same (node,
     * rollup, window start, group) unless that one came from a later event of the node; prunes first when a prune is
     * due.
     *
     * @return windows skipped as older than what is stored (a declaration the node replaced since)
     */
    public synchronized int upsert(String node, List<Received> windows) {
        long now = clockMillis.getAsLong();
        if (now - prunedAtMillis >= PRUNE_INTERVAL_MILLIS) {
            prune();
        }
        if (windows.isEmpty()) {
            return 0;
        }
        Map<String, Source> before = new HashMap<>(sources);
        int skipped;
        try {
            skipped = db.transaction(c -> {
                int stale = 0;
                try (PreparedStatement w = c.prepareStatement(upsertSql("rollup_windows", "vals"));
                        PreparedStatement s = c.prepareStatement(upsertSql("rollup_summaries", "summary"))) {
                    for (Received r : windows) {
                        Source src = source(c, node, r, now);
                        if (src == null) {
                            stale++;
                            continue;
                        }
                        bind(w, src.id(), r, r.window().vals());
                        bind(s, src.id(), r, r.window().summary());
                    }
                    w.executeBatch();
                    s.executeBatch();
                }
                return stale;
            });
        } catch (RuntimeException e) {
            sources.clear();
            sources.putAll(before); // the declarations written in the failed transaction are not there
            throw e;
        }
        publish();
        return skipped;
    }

    /** Insert, or replace unless the stored row came from a later event of the node (a resend after a newer one). */
    private static String upsertSql(String table, String column) {
        return "INSERT INTO " + table + " (rollup_id, window_start, group_key, " + column + ", node_seq)"
                + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (rollup_id, window_start, group_key) DO UPDATE SET "
                + column + " = excluded." + column + ", node_seq = excluded.node_seq"
                + " WHERE excluded.node_seq >= " + table + ".node_seq";
    }

    private static void bind(PreparedStatement p, long id, Received r, byte[] value) throws SQLException {
        p.setLong(1, id);
        p.setLong(2, r.window().windowStart());
        p.setString(3, r.window().groupKey());
        p.setBytes(4, value);
        p.setLong(5, r.nodeSeq());
        p.addBatch();
    }

    /**
     * The (node, rollup) row for a received window: created, kept, or replaced by a newer declaration (its windows
     * deleted when they mean other rows); null when the window's declaration is older than the stored one and makes
     * other rows (a resend that arrived after the node redefined the rollup: skipped).
     */
    private Source source(Connection c, String node, Received r, long now) throws SQLException {
        RollupSpec spec = r.window().spec();
        String key = node + '\0' + spec.name();
        Source s = sources.get(key);
        if (s != null && s.spec().equals(spec)) {
            return s;
        }
        if (s != null && r.nodeSeq() < s.specSeq()) {
            return s.spec().sameRows(spec) ? s : null;
        }
        String json = new String(JsonTree.write(spec.toTree()), StandardCharsets.UTF_8);
        if (s == null) {
            RollupDatabase.update(
                    c,
                    "INSERT INTO rollups (node, name, spec, spec_seq, updated_at_millis) VALUES (?, ?, ?, ?, ?)",
                    node,
                    spec.name(),
                    json,
                    r.nodeSeq(),
                    now);
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT last_insert_rowid()")) {
                rs.next();
                s = new Source(rs.getLong(1), node, spec, r.nodeSeq(), now);
            }
        } else {
            if (!s.spec().sameRows(spec)) {
                RollupRows.delete(c, s.id());
            }
            RollupDatabase.update(
                    c,
                    "UPDATE rollups SET spec = ?, spec_seq = ?, updated_at_millis = ? WHERE id = ?",
                    json,
                    r.nodeSeq(),
                    now,
                    s.id());
            s = new Source(s.id(), node, spec, r.nodeSeq(), now);
        }
        sources.put(key, s);
        return s;
    }

    /** Deletes the windows that ended more than the retention before now; returns how many rows went. */
    public synchronized int prune() {
        long now = clockMillis.getAsLong();
        prunedAtMillis = now;
        List<Source> all = List.copyOf(sources.values());
        return db.transaction(c -> {
            int deleted = 0;
            for (Source s : all) {
                long upTo = now - retentionMillis - s.spec().windowMillis(); // window_start <= upTo: ended before
                deleted += RollupDatabase.update(
                        c, "DELETE FROM rollup_windows WHERE rollup_id = ? AND window_start <= ?", s.id(), upTo);
                RollupDatabase.update(
                        c, "DELETE FROM rollup_summaries WHERE rollup_id = ? AND window_start <= ?", s.id(), upTo);
            }
            return deleted;
        });
    }

    /**
     * One page of a rollup's windows: of {@code node}, or of all nodes merged per (window, group) when {@code node}
     * is null. Parameters as for {@link Rollups#query}.
     *
     * @throws RollupRefusal naming the parameter at fault, or of kind NOT_FOUND when no node (or not that node) sent
     *     windows of this rollup
     */
    public Answer query(
            String node, String name, long from, long to, Map<String, String> filters, int limit, String cursor) {
        List<Source> all = byName.getOrDefault(name, List.of());
        if (node != null) {
            Source s = all.stream()
                    .filter(x -> x.node().equals(node))
                    .findFirst()
                    .orElseThrow(() -> new RollupRefusal(
                            RollupRefusal.Kind.NOT_FOUND, name, null, "node '" + node + "' sent no windows of it"));
            WindowQuery q = new WindowQuery(name, s.spec(), s.id());
            WindowQuery.Params p = q.params(from, to, filters, limit, cursor);
            return new Answer(db.read(c -> q.page(c, p, false)), s.spec(), List.of(node), List.of());
        }
        if (all.isEmpty()) {
            throw new RollupRefusal(RollupRefusal.Kind.NOT_FOUND, name, null, "no node sent windows of it");
        }
        Source newest = all.stream()
                .max(Comparator.comparingLong(Source::updatedAtMillis))
                .orElseThrow();
        List<Source> merged =
                all.stream().filter(s -> s.spec().sameRows(newest.spec())).toList();
        List<String> others =
                all.stream().filter(s -> !merged.contains(s)).map(Source::node).toList();
        Page page = merged(name, newest.spec(), merged, from, to, filters, limit, cursor);
        return new Answer(page, newest.spec(), merged.stream().map(Source::node).toList(), others);
    }

    private Page merged(
            String name,
            RollupSpec spec,
            List<Source> sources,
            long from,
            long to,
            Map<String, String> filters,
            int limit,
            String cursor) {
        List<WindowQuery> queries = new ArrayList<>();
        List<WindowQuery.Params> params = new ArrayList<>();
        int share = Math.max(1, Math.min(limit, mergeRowsReadMax / sources.size()));
        for (Source s : sources) {
            WindowQuery q = new WindowQuery(name, s.spec(), s.id());
            q.params(from, to, filters, limit, cursor); // refuses what the client asked, by name
            queries.add(q);
            params.add(q.params(from, to, filters, share, cursor));
        }
        List<Page> pages = db.read(c -> {
            List<Page> out = new ArrayList<>();
            for (int i = 0; i < queries.size(); i++) {
                out.add(queries.get(i).page(c, params.get(i), true));
            }
            return out;
        });
        // Rows up to the lowest last row of a node with more to read are complete: every node's are on its page.
        Key bound = null;
        for (int i = 0; i < pages.size(); i++) {
            String next = pages.get(i).nextCursor();
            if (next != null) {
                WindowQuery.Params at = queries.get(i).params(from, to, Map.of(), 1, next);
                Key k = new Key(at.afterWindow(), at.afterGroup());
                bound = bound == null || ORDER.compare(k, bound) < 0 ? k : bound;
            }
        }
        TreeMap<Key, List<Row>> byKey = new TreeMap<>(ORDER);
        for (Page p : pages) {
            for (Row r : p.rows()) {
                Key k = new Key(
                        r.windowStartMillis(),
                        GroupKey.json(new ArrayList<>(r.group().values())));
                if (bound == null || ORDER.compare(k, bound) <= 0) {
                    byKey.computeIfAbsent(k, x -> new ArrayList<>()).add(r);
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        Key last = null;
        for (Map.Entry<Key, List<Row>> e : byKey.entrySet()) {
            if (rows.size() == limit) {
                break;
            }
            rows.add(Row.merge(spec, e.getValue()));
            last = e.getKey();
        }
        String nextCursor = null;
        if (rows.size() == limit && (byKey.size() > limit || bound != null)) {
            nextCursor = WindowQuery.cursor(last.window(), last.group());
        } else if (bound != null) {
            nextCursor = WindowQuery.cursor(bound.window(), bound.group());
        }
        return new Page(rows, nextCursor);
    }

    /** The rollups nodes sent windows of, by name, with the nodes that sent each. */
    public Map<String, List<String>> rollups() {
        Map<String, List<String>> out = new TreeMap<>();
        byName.forEach(
                (name, list) -> out.put(name, list.stream().map(Source::node).toList()));
        return out;
    }

    /** What the file takes on disk, WAL included. */
    public long diskBytes() {
        return db.diskBytes();
    }

    @Override
    public synchronized void close() {
        db.close();
    }
}

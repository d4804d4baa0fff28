package dev.outpost.edge.engine.rollup;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One page of a rollup's windows, read from its SQLite rows (what the last flush wrote).
 *
 * <p>Rows come in (window start, group key) order, the rows' clustering order, so a page is one range read of
 * the primary key. A filter naming every group-by field is one group: it reads that group's index range
 * instead. A filter naming only some fields is checked row by row, and reads at most {@link #SCAN_ROWS_MAX}
 * rows per page, so a selective filter answers in bounded time with a shorter page (maybe empty) and a
 * cursor. The cursor is the last row's (window start, group key), base64url: opaque to clients, stable across
 * flushes (a row added before the cursor is not seen; one after it is).
 */
final class WindowQuery {
    /** Most rows in a page. */
    static final int LIMIT_MAX = 10_000;
    /** Most rows a filtered page reads before it answers with what it has and a cursor. */
    static final int SCAN_ROWS_MAX = 10_000;

    private static final String COLUMNS = "SELECT window_start, group_key, vals";
    private static final String WITH_SUMMARIES = ", summary";
    private static final String SUMMARIES_JOIN = " JOIN rollup_summaries USING (rollup_id, window_start, group_key)";

    private final String name;
    private final RollupSpec spec;
    private final long rollupId;

    WindowQuery(String name, RollupSpec spec, long rollupId) {
        this.name = name;
        this.spec = spec;
        this.rollupId = rollupId;
    }

    /** The page's parameters, checked. */
    record Params(long fromMillis, long toMillis, String[] filter, int limit, long afterWindow, String afterGroup) {}

    /** Checks the parameters; refusals name the parameter at fault. */
    Params params(long fromMillis, long toMillis, Map<String, String> filters, int limit, String cursor) {
        if (limit < 1 || limit > LIMIT_MAX) {
            throw new RollupRefusal(name, "limit", "limit must be 1 to " + LIMIT_MAX + ", not " + limit);
        }
        String[] filter = new String[spec.groupBy().size()];
        for (Map.Entry<String, String> e : filters.entrySet()) {
            int i = spec.groupBy().indexOf(e.getKey());
            if (i < 0) {
                throw new RollupRefusal(name, e.getKey(), "not a group_by field; filter on one of " + spec.groupBy());
            }
            filter[i] = e.getValue();
        }
        if (cursor == null) {
            return new Params(fromMillis, toMillis, filter, limit, Long.MIN_VALUE, null);
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(Base64.getUrlDecoder().decode(cursor));
            long window = b.getLong();
            String group = StandardCharsets.UTF_8.decode(b).toString();
            GroupKey.parseValues(group); // refuses a cursor that was not made here
            return new Params(fromMillis, toMillis, filter, limit, window, group);
        } catch (RuntimeException e) {
            throw new RollupRefusal(name, "cursor", "the cursor is not one this rollup's query gave");
        }
    }

    static String cursor(long window, String group) {
        byte[] g = group.getBytes(StandardCharsets.UTF_8);
        return Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(
                        ByteBuffer.allocate(8 + g.length).putLong(window).put(g).array());
    }

    /** One page; {@code withSummaries} adds each row's stored summary (for sync). */
    Page page(Connection c, Params q, boolean withSummaries) throws SQLException {
        boolean oneGroup = true;
        for (String f : q.filter()) {
            oneGroup &= f != null;
        }
        if (oneGroup) {
            return oneGroup(c, q, withSummaries);
        }
        boolean filtered = false;
        for (String f : q.filter()) {
            filtered |= f != null;
        }
        int sqlLimit = filtered ? SCAN_ROWS_MAX : q.limit() + 1;
        // After a cursor the range starts at its window (an index seek), the rows of that window up to its
        // group filtered out by the OR; a row-value comparison would not bound the range in SQLite.
        String sql = COLUMNS + (withSummaries ? WITH_SUMMARIES : "") + " FROM rollup_windows"
                + (withSummaries ? SUMMARIES_JOIN : "")
                + " WHERE rollup_id = ? AND window_start >= ? AND window_start < ?"
                + (q.afterGroup() != null ? " AND (window_start > ? OR group_key > ?)" : "")
                + " ORDER BY window_start, group_key LIMIT ?";
        try (PreparedStatement p = c.prepareStatement(sql)) {
            int i = 1;
            p.setLong(i++, rollupId);
            p.setLong(i++, q.afterGroup() != null ? Math.max(q.fromMillis(), q.afterWindow()) : q.fromMillis());
            p.setLong(i++, q.toMillis());
            if (q.afterGroup() != null) {
                p.setLong(i++, q.afterWindow());
                p.setString(i++, q.afterGroup());
            }
            p.setInt(i, sqlLimit);
            try (ResultSet rs = p.executeQuery()) {
                return collect(rs, q, filtered ? sqlLimit : Integer.MAX_VALUE, withSummaries);
            }
        }
    }

    /** A filter naming every group-by field: that group's rows, by window, from the group index. */
    private Page oneGroup(Connection c, Params q, boolean withSummaries) throws SQLException {
        String key = GroupKey.json(List.of(q.filter()));
        long from = q.fromMillis();
        if (q.afterGroup() != null) {
            // Rows after the cursor: in later windows, or in its window if this group sorts after its group.
            long after = key.compareTo(q.afterGroup()) > 0 ? q.afterWindow() : q.afterWindow() + 1;
            from = Math.max(from, after);
        }
        String sql = COLUMNS + (withSummaries ? WITH_SUMMARIES : "") + " FROM rollup_windows INDEXED BY"
                + " rollup_windows_by_group" + (withSummaries ? SUMMARIES_JOIN : "")
                + " WHERE rollup_id = ? AND group_key = ? AND window_start >= ? AND window_start < ?"
                + " ORDER BY window_start LIMIT ?";
        try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setLong(1, rollupId);
            p.setString(2, key);
            p.setLong(3, from);
            p.setLong(4, q.toMillis());
            p.setInt(5, q.limit() + 1);
            try (ResultSet rs = p.executeQuery()) {
                return collect(rs, q, Integer.MAX_VALUE, withSummaries);
            }
        }
    }

    /**
     * The rows of {@code rs} that pass the filter, up to the limit. {@code scanMax}: the SQL limit of a filtered
     * read; reading that many rows without filling the page ends the page with a cursor at the last row read.
     */
    private Page collect(ResultSet rs, Params q, int scanMax, boolean withSummaries) throws SQLException {
        List<Row> rows = new ArrayList<>();
        Map<String, Group> groups = new HashMap<>(); // a page repeats its groups in every window
        int scanned = 0;
        long lastWindow = 0; // of the last row read, and of the last row kept
        String lastGroup = null;
        long rowWindow = 0;
        String rowGroup = null;
        while (rs.next()) {
            scanned++;
            lastWindow = rs.getLong(1);
            lastGroup = rs.getString(2);
            Group group = groups.computeIfAbsent(lastGroup, this::group);
            if (passes(group.values(), q.filter())) {
                if (rows.size() == q.limit()) {
                    return new Page(rows, cursor(rowWindow, rowGroup));
                }
                rows.add(row(lastWindow, group.fields(), rs.getBytes(3), withSummaries ? rs.getBytes(4) : null));
                rowWindow = lastWindow;
                rowGroup = lastGroup;
            }
        }
        return new Page(rows, scanned == scanMax ? cursor(lastWindow, lastGroup) : null);
    }

    private static boolean passes(List<String> values, String[] filter) {
        for (int i = 0; i < filter.length; i++) {
            if (filter[i] != null && !filter[i].equals(values.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** A group's values, and the same by group-by field as rows show them. */
    private record Group(List<String> values, Map<String, String> fields) {}

    private Group group(String key) {
        List<String> values = GroupKey.parseValues(key);
        Map<String, String> fields = new LinkedHashMap<>();
        for (int i = 0; i < values.size(); i++) {
            fields.put(spec.groupBy().get(i), values.get(i));
        }
        return new Group(values, Collections.unmodifiableMap(fields));
    }

    /** A row from its stored columns: window start, group key, values and (or null) summary. */
    Row row(long window, String groupKey, byte[] vals, byte[] summary) {
        return row(window, group(groupKey).fields(), vals, summary);
    }

    private Row row(long window, Map<String, String> group, byte[] vals, byte[] summary) {
        double[] numbers = new double[spec.aggregates().size()];
        ByteBuffer.wrap(vals).asDoubleBuffer().get(numbers);
        return new Row(window, window + spec.windowMillis(), group, spec.aggregates(), numbers, summary);
    }
}

package dev.outpost.edge.engine.rollup;

import java.util.List;

/**
 * One page of a rollup query.
 *
 * @param rows rows in (window start, group) order
 * @param nextCursor pass it back for the next page; null when there is none. A page may hold fewer rows than
 *     the limit (even none) and still have a cursor, when a filter made the query read {@link
 *     WindowQuery#SCAN_ROWS_MAX} rows without filling it.
 */
public record Page(List<Row> rows, String nextCursor) {
    public Page {
        rows = List.copyOf(rows);
    }
}

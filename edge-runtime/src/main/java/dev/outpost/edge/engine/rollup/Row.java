package dev.outpost.edge.engine.rollup;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One window of one group, as a rollup query answers it. The aggregates' values stay unboxed ({@code
 * numbers}, NaN for none) so a page of thousands of rows costs few objects; {@link #values} boxes them on
 * demand and {@link #writeJson} writes them directly.
 *
 * @param windowStartMillis the window's start, epoch milliseconds (inclusive)
 * @param windowEndMillis its end (exclusive)
 * @param group each group-by field as declared to its value (a string, or null where events lacked it)
 * @param aggregates the rollup's aggregates, in declared order
 * @param numbers each aggregate's value in the same order; NaN where no value of its field was counted
 * @param summary the mergeable {@link WindowSummary} as stored, when asked for (sync), else null
 */
public record Row(
        long windowStartMillis,
        long windowEndMillis,
        Map<String, String> group,
        List<Aggregate> aggregates,
        double[] numbers,
        byte[] summary) {

    /**
     * The rows of several nodes for one window and group (each queried with its summary) as one row: what the
     * hub answers for "all nodes". Counts, min and max are exact, quantiles as accurate as one node's.
     *
     * @throws IllegalArgumentException if the rows are of different windows or groups, or lack summaries
     */
    public static Row merge(RollupSpec spec, List<Row> rows) {
        Row first = rows.getFirst();
        WindowSummary merged = null;
        for (Row r : rows) {
            if (r.summary == null || r.windowStartMillis != first.windowStartMillis || !r.group.equals(first.group)) {
                throw new IllegalArgumentException("only rows of one window and group, with summaries, merge");
            }
            WindowSummary s = WindowSummary.decode(r.summary);
            if (merged == null) {
                merged = s;
            } else {
                merged.mergeWith(s);
            }
        }
        return new Row(
                first.windowStartMillis,
                first.windowEndMillis,
                first.group,
                spec.aggregates(),
                merged.valueArray(spec),
                merged.encode());
    }

    /** Each aggregate's label to its value: {@code count} a Long, the others a Double, or null for none. */
    public Map<String, Object> values() {
        Map<String, Object> values = new LinkedHashMap<>();
        for (int i = 0; i < numbers.length; i++) {
            values.put(aggregates.get(i).label(), WindowSummary.value(aggregates.get(i), numbers[i]));
        }
        return values;
    }

    /**
     * Writes the row as one JSON object (an NDJSON line without its newline): {@code window_start}, {@code
     * window_end}, {@code group} (field to value) and {@code values} (aggregate label to value).
     */
    public void writeJson(JsonGenerator g) throws IOException {
        g.writeStartObject();
        writeFields(g);
        g.writeEndObject();
    }

    /** {@link #writeJson}'s members, into an object the caller opened (a final window's event adds its own). */
    void writeFields(JsonGenerator g) throws IOException {
        g.writeNumberField("window_start", windowStartMillis);
        g.writeNumberField("window_end", windowEndMillis);
        g.writeObjectFieldStart("group");
        for (Map.Entry<String, String> e : group.entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
        g.writeObjectFieldStart("values");
        for (int i = 0; i < numbers.length; i++) {
            Aggregate a = aggregates.get(i);
            g.writeFieldName(a.label());
            if (a.field() == null) {
                g.writeNumber((long) numbers[i]);
            } else if (Double.isNaN(numbers[i])) {
                g.writeNull();
            } else {
                g.writeNumber(numbers[i]);
            }
        }
        g.writeEndObject();
    }
}

package dev.outpost.edge.engine.rollup;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One window of one group: the window's start (epoch milliseconds) and the group's values, one per group-by
 * field in declared order, each a string (a number in its JSON text form) or null where the event lacked the
 * field (or held JSON null, an object or an array there): such events form a group of their own, as SQL's
 * GROUP BY does. On disk the values are one JSON array ({@link #json}), e.g. {@code ["10.0.0.1",null]},
 * which keeps null apart from the string "null".
 */
record GroupKey(long windowStart, List<String> values) {
    private static final JsonFactory FACTORY = new JsonFactory();

    // Written out: looked up once per event and rollup, where the record's generated methods cost more.
    @Override
    public int hashCode() {
        return hash(windowStart, values.hashCode());
    }

    /** The hash of a key of this window whose values' {@code List.hashCode} is {@code valuesHash}. */
    static int hash(long windowStart, int valuesHash) {
        return 31 * Long.hashCode(windowStart) + valuesHash;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GroupKey k && windowStart == k.windowStart && values.equals(k.values);
    }

    /** The values as a JSON array of strings and nulls. */
    String json() {
        return json(values);
    }

    static String json(List<String> values) {
        StringWriter w = new StringWriter(16 + 16 * values.size());
        try (JsonGenerator g = FACTORY.createGenerator(w)) {
            g.writeStartArray();
            for (String v : values) {
                if (v == null) {
                    g.writeNull();
                } else {
                    g.writeString(v);
                }
            }
            g.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to a string does not fail
        }
        return w.toString();
    }

    /** The values of {@link #json}'s form (nulls kept; unmodifiable). */
    static List<String> parseValues(String json) {
        List<String> values = new ArrayList<>();
        try (JsonParser p = FACTORY.createParser(json)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw new IllegalArgumentException("a group key is a JSON array");
            }
            for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; ) {
                values.add(t == JsonToken.VALUE_NULL ? null : p.getText());
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("not a group key: " + json, e);
        }
        return Collections.unmodifiableList(values);
    }
}

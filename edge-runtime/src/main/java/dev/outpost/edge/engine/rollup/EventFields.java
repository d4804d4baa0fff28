package dev.outpost.edge.engine.rollup;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the fields the rollups of one stream need from a stored event, in one streaming pass with
 * jackson-core: only members on a declared path are looked at, everything else is skipped unparsed (no tree
 * per event). Each field gets a slot; after {@link #read} a slot holds the scalar's text (a string's value, a
 * number's JSON text, {@code true}/{@code false}) and, for a finite number, its value. A missing member, JSON
 * null, an object or an array leaves the slot empty (text null, number NaN).
 *
 * <p>Slot 0 is always the event's {@code ts}. Not thread-safe: one instance per stream, used by the engine
 * thread, its slots reused for every event.
 */
final class EventFields {
    /** The slot of the event's {@code ts}. */
    static final int TS = 0;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES) // member names come from events
            .build();

    /** A member name (or array index) on the way to one or more fields. */
    private static final class Node {
        final Map<String, Node> children = new HashMap<>();
        int slot = -1;
    }

    private final Node root = new Node();
    private final Map<String, Integer> slots = new LinkedHashMap<>();
    private final String[] text;
    private final double[] number;

    /** A reader of {@code ts} and of {@code fields} (declared forms; duplicates share a slot). */
    EventFields(List<String> fields) {
        add("/ts");
        for (String f : fields) {
            add(f);
        }
        text = new String[slots.size()];
        number = new double[slots.size()];
    }

    private void add(String declared) {
        if (slots.containsKey(declared)) {
            return;
        }
        Node n = root;
        for (String token : FieldPath.parse(declared).tokens()) {
            n = n.children.computeIfAbsent(token, k -> new Node());
        }
        if (n.slot < 0) {
            n.slot = slots.size();
        }
        slots.put(declared, n.slot);
    }

    /** The slot of a field as declared. */
    int slot(String declared) {
        Integer s = slots.get(declared);
        if (s == null) {
            throw new IllegalArgumentException("no slot for " + declared);
        }
        return s;
    }

    /** Reads one event; false (and every slot empty) if it is not a JSON object. */
    boolean read(byte[] json, int off, int len) {
        Arrays.fill(text, null);
        Arrays.fill(number, Double.NaN);
        try (JsonParser p = FACTORY.createParser(json, off, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            readObject(p, root);
            return true;
        } catch (IOException | RuntimeException e) {
            // Stored events were validated at ingest; one that still does not parse is skipped, not fatal.
            Arrays.fill(text, null);
            Arrays.fill(number, Double.NaN);
            return false;
        }
    }

    private void readObject(JsonParser p, Node node) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            Node child = node.children.get(p.currentName());
            JsonToken t = p.nextToken();
            if (child == null) {
                p.skipChildren();
            } else {
                readValue(p, t, child);
            }
        }
    }

    private void readValue(JsonParser p, JsonToken t, Node node) throws IOException {
        if (node.slot >= 0 && t.isScalarValue() && t != JsonToken.VALUE_NULL) {
            text[node.slot] = p.getText();
            if (t.isNumeric()) {
                double v = p.getDoubleValue();
                number[node.slot] = Double.isFinite(v) ? v : Double.NaN;
            }
        }
        if (t == JsonToken.START_OBJECT && !node.children.isEmpty()) {
            readObject(p, node);
        } else if (t == JsonToken.START_ARRAY && !node.children.isEmpty()) {
            int i = 0;
            for (JsonToken e; (e = p.nextToken()) != JsonToken.END_ARRAY; i++) {
                Node child = node.children.get(Integer.toString(i));
                if (child == null) {
                    p.skipChildren();
                } else {
                    readValue(p, e, child);
                }
            }
        } else {
            p.skipChildren();
        }
    }

    /** The text of a slot after {@link #read}, or null. */
    String text(int slot) {
        return text[slot];
    }

    /** The finite number in a slot after {@link #read}, or NaN. */
    double number(int slot) {
        return number[slot];
    }

    /**
     * The event time: {@code ts} as epoch milliseconds, or as an ISO-8601 date-time with offset (the parser
     * stores an event as received), else {@code ingestMillis}.
     */
    long eventMillis(long ingestMillis) {
        double ts = number[TS];
        if (!Double.isNaN(ts)) {
            return ts >= 0 && ts == Math.rint(ts) ? (long) ts : ingestMillis;
        }
        String iso = text[TS];
        if (iso != null) {
            try {
                return OffsetDateTime.parse(iso).toInstant().toEpochMilli();
            } catch (DateTimeParseException e) {
                return ingestMillis;
            }
        }
        return ingestMillis;
    }
}

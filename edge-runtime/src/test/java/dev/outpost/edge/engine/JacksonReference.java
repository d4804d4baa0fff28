package dev.outpost.edge.engine;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@link EventReader} must read, computed with jackson-core (the reader the engine used before its own): for each
 * path, the kind and value of its last occurrence in a streaming walk of the event, or null for an event jackson does
 * not read as exactly one JSON object. A fresh non-blocking UTF-8 parser per event, fed the whole event then its end;
 * what follows the object is checked here to be whitespace.
 */
final class JacksonReference {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();

    /** One slot's expected content. {@code text} is a string's value, or a number's JSON text. */
    record Value(byte kind, long longValue, double doubleValue, String text) {}

    private final Map<List<String>, Integer> slots = new HashMap<>();
    private final Set<List<String>> prefixes = new HashSet<>();
    private final int slotCount;

    /** The paths, each its tokens; slot i is path i's (paths are distinct). */
    JacksonReference(List<List<String>> paths) {
        for (List<String> p : paths) {
            slots.put(p, slots.size());
            for (int i = 1; i < p.size(); i++) {
                prefixes.add(p.subList(0, i));
            }
        }
        slotCount = paths.size();
    }

    /** The slots' values, null where a path is missing; null when jackson refuses the event. */
    Value[] read(byte[] json) {
        Value[] out = new Value[slotCount];
        try (JsonParser p = FACTORY.createNonBlockingByteArrayParser()) {
            ByteArrayFeeder feeder = (ByteArrayFeeder) p.getNonBlockingInputFeeder();
            feeder.feedInput(json, 0, json.length);
            feeder.endOfInput();
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            object(p, new ArrayList<>(), out);
            // After the object only whitespace (RFC 8259). Not asked of the parser: after the end of input it answers
            // NOT_AVAILABLE for trailing whitespace and for some trailing bytes alike ("}+").
            for (long i = p.currentLocation().getByteOffset(); i < json.length; i++) {
                byte c = json[(int) i];
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return null;
                }
            }
            return out;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private void object(JsonParser p, List<String> at, Value[] out) throws IOException {
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            at.add(p.currentName());
            value(p, p.nextToken(), at, out);
            at.removeLast();
        }
        if (t != JsonToken.END_OBJECT) {
            throw new IOException("truncated");
        }
    }

    private void array(JsonParser p, List<String> at, Value[] out) throws IOException {
        JsonToken t;
        for (int i = 0; (t = p.nextToken()) != JsonToken.END_ARRAY; i++) {
            if (t == null || t == JsonToken.NOT_AVAILABLE) {
                throw new IOException("truncated");
            }
            // An element is reached by a path token that is its index in canonical form, below the bound.
            at.add(i < FieldPath.ARRAY_INDEX_MAX ? Integer.toString(i) : "\u0000none");
            value(p, t, at, out);
            at.removeLast();
        }
    }

    private void value(JsonParser p, JsonToken t, List<String> at, Value[] out) throws IOException {
        Integer slot = slots.get(at);
        if (slot != null) {
            out[slot] = keep(p, t);
        }
        boolean descend = prefixes.contains(at);
        if (t == JsonToken.START_OBJECT) {
            if (descend) {
                object(p, at, out);
            } else {
                p.skipChildren();
            }
        } else if (t == JsonToken.START_ARRAY) {
            if (descend) {
                array(p, at, out);
            } else {
                p.skipChildren();
            }
        } else if (t == null || t == JsonToken.NOT_AVAILABLE) {
            throw new IOException("truncated");
        }
    }

    private static Value keep(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case VALUE_STRING -> new Value(EventFields.STRING, 0, 0, p.getText());
            case VALUE_NUMBER_INT ->
                p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? new Value(EventFields.DOUBLE, 0, p.getDoubleValue(), p.getText())
                        : new Value(EventFields.LONG, p.getLongValue(), 0, p.getText());
            case VALUE_NUMBER_FLOAT -> new Value(EventFields.DOUBLE, 0, p.getDoubleValue(), p.getText());
            case VALUE_TRUE -> new Value(EventFields.TRUE, 0, 0, null);
            case VALUE_FALSE -> new Value(EventFields.FALSE, 0, 0, null);
            case VALUE_NULL -> new Value(EventFields.NULL, 0, 0, null);
            case START_OBJECT -> new Value(EventFields.OBJECT, 0, 0, null);
            case START_ARRAY -> new Value(EventFields.ARRAY, 0, 0, null);
            default -> throw new IOException("not a value: " + t);
        };
    }
}

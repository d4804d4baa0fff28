package dev.outpost.edge.engine;

import dev.outpost.edge.streams.StreamSchema;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whether a condition fits what its field can hold, checked when a rule is defined: the event's own members have fixed
 * kinds (stream, key, id and priority are strings; ts a number or a string), and a field under {@code data} of a stream
 * with a schema must be declared in the schema's {@code properties} (nested) with a type the operator and operand can
 * match. A condition that could never hold is refused rather than left to be silently false forever.
 *
 * <p>The schema subset has no {@code items}: below a field declared as an array nothing is known, so nothing is refused.
 */
final class SchemaFit {
    /** Operators that order numbers. */
    private static final Set<String> ORDERING = Set.of("gt", "gte", "lt", "lte", "between", "anomaly");

    private SchemaFit() {}

    /**
     * Null if the condition fits, else why not.
     *
     * @param type what the field holds: "string", "number", "integer", "boolean", "object", "array", "null", or null
     *     when unknown (any)
     */
    static String fit(String type, String op, Object value) {
        if (type == null || op.equals("exists")) {
            return null;
        }
        boolean numeric = type.equals("number") || type.equals("integer");
        if (ORDERING.contains(op)) {
            return numeric ? null : "the field holds " + article(type) + "; " + op + " compares numbers";
        }
        if (op.equals("regex")) {
            return type.equals("string") ? null : "the field holds " + article(type) + "; regex matches strings";
        }
        Object sample = value instanceof List<?> l && !l.isEmpty() ? l.getFirst() : value;
        String wanted = switch (sample) {
            case String s -> "string";
            case Boolean b -> "boolean";
            case Long n -> "number";
            case Double d -> type.equals("integer") && d != Math.rint(d) ? "fraction" : "number";
            case null, default -> null;
        };
        if (wanted == null || wanted.equals(type) || wanted.equals("number") && numeric) {
            return null;
        }
        return "the field holds " + article(type) + "; " + op + " with "
                + (wanted.equals("fraction") ? "a fraction" : article(wanted)) + " can never hold";
    }

    private static String article(String type) {
        return (type.equals("integer") || type.equals("object") || type.equals("array") ? "an " : "a ")
                + type
                + (type.equals("null") ? " only" : "");
    }

    /**
     * What the field holds (as {@link #fit}'s type) or null when unknown; IllegalArgumentException when the path
     * names a field the event or the stream's schema does not have.
     */
    static String typeOf(FieldPath path, StreamSchema schema, String stream) {
        List<String> tokens = path.tokens();
        String first = tokens.getFirst();
        if (!first.equals("data")) {
            if (tokens.size() > 1) {
                throw new IllegalArgumentException("the event's " + first + " has no members");
            }
            return first.equals("ts") ? null : "string";
        }
        if (schema == null) {
            return tokens.size() == 1 ? "object" : null;
        }
        Object node = schema.source();
        for (int i = 1; i < tokens.size(); i++) {
            Map<?, ?> m = (Map<?, ?>) node;
            if ("array".equals(m.get("type"))) {
                return null; // the subset does not describe items
            }
            if (!(m.get("properties") instanceof Map<?, ?> props) || !props.containsKey(tokens.get(i))) {
                throw new IllegalArgumentException("the schema of stream '" + stream + "' does not declare "
                        + (i == 1 ? "data member '" : "member '") + tokens.get(i) + "' of this path");
            }
            node = props.get(tokens.get(i));
        }
        Object type = ((Map<?, ?>) node).get("type");
        return type == null ? (tokens.size() == 1 ? "object" : null) : String.valueOf(type);
    }
}

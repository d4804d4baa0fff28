package dev.outpost.edge.streams;

import dev.outpost.store.json.JsonTree;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A stream's schema for {@code data}: a small, documented subset of JSON Schema, compiled once.
 *
 * <p>Supported keywords: {@code type} (object, array, string, number, integer, boolean, null),
 * {@code properties} (nested), {@code required}, {@code enum}, {@code minimum}, {@code maximum},
 * {@code maxLength}, {@code additionalProperties: false}. Anything else is rejected when the
 * schema is declared (a keyword silently ignored would be a check the user thinks they have).
 * Invariants: {@link #validate} names the first violating field as a JSON Pointer under
 * {@code /data}; it never throws for a valid tree.
 */
public final class StreamSchema {
    /** Keywords this subset understands. */
    static final Set<String> KEYWORDS = Set.of(
            "type",
            "properties",
            "required",
            "enum",
            "minimum",
            "maximum",
            "maxLength",
            "additionalProperties",
            "description",
            "title");
    /** Types this subset knows. */
    static final Set<String> TYPES = Set.of("object", "array", "string", "number", "integer", "boolean", "null");
    /** Deepest nesting of properties. */
    static final int DEPTH_MAX = 16;

    private final String type;
    private final Map<String, StreamSchema> properties;
    private final List<String> required;
    private final List<Object> enumValues;
    private final BigDecimal minimum;
    private final BigDecimal maximum;
    private final Integer maxLength;
    private final boolean additionalProperties;
    private final Object source;

    private StreamSchema(
            String type,
            Map<String, StreamSchema> properties,
            List<String> required,
            List<Object> enumValues,
            BigDecimal minimum,
            BigDecimal maximum,
            Integer maxLength,
            boolean additionalProperties,
            Object source) {
        this.type = type;
        this.properties = properties;
        this.required = required;
        this.enumValues = enumValues;
        this.minimum = minimum;
        this.maximum = maximum;
        this.maxLength = maxLength;
        this.additionalProperties = additionalProperties;
        this.source = source;
    }

    /** Compiles a schema tree (from JSON or YAML); throws IllegalArgumentException naming the bad keyword. */
    public static StreamSchema compile(Object tree) {
        return compile(tree, "", 0);
    }

    private static StreamSchema compile(Object tree, String at, int depth) {
        if (depth > DEPTH_MAX) {
            throw new IllegalArgumentException("schema nests deeper than " + DEPTH_MAX + " at '" + at + "'");
        }
        if (!(tree instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("schema" + where(at) + " must be an object");
        }
        for (Object k : m.keySet()) {
            if (!KEYWORDS.contains(String.valueOf(k))) {
                throw new IllegalArgumentException("schema keyword '" + k + "'" + where(at)
                        + " is not supported; supported: " + String.join(", ", new java.util.TreeSet<>(KEYWORDS)));
            }
        }
        String type = null;
        if (m.containsKey("type")) {
            type = String.valueOf(m.get("type"));
            if (!TYPES.contains(type)) {
                throw new IllegalArgumentException(
                        "schema type '" + type + "'" + where(at) + " is not one of " + TYPES);
            }
        }
        Map<String, StreamSchema> props = new LinkedHashMap<>();
        if (m.get("properties") instanceof Map<?, ?> p) {
            for (Map.Entry<?, ?> e : p.entrySet()) {
                String name = String.valueOf(e.getKey());
                props.put(name, compile(e.getValue(), at + "/" + name, depth + 1));
            }
        } else if (m.containsKey("properties")) {
            throw new IllegalArgumentException("schema 'properties'" + where(at) + " must be an object");
        }
        List<String> required = new ArrayList<>();
        if (m.get("required") instanceof List<?> r) {
            r.forEach(x -> required.add(String.valueOf(x)));
        } else if (m.containsKey("required")) {
            throw new IllegalArgumentException("schema 'required'" + where(at) + " must be an array of names");
        }
        List<Object> enumValues = null;
        if (m.get("enum") instanceof List<?> en) {
            enumValues = new ArrayList<>(en);
        } else if (m.containsKey("enum")) {
            throw new IllegalArgumentException("schema 'enum'" + where(at) + " must be an array");
        }
        Integer maxLength = null;
        if (m.containsKey("maxLength")) {
            BigDecimal ml = number(m.get("maxLength"), "maxLength", at);
            // intValueExact would throw ArithmeticException (a 500) for 1.5 or beyond 32 bits.
            if (ml.signum() < 0
                    || ml.stripTrailingZeros().scale() > 0
                    || ml.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
                throw new IllegalArgumentException(
                        "schema 'maxLength'" + where(at) + " must be a whole number from 0 to " + Integer.MAX_VALUE);
            }
            maxLength = ml.intValue();
        }
        boolean additional = !Boolean.FALSE.equals(m.get("additionalProperties"));
        return new StreamSchema(
                type,
                props,
                required,
                enumValues,
                m.containsKey("minimum") ? number(m.get("minimum"), "minimum", at) : null,
                m.containsKey("maximum") ? number(m.get("maximum"), "maximum", at) : null,
                maxLength,
                additional,
                tree);
    }

    private static String where(String at) {
        return at.isEmpty() ? "" : " at '" + at + "'";
    }

    private static BigDecimal number(Object v, String keyword, String at) {
        BigDecimal d = toNumber(v);
        if (d == null) {
            throw new IllegalArgumentException("schema '" + keyword + "'" + where(at) + " must be a number");
        }
        return d;
    }

    private static BigDecimal toNumber(Object v) {
        return switch (v) {
            case BigDecimal d -> d;
            case BigInteger i -> new BigDecimal(i);
            case Long l -> BigDecimal.valueOf(l);
            case Integer i -> BigDecimal.valueOf(i);
            case Double d -> BigDecimal.valueOf(d);
            case Float f -> BigDecimal.valueOf(f);
            case null, default -> null;
        };
    }

    /** The schema as given, for listing. */
    public Object source() {
        return source;
    }

    /**
     * A field that breaks the schema.
     *
     * @param field the field, as a JSON Pointer under {@code /data}
     * @param problem what is wrong with it
     */
    public record Violation(String field, String problem) {
        /** "field: problem". */
        public String text() {
            return field + ": " + problem;
        }
    }

    /** Null if {@code data} conforms, else its first violation. */
    public Violation validate(Object data) {
        return validate(data, "/data");
    }

    private Violation validate(Object v, String at) {
        if (type != null && !hasType(v, type)) {
            return new Violation(at, "must be " + type + ", is " + typeOf(v));
        }
        if (enumValues != null && enumValues.stream().noneMatch(e -> JsonTree.equal(e, v))) {
            return new Violation(at, "must be one of " + enumValues);
        }
        BigDecimal n = toNumber(v);
        if (n != null) {
            if (minimum != null && n.compareTo(minimum) < 0) {
                return new Violation(at, "must be >= " + minimum.toPlainString());
            }
            if (maximum != null && n.compareTo(maximum) > 0) {
                return new Violation(at, "must be <= " + maximum.toPlainString());
            }
        }
        if (maxLength != null && v instanceof String s && s.codePointCount(0, s.length()) > maxLength) {
            return new Violation(at, "longer than " + maxLength + " characters");
        }
        if (v instanceof Map<?, ?> obj) {
            for (String r : required) {
                if (!obj.containsKey(r)) {
                    return new Violation(at + "/" + r, "required field is missing");
                }
            }
            for (Map.Entry<?, ?> e : obj.entrySet()) {
                String name = String.valueOf(e.getKey());
                StreamSchema p = properties.get(name);
                if (p != null) {
                    Violation why = p.validate(e.getValue(), at + "/" + name);
                    if (why != null) {
                        return why;
                    }
                } else if (!additionalProperties) {
                    return new Violation(at + "/" + name, "field is not allowed (additionalProperties is false)");
                }
            }
        }
        return null;
    }

    private static boolean hasType(Object v, String t) {
        return switch (t) {
            case "object" -> v instanceof Map<?, ?>;
            case "array" -> v instanceof List<?>;
            case "string" -> v instanceof String;
            case "boolean" -> v instanceof Boolean;
            case "null" -> v == JsonTree.NULL || v == null;
            case "integer" ->
                v instanceof Long
                        || v instanceof BigInteger
                        || v instanceof Integer
                        || (v instanceof BigDecimal d && d.stripTrailingZeros().scale() <= 0);
            case "number" -> toNumber(v) != null;
            default -> false;
        };
    }

    private static String typeOf(Object v) {
        if (v instanceof Map<?, ?>) {
            return "object";
        } else if (v instanceof List<?>) {
            return "array";
        } else if (v instanceof String) {
            return "string";
        } else if (v instanceof Boolean) {
            return "boolean";
        } else if (toNumber(v) != null) {
            return "number";
        }
        return "null";
    }
}

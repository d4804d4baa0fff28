package dev.outpost.store.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * JSON as plain Java values, read and written with jackson-core's streaming API.
 *
 * <p>Invariants of a parsed tree: an object is a {@code LinkedHashMap<String, Object>} in document order
 * with unique member names; an array an {@code ArrayList<Object>}; a string a {@code String}; an integer a
 * {@code Long}, or a {@code BigInteger} beyond 64 bits; any other number a {@code BigDecimal} with the text's
 * digits and scale ("1.50" stays "1.50"; exponents come back in BigDecimal's form, "1e2" as "1E+2", and
 * "-0.0" loses its sign); true/false a {@code Boolean}; JSON null the sentinel {@link #NULL}, never Java
 * null, so a null member differs from a missing one. It nests at most {@link #NESTING_DEPTH_MAX} deep, and
 * {@code equal(parse(write(t)), t)} holds. {@link #write}, {@link #copy} and {@link #equal} also take trees
 * built in code with {@code Integer}, {@code Short}, {@code Byte} and finite {@code Double}/{@code Float};
 * any other value (Java null included) is a {@link JsonTreeException}.
 */
public final class JsonTree {
    /** Deepest nesting of objects and arrays; a bare scalar is depth 0, {@code []} depth 1. */
    public static final int NESTING_DEPTH_MAX = 64;

    /** JSON null: a member holding this is present, unlike a missing key (for which Map.get is Java null). */
    public static final Object NULL = Null.INSTANCE;

    private enum Null {
        INSTANCE;

        @Override
        public String toString() {
            return "null";
        }
    }

    // Member names are not interned: they come from untrusted bodies and would grow the JVM's string table.
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();

    private JsonTree() {}

    /**
     * Parses one JSON value filling {@code b[off, off+len)}, as received from outside (a request body, a message):
     * surrounding whitespace is allowed, nothing else. The text must be UTF-8 with I-JSON strings ({@link
     * JsonText}); a byte-order mark at its start is ignored (RFC 8259 §8.1), so the tree never holds one.
     */
    public static Object parse(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        int bom = JsonText.bomLength(b, off, len);
        JsonText.Fault fault = JsonText.check(b, off + bom, len - bom);
        if (fault != null) {
            throw new JsonTreeException(fault.reason() + " (byte " + (fault.offset() - off) + ")");
        }
        return parseStored(b, off + bom, len - bom);
    }

    /**
     * Parses JSON the agent wrote and stored itself (a state document, a state or fleet event, a schema in the
     * catalog): the same tree, without {@link #parse}'s input checks, so what an earlier version accepted and
     * stored (e.g. a lone surrogate escape, which {@link #write} reproduces) still reads back: a stricter rule for
     * new input must never make stored data unreadable, nor stop a start that replays it.
     */
    public static Object parseStored(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        try (JsonParser p = FACTORY.createParser(b, off, len)) {
            try {
                JsonToken first = p.nextToken();
                if (first == null) {
                    throw new JsonTreeException("empty input: expected a JSON value");
                }
                Object root = read(p, first, 0);
                JsonLocation extra;
                try {
                    if (p.nextToken() == null) {
                        return root;
                    }
                    extra = p.currentTokenLocation();
                } catch (JsonProcessingException e) {
                    extra = e.getLocation();
                }
                throw new JsonTreeException("trailing content after the JSON value" + at(extra));
            } catch (JsonProcessingException e) {
                // Caught inside the try so the parser's context still says where reading stopped.
                throw new JsonTreeException(
                        "malformed JSON at " + where(p.getParsingContext()) + at(e.getLocation()) + ": "
                                + e.getOriginalMessage(),
                        e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not expected: the source is a byte array
        }
    }

    private static Object read(JsonParser p, JsonToken t, int depth) throws IOException {
        switch (t) {
            case START_OBJECT -> {
                nest(p, depth);
                Map<String, Object> object = new LinkedHashMap<>();
                for (String name; (name = p.nextFieldName()) != null; ) {
                    // RFC 8259 only says SHOULD be unique, but a later duplicate silently winning hides
                    // mistakes (RFC 6902 A.13: {"op": "add", ..., "op": "remove"}).
                    if (object.containsKey(name)) {
                        throw new JsonTreeException("duplicate member \"" + name + "\" in "
                                + where(p.getParsingContext().getParent()) + at(p.currentTokenLocation()));
                    }
                    object.put(name, read(p, p.nextToken(), depth + 1));
                }
                return object;
            }
            case START_ARRAY -> {
                nest(p, depth);
                List<Object> array = new ArrayList<>();
                for (JsonToken e; (e = p.nextToken()) != JsonToken.END_ARRAY; ) {
                    array.add(read(p, e, depth + 1));
                }
                return array;
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_NUMBER_INT -> {
                return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? p.getBigIntegerValue()
                        : (Object) p.getLongValue();
            }
            case VALUE_NUMBER_FLOAT -> {
                return p.getDecimalValue(); // from the text, never through double
            }
            case VALUE_TRUE -> {
                return Boolean.TRUE;
            }
            case VALUE_FALSE -> {
                return Boolean.FALSE;
            }
            case VALUE_NULL -> {
                return NULL;
            }
            default -> throw new JsonTreeException("unexpected " + t + " at " + where(p.getParsingContext()));
        }
    }

    /** Fails when the container just started is one level too deep. */
    private static void nest(JsonParser p, int depth) {
        if (depth >= NESTING_DEPTH_MAX) {
            throw new JsonTreeException(
                    "JSON nests deeper than " + NESTING_DEPTH_MAX + " levels at " + where(p.getParsingContext()));
        }
    }

    private static String where(JsonStreamContext c) {
        String pointer = c == null ? "" : c.pathAsPointer().toString(); // jackson escapes ~ and / per RFC 6901
        return pointer.isEmpty() ? "the document root" : pointer;
    }

    private static String where(List<String> path) {
        return path.isEmpty() ? "the document root" : JsonPointer.format(path);
    }

    private static String at(JsonLocation l) {
        return l == null ? "" : " (line " + l.getLineNr() + ", column " + l.getColumnNr() + ")";
    }

    /** Compact JSON (UTF-8, no whitespace) for {@code tree}, members in map iteration order. */
    public static byte[] write(Object tree) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            write(g, tree, new ArrayList<>());
        } catch (JsonProcessingException e) {
            throw new JsonTreeException("cannot write JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not expected: the sink is a byte array
        }
        return out.toByteArray();
    }

    /**
     * Writes {@code tree} as the next value of {@code g}: for messages that embed a JSON value (a
     * document, a definition) in a structure written with the generator.
     */
    public static void write(JsonGenerator g, Object tree) throws IOException {
        try {
            write(g, tree, new ArrayList<>());
        } catch (JsonProcessingException e) {
            throw new JsonTreeException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static void write(JsonGenerator g, Object v, List<String> path) throws IOException {
        switch (v) {
            case Map<?, ?> m -> {
                g.writeStartObject();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    String name = key(e.getKey());
                    g.writeFieldName(name);
                    path.add(name);
                    write(g, e.getValue(), path);
                    path.removeLast();
                }
                g.writeEndObject();
            }
            case List<?> a -> {
                g.writeStartArray();
                int i = 0;
                for (Object e : a) {
                    path.add(Integer.toString(i++));
                    write(g, e, path);
                    path.removeLast();
                }
                g.writeEndArray();
            }
            case String s -> g.writeString(s);
            case Boolean b -> g.writeBoolean(b);
            case Null n -> g.writeNull();
            case BigInteger i -> g.writeNumber(i);
            case null, default -> {
                BigDecimal d = decimal(v);
                if (d == null) {
                    throw new JsonTreeException("not a JSON value at " + where(path) + ": " + kind(v));
                }
                g.writeNumber(d); // BigDecimal.toString: the parsed text's digits and scale
            }
        }
    }

    /** A deep copy: fresh maps and lists; the immutable scalars are shared. */
    public static Object copy(Object tree) {
        return switch (tree) {
            case Map<?, ?> m -> {
                Map<String, Object> out = LinkedHashMap.newLinkedHashMap(m.size());
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    out.put(key(e.getKey()), copy(e.getValue()));
                }
                yield out;
            }
            case List<?> a -> {
                List<Object> out = new ArrayList<>(a.size());
                for (Object e : a) {
                    out.add(copy(e));
                }
                yield out;
            }
            case null, default -> {
                requireJson(tree);
                yield tree;
            }
        };
    }

    /**
     * JSON equality as RFC 6902's "test" defines it: numbers by value (1, 1.0 and 1e0 are equal), strings by
     * code points, arrays element by element, objects as unordered sets of members.
     */
    public static boolean equal(Object a, Object b) {
        if (a instanceof Map<?, ?> x) {
            if (!(b instanceof Map<?, ?> y) || x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                Object other = y.get(e.getKey());
                if (other == null || !equal(e.getValue(), other)) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof List<?> x) {
            if (!(b instanceof List<?> y) || x.size() != y.size()) {
                return false;
            }
            Iterator<?> i = y.iterator();
            for (Object e : x) {
                if (!equal(e, i.next())) {
                    return false;
                }
            }
            return true;
        }
        requireJson(a);
        requireJson(b); // a is a scalar here; b may be a container, which is simply unequal
        BigDecimal da = decimal(a);
        BigDecimal db = decimal(b);
        if (da != null || db != null) {
            return da != null && db != null && da.compareTo(db) == 0;
        }
        return a.equals(b);
    }

    /** "object", "array", "string", "number", "boolean" or "null"; for messages, so it names non-JSON too. */
    static String kind(Object v) {
        return switch (v) {
            case Map<?, ?> m -> "object";
            case List<?> a -> "array";
            case String s -> "string";
            case Boolean b -> "boolean";
            case Null n -> "null";
            case null -> "Java null (use JsonTree.NULL)";
            default ->
                decimal(v) != null ? "number" : "non-JSON " + v.getClass().getName() + " " + v;
        };
    }

    /** Nesting depth: 0 for a scalar, else 1 + the deepest member. */
    static int depth(Object v) {
        int inner = 0;
        if (v instanceof Map<?, ?> m) {
            for (Object e : m.values()) {
                inner = Math.max(inner, depth(e));
            }
            return 1 + inner;
        }
        if (v instanceof List<?> a) {
            for (Object e : a) {
                inner = Math.max(inner, depth(e));
            }
            return 1 + inner;
        }
        return 0;
    }

    /** Number of values in the tree, containers and scalars alike. */
    static long size(Object v) {
        long n = 1;
        if (v instanceof Map<?, ?> m) {
            for (Object e : m.values()) {
                n += size(e);
            }
        } else if (v instanceof List<?> a) {
            for (Object e : a) {
                n += size(e);
            }
        }
        return n;
    }

    /** A member name, which must be a String. */
    static String key(Object k) {
        if (k instanceof String s) {
            return s;
        }
        throw new JsonTreeException("a member name must be a String, not " + kind(k));
    }

    /** Fails unless v is in the model (containers are checked by their own walk). */
    private static void requireJson(Object v) {
        boolean json = v instanceof String || v instanceof Boolean || v == NULL || decimal(v) != null;
        if (!json && !(v instanceof Map) && !(v instanceof List)) {
            throw new JsonTreeException("not a JSON value: " + kind(v));
        }
    }

    /** The value of a number in the model, or null for anything else (non-finite doubles included). */
    private static BigDecimal decimal(Object v) {
        return switch (v) {
            case BigDecimal d -> d;
            case BigInteger i -> new BigDecimal(i);
            case Long l -> BigDecimal.valueOf(l);
            case Integer i -> BigDecimal.valueOf(i);
            case Short s -> BigDecimal.valueOf(s);
            case Byte b -> BigDecimal.valueOf(b);
            // Through Double/Float.toString, so 0.1 is written "0.1" rather than its binary expansion.
            case Double d when Double.isFinite(d) -> new BigDecimal(d.toString());
            case Float f when Float.isFinite(f) -> new BigDecimal(f.toString());
            case null, default -> null;
        };
    }
}

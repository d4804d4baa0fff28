package dev.outpost.sync.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.store.json.JsonTree;
import dev.outpost.store.json.JsonTreeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * One JSON object of the sync protocol being read: typed access to its members, each failure a
 * {@link WireException} naming the message and the member. Also writes messages with jackson-core's
 * generator. Messages are small (the bodies that carry them are bounded by their endpoints).
 */
final class JsonMessage {
    // Member names are not interned: they come from the other end and would grow the string table.
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();

    /** Writes one message into a generator. */
    @FunctionalInterface
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private final String what;
    private final Map<?, ?> members;

    private JsonMessage(String what, Map<?, ?> members) {
        this.what = what;
        this.members = members;
    }

    /** Parses {@code b[off, off+len)} as the JSON object {@code what}. */
    static JsonMessage parse(String what, byte[] b, int off, int len) {
        Object tree;
        try {
            tree = JsonTree.parse(b, off, len);
        } catch (JsonTreeException e) {
            throw WireException.malformed("read " + what, e.getMessage());
        }
        return of(what, tree);
    }

    /**
     * Parses {@code b[off, off+len)}, JSON the agent wrote and stored itself, as the object {@code what}: without
     * {@link JsonTree#parse}'s input checks, so what an earlier version stored still reads back.
     */
    static JsonMessage parseStored(String what, byte[] b, int off, int len) {
        Object tree;
        try {
            tree = JsonTree.parseStored(b, off, len);
        } catch (JsonTreeException e) {
            throw WireException.malformed("read " + what, e.getMessage());
        }
        return of(what, tree);
    }

    /** {@code tree} (a parsed value) as the object {@code what}. */
    static JsonMessage of(String what, Object tree) {
        if (!(tree instanceof Map<?, ?> m)) {
            throw WireException.malformed("read " + what, "expected a JSON object");
        }
        return new JsonMessage(what, m);
    }

    boolean has(String name) {
        return members.containsKey(name);
    }

    /** A required member of any JSON value (JSON null is {@link JsonTree#NULL}). */
    Object value(String name) {
        Object v = members.get(name);
        if (v == null) {
            throw missing(name, "a value");
        }
        return v;
    }

    String string(String name) {
        if (members.get(name) instanceof String s) {
            return s;
        }
        throw missing(name, "a string");
    }

    /** A required whole number that fits 64 bits. */
    long longValue(String name) {
        if (members.get(name) instanceof Long l) {
            return l;
        }
        throw missing(name, "a whole number");
    }

    /** A required member that is an object itself. */
    JsonMessage object(String name) {
        if (members.get(name) instanceof Map<?, ?> m) {
            return new JsonMessage(what + "." + name, m);
        }
        throw missing(name, "an object");
    }

    /** The members, in document order (values as {@link JsonTree} parses them). */
    Map<?, ?> members() {
        return members;
    }

    private WireException missing(String name, String expected) {
        Object v = members.get(name);
        return WireException.malformed(
                "read " + what,
                "member \"" + name + "\" must be " + expected + (v == null ? ", and it is missing" : ", not " + v));
    }

    /** Compact UTF-8 JSON of one message. */
    static byte[] write(Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not expected: the sink is a byte array
        }
        return out.toByteArray();
    }

    /** A generator writing into {@code out} (the caller closes it, which flushes). */
    static JsonGenerator generator(ByteArrayOutputStream out) throws IOException {
        return FACTORY.createGenerator(out);
    }
}

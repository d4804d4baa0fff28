package dev.outpost.edge.engine;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The field paths a stream's rules read, as a tree of member names from the event object down, each path ending in a
 * slot of {@link EventFields}; and the one streaming pass that fills those slots from an event's bytes.
 *
 * <p>Design note. Reading follows the tree: a member no path names is skipped whole ({@code skipChildren}, no strings
 * decoded), and only paths' own values are copied, so the cost of an event is one tokenisation plus the fields the
 * rules use. Invariants: one slot per distinct path (rules of a stream share them); recursion is bounded by {@link
 * FieldPath#PATH_TOKENS_MAX}, since only nodes with children are descended into; a member given twice counts as its
 * last value (stored events without a schema are not checked for duplicates).
 */
final class FieldTree {
    /** Members a node finds by a scan; a scan of a few cached hashes beats a hash map's lookup. */
    private static final int SCAN_MEMBERS_MAX = 16;

    /** A path's step. Members are few (the fields rules name), so they are found by a scan over cached hashes. */
    private static final class Node {
        int slot = -1;
        boolean keepText;
        String[] names = new String[0];
        int[] hashes = new int[0];
        Node[] members = new Node[0];
        Node[] indexes;

        /** Beyond {@link #SCAN_MEMBERS_MAX} members, a hash map (a stream whose rules name many fields). */
        Map<String, Node> byName;

        /** The member of that name, or null. The parser's names are canonical instances, so hashCode is cached. */
        Node member(String name) {
            if (byName != null) {
                return byName.get(name);
            }
            int h = name.hashCode();
            for (int i = 0; i < names.length; i++) {
                if (hashes[i] == h && names[i].equals(name)) {
                    return members[i];
                }
            }
            return null;
        }

        Node add(String name) {
            int n = names.length;
            names = Arrays.copyOf(names, n + 1);
            hashes = Arrays.copyOf(hashes, n + 1);
            members = Arrays.copyOf(members, n + 1);
            names[n] = name;
            hashes[n] = name.hashCode();
            members[n] = new Node();
            if (n + 1 > SCAN_MEMBERS_MAX) {
                byName = new HashMap<>();
                for (int i = 0; i <= n; i++) {
                    byName.put(names[i], members[i]);
                }
            }
            return members[n];
        }
    }

    private final Node root = new Node();
    private int slots;

    /** The slot of a path, added if new; {@code keepText} also keeps a number's JSON text (for group keys). */
    int slot(FieldPath path, boolean keepText) {
        Node n = root;
        for (String token : path.tokens()) {
            Node next = n.member(token);
            if (next == null) {
                next = n.add(token);
                int index = FieldPath.index(token);
                if (index >= 0) {
                    if (n.indexes == null || n.indexes.length <= index) {
                        Node[] grown = new Node[index + 1];
                        if (n.indexes != null) {
                            System.arraycopy(n.indexes, 0, grown, 0, n.indexes.length);
                        }
                        n.indexes = grown;
                    }
                    n.indexes[index] = next;
                }
            }
            n = next;
        }
        if (n.slot < 0) {
            n.slot = slots++;
        }
        n.keepText |= keepText;
        return n.slot;
    }

    /** Slots in use. */
    int slots() {
        return slots;
    }

    /** Reads one event object from the parser into {@code f} (cleared by the caller). */
    void read(JsonParser p, EventFields f) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw new JsonParseException(p, "a stored event must be a JSON object");
        }
        readObject(p, root, f);
    }

    private static void readObject(JsonParser p, Node node, EventFields f) throws IOException {
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            Node child = node.member(p.currentName());
            JsonToken v = p.nextToken();
            if (child != null) {
                value(p, v, child, f);
            } else if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
                p.skipChildren();
            } else if (v == JsonToken.NOT_AVAILABLE) {
                throw truncated(p);
            }
        }
        if (t != JsonToken.END_OBJECT) {
            throw truncated(p);
        }
    }

    private static void readArray(JsonParser p, Node node, EventFields f) throws IOException {
        JsonToken v;
        for (int i = 0; (v = p.nextToken()) != JsonToken.END_ARRAY; i++) {
            Node child = i < node.indexes.length ? node.indexes[i] : null;
            if (child != null) {
                value(p, v, child, f);
            } else if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
                p.skipChildren();
            } else if (v == JsonToken.NOT_AVAILABLE || v == null) {
                throw truncated(p);
            }
        }
    }

    private static JsonParseException truncated(JsonParser p) {
        return new JsonParseException(p, "the stored event ends inside a value");
    }

    private static void value(JsonParser p, JsonToken v, Node n, EventFields f) throws IOException {
        if (n.slot >= 0) {
            keep(p, v, n, f);
        }
        if (v == JsonToken.START_OBJECT) {
            if (n.members.length > 0) {
                readObject(p, n, f);
            } else {
                p.skipChildren();
            }
        } else if (v == JsonToken.START_ARRAY) {
            if (n.indexes != null) {
                readArray(p, n, f);
            } else {
                p.skipChildren();
            }
        }
    }

    private static void keep(JsonParser p, JsonToken v, Node n, EventFields f) throws IOException {
        int s = n.slot;
        switch (v) {
            case VALUE_STRING ->
                f.string(s, EventFields.STRING, p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
            case VALUE_NUMBER_INT -> {
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    number(p, n, f, EventFields.DOUBLE); // beyond 64 bits: compared as the nearest double
                    f.doubles[s] = p.getDoubleValue();
                } else {
                    number(p, n, f, EventFields.LONG);
                    f.longs[s] = p.getLongValue();
                }
            }
            case VALUE_NUMBER_FLOAT -> {
                number(p, n, f, EventFields.DOUBLE);
                double d = exactDecimal(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
                // jackson-core parses a double from a String it creates; the fast path above covers usual telemetry.
                f.doubles[s] = Double.isNaN(d) ? p.getDoubleValue() : d;
            }
            case VALUE_TRUE -> f.kinds[s] = EventFields.TRUE;
            case VALUE_FALSE -> f.kinds[s] = EventFields.FALSE;
            case VALUE_NULL -> f.kinds[s] = EventFields.NULL;
            case START_OBJECT -> f.kinds[s] = EventFields.OBJECT;
            case START_ARRAY -> f.kinds[s] = EventFields.ARRAY;
            default -> throw truncated(p);
        }
    }

    /** Most significant digits for {@link #exactDecimal}: below 2^53, so the digits are exact in a double. */
    private static final int EXACT_DIGITS_MAX = 15;

    /** Powers of ten exact in a double: 10^0 to 10^22. */
    private static final double[] POWERS_OF_TEN = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22
    };

    /**
     * The double nearest a JSON number's text without creating a String, or NaN when it is not on Clinger's fast path:
     * at most {@link #EXACT_DIGITS_MAX} significant digits and a power of ten within 10^22, where the digits and the
     * power are both exact doubles and one IEEE multiplication or division rounds correctly (what Double.parseDouble
     * returns). The text is a number jackson-core has already checked.
     */
    static double exactDecimal(char[] c, int off, int len) {
        int i = off;
        int end = off + len;
        boolean negative = c[i] == '-';
        long digits = 0;
        int significant = 0;
        int scale = 0;
        boolean point = false;
        for (i = negative ? i + 1 : i; i < end && c[i] != 'e' && c[i] != 'E'; i++) {
            if (c[i] == '.') {
                point = true;
                continue;
            }
            if ((significant > 0 || c[i] != '0') && ++significant > EXACT_DIGITS_MAX) {
                return Double.NaN;
            }
            digits = digits * 10 + (c[i] - '0');
            scale += point ? 1 : 0;
        }
        int exponent = 0;
        if (i < end) {
            boolean negativeExponent = c[++i] == '-';
            i += c[i] == '-' || c[i] == '+' ? 1 : 0;
            if (end - i > 3) {
                return Double.NaN;
            }
            for (; i < end; i++) {
                exponent = exponent * 10 + (c[i] - '0');
            }
            exponent = negativeExponent ? -exponent : exponent;
        }
        int power = exponent - scale;
        if (power < -22 || power > 22) {
            return Double.NaN;
        }
        double v = power >= 0 ? digits * POWERS_OF_TEN[power] : digits / POWERS_OF_TEN[-power];
        return negative ? -v : v;
    }

    private static void number(JsonParser p, Node n, EventFields f, byte kind) throws IOException {
        if (n.keepText) {
            f.string(n.slot, kind, p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
        } else {
            f.kinds[n.slot] = kind;
        }
    }
}

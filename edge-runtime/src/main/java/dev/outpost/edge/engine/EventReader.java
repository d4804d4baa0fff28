package dev.outpost.edge.engine;

import dev.outpost.edge.engine.FieldTree.Node;
import dev.outpost.edge.engine.JsonScanner.Unreadable;

/**
 * Reads the fields a {@link FieldTree} names from one stored event's UTF-8 bytes into {@link EventFields} slots.
 *
 * <p>Design note. Hand-written rather than jackson-core because jackson's tokenizer alone was the measured floor of
 * rule evaluation, below the 2 M events/s target (docs/DECISIONS.md, "Rules"). The walk follows the tree: a member no
 * path names is skipped byte-wise by {@link JsonScanner} (checked, never decoded), and only the named paths' values
 * are decoded (strings with their escapes, numbers by {@link NumberText}). Invariants: an event that is not exactly one
 * well-formed JSON object (whitespace around it allowed) makes {@link #read} return false, whatever its bytes, and
 * then the slots mean nothing; a member given twice counts as its last value, as with jackson before; the recursion is
 * bounded by the tree's depth ({@link FieldPath#PATH_TOKENS_MAX}), skipped values are skipped iteratively. What it reads
 * is what jackson-core reads, and where jackson is lax (a byte order mark, bytes after the object, malformed UTF-8 in a
 * name written with escapes) it refuses (EventReaderModelTest). Reused event after event by one evaluator, allocating
 * nothing after its buffers grew to the longest string kept: not thread-safe.
 */
final class EventReader {
    private final JsonScanner scanner = new JsonScanner(EventFields.STRING_CHARS_MAX + 1);
    private final NumberText number = new NumberText();
    private EventFields fields;

    /**
     * Reads the event in {@code json[off, off + len)} into {@code f}, whose slots the caller cleared. Returns false
     * when the bytes are not one well-formed JSON object.
     */
    boolean read(FieldTree tree, byte[] json, int off, int len, EventFields f) {
        JsonScanner s = scanner;
        s.reset(json, off, len);
        fields = f;
        try {
            s.skipWhitespace();
            s.expect((byte) '{');
            readObject(tree.root(), 1);
            s.skipWhitespace();
            return s.pos == s.end;
        } catch (Unreadable e) {
            return false;
        } finally {
            s.b = null; // the event's buffer belongs to the caller
            fields = null;
        }
    }

    /** The members of an object whose '{' was read, at nesting {@code depth}. */
    private void readObject(Node node, int depth) throws Unreadable {
        JsonScanner s = scanner;
        s.skipWhitespace();
        if (s.take((byte) '}')) {
            return;
        }
        for (; ; ) {
            s.expect((byte) '"');
            int start = s.pos;
            Node child;
            int known = node.matchAt(s.b, start, s.end);
            if (known >= 0) {
                child = node.members[known]; // most members of an object a path descends into are named by paths
                s.pos = start + node.raw[known].length + 1;
            } else if (!s.skipString()) {
                child = node.member(s.b, start, s.pos - 1 - start);
            } else {
                s.pos = start; // a name written with escapes: decoded, then matched by its chars
                s.text = s.decodeString(s.text);
                child = node.member(s.text, s.textLength);
            }
            s.colon();
            if (element(child, depth, (byte) '}')) {
                return;
            }
        }
    }

    /** The elements of an array whose '[' was read, at nesting {@code depth}; only indexes a path names are read. */
    private void readArray(Node node, int depth) throws Unreadable {
        JsonScanner s = scanner;
        s.skipWhitespace();
        if (s.take((byte) ']')) {
            return;
        }
        Node[] indexes = node.indexes;
        for (int i = 0; ; i++) {
            if (element(i < indexes.length ? indexes[i] : null, depth, (byte) ']')) {
                return;
            }
        }
    }

    /**
     * A member's or element's value — read when a path names it ({@code child}), else skipped — and what follows it:
     * true when that is the container's {@code close}, false after a ',' (and the whitespace after it).
     */
    private boolean element(Node child, int depth, byte close) throws Unreadable {
        JsonScanner s = scanner;
        if (child == null) {
            s.skipValue(depth);
        } else {
            value(child, depth);
        }
        s.skipWhitespace();
        byte c = s.next();
        if (c == close) {
            return true;
        }
        if (c != ',') {
            throw JsonScanner.UNREADABLE;
        }
        s.skipWhitespace();
        return false;
    }

    /** A value a path names (in its slot, if the node has one) or passes through, held by a container at {@code depth}. */
    private void value(Node n, int depth) throws Unreadable {
        JsonScanner s = scanner;
        EventFields f = fields;
        int slot = n.slot;
        byte c = s.next();
        switch (c) {
            case '"' -> {
                if (slot < 0) {
                    s.skipString();
                } else {
                    f.chars[slot] = s.decodeString(f.chars[slot]); // in place: the slot's buffer grows if needed
                    f.kinds[slot] = EventFields.STRING;
                    f.lengths[slot] = s.textLength;
                }
            }
            case '{' -> {
                JsonScanner.checkDepth(depth + 1);
                kind(f, slot, EventFields.OBJECT);
                if (n.members.length > 0) {
                    readObject(n, depth + 1);
                } else {
                    s.skipContainer(c, depth + 1);
                }
            }
            case '[' -> {
                JsonScanner.checkDepth(depth + 1);
                kind(f, slot, EventFields.ARRAY);
                if (n.indexes != null) {
                    readArray(n, depth + 1);
                } else {
                    s.skipContainer(c, depth + 1);
                }
            }
            case 't' -> literal(s, f, slot, c, EventFields.TRUE);
            case 'f' -> literal(s, f, slot, c, EventFields.FALSE);
            case 'n' -> literal(s, f, slot, c, EventFields.NULL);
            default -> {
                if (slot < 0) {
                    s.skipNumber(c);
                } else {
                    number(n, f, s);
                }
            }
        }
    }

    private static void kind(EventFields f, int slot, byte kind) {
        if (slot >= 0) {
            f.kinds[slot] = kind;
        }
    }

    private static void literal(JsonScanner s, EventFields f, int slot, byte first, byte kind) throws Unreadable {
        s.literal(first);
        kind(f, slot, kind);
    }

    /** A number whose first byte was read, into the node's slot. */
    private void number(Node n, EventFields f, JsonScanner s) throws Unreadable {
        NumberText t = number;
        if (!t.read(s.b, s.pos - 1, s.end)) {
            throw JsonScanner.UNREADABLE;
        }
        s.pos = t.end;
        int slot = n.slot;
        if (n.keepText) {
            // jackson-core gave -0 the text 0, and a group key of -0 apart from 0's would split one value in two.
            int from = t.kind == EventFields.LONG && t.longValue == 0 && s.b[t.start] == '-' ? t.start + 1 : t.start;
            f.ascii(slot, t.kind, s.b, from, t.end - from);
        } else {
            f.kinds[slot] = t.kind;
        }
        if (t.kind == EventFields.LONG) {
            f.longs[slot] = t.longValue;
        } else {
            f.doubles[slot] = t.doubleValue;
        }
    }
}

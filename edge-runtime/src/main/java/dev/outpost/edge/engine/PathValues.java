package dev.outpost.edge.engine;

import java.util.List;

/**
 * The scalar values at a fixed set of field paths of stored events, read by the engine's {@link EventReader}: what the
 * rollups group by and aggregate, read with the same validating scanner as the rules rather than a jackson parser per
 * event.
 *
 * <p>Design note. One slot per path, in the order given; after {@link #read} a slot holds the text of a string or
 * number (a number's JSON text), {@code true} or {@code false}, and for a number its value as a double; JSON null, an
 * object, an array or a missing member leave it empty (no text, NaN). Invariants: an event that is not one well-formed
 * JSON object reads as false with every slot empty; a string longer than {@link EventFields#STRING_CHARS_MAX} chars
 * has no text (no group key); not thread-safe, reused event after event (only {@link #text} allocates; {@link #textHash} and {@link #textEquals} let a caller look a text up without it).
 */
public final class PathValues {
    private static final int TRUE_HASH = "true".hashCode();
    private static final int FALSE_HASH = "false".hashCode();

    private final FieldTree tree = new FieldTree();
    private final int[] slots;
    private final EventFields fields;
    private final EventReader reader = new EventReader();
    private boolean read;

    /** A reader of these paths, each given as its tokens from the event object down (member names, array indexes). */
    public PathValues(List<List<String>> paths) {
        slots = new int[paths.size()];
        for (int i = 0; i < slots.length; i++) {
            List<String> tokens = paths.get(i);
            slots[i] = tree.slot(new FieldPath(String.join("/", tokens), List.copyOf(tokens)), true);
        }
        fields = new EventFields(tree.slots(), 0);
    }

    /** Reads one stored event in {@code json[off, off + len)}; false (every slot empty) when it is unreadable. */
    public boolean read(byte[] json, int off, int len) {
        fields.clear(tree.slots());
        read = reader.read(tree, json, off, len, fields);
        return read;
    }

    /** The text of path {@code i}'s value after {@link #read}, or null. */
    public String text(int i) {
        if (!read) {
            return null;
        }
        int s = slots[i];
        return switch (fields.kinds[s]) {
            case EventFields.STRING, EventFields.LONG, EventFields.DOUBLE -> fields.groupKey(s);
            case EventFields.TRUE -> "true";
            case EventFields.FALSE -> "false";
            default -> null;
        };
    }

    /** {@code Objects.hashCode(text(i))}, without creating the text. */
    public int textHash(int i) {
        if (!read) {
            return 0;
        }
        int s = slots[i];
        return switch (fields.kinds[s]) {
            case EventFields.STRING, EventFields.LONG, EventFields.DOUBLE ->
                fields.lengths[s] <= EventFields.STRING_CHARS_MAX ? fields.stringHash(s) : 0;
            case EventFields.TRUE -> TRUE_HASH;
            case EventFields.FALSE -> FALSE_HASH;
            default -> 0;
        };
    }

    /** {@code Objects.equals(text(i), other)}, without creating the text. */
    public boolean textEquals(int i, String other) {
        if (!read) {
            return other == null;
        }
        int s = slots[i];
        return switch (fields.kinds[s]) {
            case EventFields.STRING, EventFields.LONG, EventFields.DOUBLE ->
                fields.lengths[s] <= EventFields.STRING_CHARS_MAX ? sameChars(s, other) : other == null;
            case EventFields.TRUE -> "true".equals(other);
            case EventFields.FALSE -> "false".equals(other);
            default -> other == null;
        };
    }

    private boolean sameChars(int s, String other) {
        int n = fields.lengths[s];
        if (other == null || other.length() != n) {
            return false;
        }
        char[] c = fields.chars[s];
        for (int k = 0; k < n; k++) {
            if (c[k] != other.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** The finite number at path {@code i} after {@link #read}, or NaN. */
    public double number(int i) {
        if (!read) {
            return Double.NaN;
        }
        int s = slots[i];
        double v = switch (fields.kinds[s]) {
            case EventFields.LONG -> fields.longs[s];
            case EventFields.DOUBLE -> fields.doubles[s];
            default -> Double.NaN;
        };
        return Double.isFinite(v) ? v : Double.NaN;
    }
}

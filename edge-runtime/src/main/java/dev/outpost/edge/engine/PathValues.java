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
 * has no text (no group key); not thread-safe, reused event after event (only {@link #text} allocates; {@link
 * #textHash} and {@link #textEquals} let a caller look a text up without it).
 *
 * <p>A reader of its own ({@link #PathValues(List)}), or a view of what an {@link Evaluator} read for its rules ({@link
 * Evaluator#alsoRead}): then the rules and the rollups of a stream share one pass over each event, and {@link #paths}
 * tells a consumer which paths, in which order, the view's slots hold.
 */
public final class PathValues {
    private static final int TRUE_HASH = "true".hashCode();
    private static final int FALSE_HASH = "false".hashCode();

    private final List<List<String>> paths;
    private final int[] slots;
    private final FieldTree tree; // null for a view
    private final EventReader reader;
    private EventFields fields;
    private boolean read;

    /** A reader of these paths, each given as its tokens from the event object down (member names, array indexes). */
    public PathValues(List<List<String>> paths) {
        this.paths = paths;
        this.tree = new FieldTree();
        this.reader = new EventReader();
        this.slots = slots(tree, paths);
        this.fields = new EventFields(tree.slots(), 0);
    }

    /** A view of {@code paths} in {@code tree}'s slots (added to it, keeping their text), filled by an evaluator. */
    PathValues(List<List<String>> paths, FieldTree tree) {
        this.paths = paths;
        this.tree = null;
        this.reader = null;
        this.slots = slots(tree, paths);
    }

    private static int[] slots(FieldTree tree, List<List<String>> paths) {
        int[] slots = new int[paths.size()];
        for (int i = 0; i < slots.length; i++) {
            List<String> tokens = paths.get(i);
            slots[i] = tree.slot(new FieldPath(String.join("/", tokens), List.copyOf(tokens)), true);
        }
        return slots;
    }

    /** The paths whose values the slots hold, in order: the list given at construction (compare by identity). */
    public List<List<String>> paths() {
        return paths;
    }

    /** Reads one stored event in {@code json[off, off + len)}; false (every slot empty) when it is unreadable. */
    public boolean read(byte[] json, int off, int len) {
        if (tree == null) {
            throw new IllegalStateException("a view is filled by its evaluator");
        }
        fields.clear(tree.slots());
        read = reader.read(tree, json, off, len, fields);
        return read;
    }

    /** For a view: the evaluator read an event into {@code f} (or found it unreadable). */
    void filled(EventFields f, boolean readable) {
        fields = f;
        read = readable;
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

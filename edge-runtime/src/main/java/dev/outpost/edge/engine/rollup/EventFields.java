package dev.outpost.edge.engine.rollup;

import dev.outpost.edge.engine.PathValues;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the fields the rollups of one stream need from a stored event, in one pass with the engine's scanner ({@link
 * PathValues}, the rules' reader): only members on a declared path are decoded, everything else is skipped without
 * decoding, and nothing is created per event but the texts asked for. Each field gets a slot; after {@link #read} a slot
 * holds the scalar's text (a string's value, a number's JSON text, {@code true}/{@code false}) and, for a finite
 * number, its value. A missing member, JSON null, an object or an array leaves the slot empty (text null, number NaN).
 *
 * <p>Slot 0 is always the event's {@code ts}. Not thread-safe: one instance per stream, used by the engine
 * thread, its slots reused for every event.
 */
final class EventFields {
    /** The slot of the event's {@code ts}. */
    static final int TS = 0;

    private final Map<String, Integer> slots = new LinkedHashMap<>();
    private final List<List<String>> paths;
    private final PathValues own;
    private PathValues values;

    /** A reader of {@code ts} and of {@code fields} (declared forms; duplicates share a slot). */
    EventFields(List<String> fields) {
        Map<List<String>, Integer> byTokens = new LinkedHashMap<>();
        List<String> all = new ArrayList<>();
        all.add("/ts");
        all.addAll(fields);
        for (String declared : all) {
            if (!slots.containsKey(declared)) {
                List<String> tokens = FieldPath.parse(declared).tokens();
                Integer slot = byTokens.computeIfAbsent(tokens, t -> byTokens.size());
                slots.put(declared, slot);
            }
        }
        paths = List.copyOf(byTokens.keySet());
        own = new PathValues(paths);
        values = own;
    }

    /** The paths read, in slot order (what an evaluator reading them for this stream is asked for). */
    List<List<String>> paths() {
        return paths;
    }

    /** The slot of a field as declared. */
    int slot(String declared) {
        Integer s = slots.get(declared);
        if (s == null) {
            throw new IllegalArgumentException("no slot for " + declared);
        }
        return s;
    }

    /** Reads one event; false (and every slot empty) if it is not one JSON object. */
    boolean read(byte[] json, int off, int len) {
        // Stored events were validated at ingest; one that still does not read is skipped, not fatal.
        values = own;
        return own.read(json, off, len);
    }

    /**
     * Takes the event from {@code read}, values of {@link #paths} another pass read (the rules'), if they are those
     * paths (compared by identity: a reader made before a change of the rollups is refused); else returns false and
     * the caller reads the event itself.
     */
    boolean adopt(PathValues read) {
        if (read == null || read.paths() != paths) {
            return false;
        }
        values = read;
        return true;
    }

    /** The text of a slot after {@link #read}, or null. */
    String text(int slot) {
        return values.text(slot);
    }

    /** {@code Objects.hashCode(text(slot))}, without creating the text. */
    int textHash(int slot) {
        return values.textHash(slot);
    }

    /** {@code Objects.equals(text(slot), other)}, without creating the text. */
    boolean textEquals(int slot, String other) {
        return values.textEquals(slot, other);
    }

    /** The finite number in a slot after {@link #read}, or NaN. */
    double number(int slot) {
        return values.number(slot);
    }

    /**
     * The event time: {@code ts} as epoch milliseconds, or as an ISO-8601 date-time with offset (the parser
     * stores an event as received), else {@code ingestMillis}.
     */
    long eventMillis(long ingestMillis) {
        double ts = number(TS);
        if (!Double.isNaN(ts)) {
            return ts >= 0 && ts == Math.rint(ts) ? (long) ts : ingestMillis;
        }
        String iso = text(TS);
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

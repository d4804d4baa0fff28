package dev.outpost.edge.live;

import dev.outpost.edge.engine.EventFilter;
import dev.outpost.edge.engine.RuleRefusal;
import dev.outpost.edge.ingest.EventParser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which events a subscriber wants: of some streams (or all), with a key, and meeting rule conditions ({@code where},
 * docs/RULES.md). Invariants: immutable but for the compiled conditions, which only one feed's thread runs (another
 * feed gets a {@link #copy}).
 */
public final class TailFilter {
    /** Most streams one subscription names. */
    public static final int STREAMS_MAX = 64;

    private final Set<String> streams;
    private final EventFilter conditions;
    /** What the filter was made of, to make another for another thread ({@link #copy}). */
    private final List<String> streamList;

    private final String key;
    private final Object where;

    private TailFilter(Set<String> streams, EventFilter conditions, List<String> streamList, String key, Object where) {
        this.streams = streams;
        this.conditions = conditions;
        this.streamList = streamList;
        this.key = key;
        this.where = where;
    }

    /** Every event. */
    public static TailFilter all() {
        return new TailFilter(null, null, List.of(), null, null);
    }

    /** The same filter with conditions of its own, for another feed's thread. */
    public TailFilter copy() {
        return of(streamList, key, where);
    }

    /**
     * A filter; TailRefusal naming the parameter at fault.
     *
     * @param streams stream names (empty: all streams)
     * @param key the event key to match exactly, or null
     * @param where a condition or a list of conditions as JSON trees (maps, lists, scalars), or null
     */
    public static TailFilter of(List<String> streams, String key, Object where) {
        if (streams.size() > STREAMS_MAX) {
            throw new TailRefusal("stream", "at most " + STREAMS_MAX + " streams per subscription");
        }
        for (String s : streams) {
            if (s.length() > EventParser.STREAM_CHARS_MAX || !EventParser.validName(s)) {
                throw new TailRefusal("stream", "'" + s + "' is not a stream name (1-128 of A-Z a-z 0-9 . _ -)");
            }
        }
        if (key != null && key.length() > EventParser.KEY_CHARS_MAX) {
            throw new TailRefusal("key", "a key is at most " + EventParser.KEY_CHARS_MAX + " characters");
        }
        List<Object> conditions = new ArrayList<>();
        if (where instanceof List<?> l) {
            conditions.addAll(l);
        } else if (where != null) {
            conditions.add(where);
        }
        if (key != null) {
            Map<String, Object> byKey = new LinkedHashMap<>();
            byKey.put("field", "/key");
            byKey.put("op", "eq");
            byKey.put("value", key);
            conditions.add(byKey);
        }
        try {
            EventFilter compiled = conditions.isEmpty() ? null : EventFilter.compile(conditions);
            return new TailFilter(
                    streams.isEmpty() ? null : Set.copyOf(streams), compiled, List.copyOf(streams), key, where);
        } catch (RuleRefusal e) {
            throw new TailRefusal("where", e.getMessage());
        }
    }

    /** The streams wanted, or null for all. */
    Set<String> streams() {
        return streams;
    }

    /** True if the round's event {@code i}, of one of {@link #streams()}, meets the conditions (feed thread only). */
    boolean meets(Round round, int i) {
        return conditions == null || conditions.test(round.payloads(), round.payloadOffset(i), round.payloadLength(i));
    }
}

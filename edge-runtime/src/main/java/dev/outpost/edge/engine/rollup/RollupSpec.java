package dev.outpost.edge.engine.rollup;

import dev.outpost.edge.ingest.EventParser;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A rollup as declared: a YAML {@code rollups:} entry or a {@code PUT /v1/rollups/{name}} body.
 *
 * <pre>
 * rollups:
 *   bytes_by_source:
 *     stream: traffic
 *     group_by: [source_ip]          # optional; dotted under data, or a JSON Pointer (/key)
 *     window: 1h                     # 30s, 1m, 5m, 1h, 1d, 1500ms, or integer milliseconds
 *     aggregates: [count, sum(bytes_transferred), p99(bytes_transferred)]
 *     allowed_lateness: 5m           # optional, default 0
 *     retention: 30d                 # optional, default 7d: older windows (by event time) are deleted
 * </pre>
 *
 * <p>Invariants (checked on construction, so a spec built in code holds them too): the name matches {@link
 * #NAME}; the window is {@link #WINDOW_MILLIS_MIN}..{@link #WINDOW_MILLIS_MAX}; the allowed lateness is
 * 0..{@link #ALLOWED_LATENESS_MILLIS_MAX}; the retention is at least window + allowed lateness (a window is
 * never deleted while it can change) and at most {@link #RETENTION_MILLIS_MAX}; at most {@link #GROUP_BY_FIELDS_MAX} distinct group-by fields and
 * 1..{@link #AGGREGATES_MAX} distinct aggregates; {@code parse(name, toTree())} equals the spec. Unknown keys
 * are refused, so a typo is not silently a default.
 */
public record RollupSpec(
        String name,
        String stream,
        List<String> groupBy,
        long windowMillis,
        List<Aggregate> aggregates,
        long allowedLatenessMillis,
        long retentionMillis) {
    /** What a rollup's name may be: it appears in URL paths. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    /** Shortest window: 1 s. */
    public static final long WINDOW_MILLIS_MIN = 1_000;
    /** Longest window: 1 d. */
    public static final long WINDOW_MILLIS_MAX = 86_400_000;
    /** Longest allowed lateness: 7 d (open windows are kept, in memory or on disk, this long). */
    public static final long ALLOWED_LATENESS_MILLIS_MAX = 7 * 86_400_000L;
    /** The retention when none is declared: 7 d (or window + allowed lateness, if longer). */
    public static final long RETENTION_MILLIS_DEFAULT = 7 * 86_400_000L;
    /** Longest retention: 3650 d. */
    public static final long RETENTION_MILLIS_MAX = 3_650 * 86_400_000L;
    /** Most group-by fields. */
    public static final int GROUP_BY_FIELDS_MAX = 4;
    /** Most aggregates. */
    public static final int AGGREGATES_MAX = 16;

    static final List<String> KEYS =
            List.of("stream", "group_by", "window", "aggregates", "allowed_lateness", "retention");

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");
    private static final Map<String, Long> UNIT_MILLIS =
            Map.of("ms", 1L, "s", 1_000L, "m", 60_000L, "h", 3_600_000L, "d", 86_400_000L);
    private static final List<String> UNITS_LARGEST_FIRST = List.of("d", "h", "m", "s", "ms");

    public RollupSpec {
        check(name != null && NAME.matcher(name).matches(), name, null, "a rollup name must match " + NAME);
        check(
                stream != null && !stream.isEmpty() && stream.length() <= EventParser.STREAM_CHARS_MAX,
                name,
                "stream",
                "stream must be a stream name of 1 to " + EventParser.STREAM_CHARS_MAX + " characters");
        groupBy = List.copyOf(groupBy);
        aggregates = List.copyOf(aggregates);
        check(groupBy.size() <= GROUP_BY_FIELDS_MAX, name, "group_by", "at most " + GROUP_BY_FIELDS_MAX + " fields");
        check(new HashSet<>(groupBy).size() == groupBy.size(), name, "group_by", "a field is named twice");
        for (int i = 0; i < groupBy.size(); i++) {
            try {
                FieldPath.parse(groupBy.get(i));
            } catch (IllegalArgumentException e) {
                throw new RollupRefusal(name, "group_by[" + i + "]", e.getMessage());
            }
        }
        check(
                windowMillis >= WINDOW_MILLIS_MIN && windowMillis <= WINDOW_MILLIS_MAX,
                name,
                "window",
                "the window must be 1s to 1d, not " + windowMillis + " ms");
        check(
                allowedLatenessMillis >= 0 && allowedLatenessMillis <= ALLOWED_LATENESS_MILLIS_MAX,
                name,
                "allowed_lateness",
                "the allowed lateness must be 0 to 7d, not " + allowedLatenessMillis + " ms");
        check(
                !aggregates.isEmpty() && aggregates.size() <= AGGREGATES_MAX,
                name,
                "aggregates",
                "declare 1 to " + AGGREGATES_MAX + " aggregates");
        check(new HashSet<>(aggregates).size() == aggregates.size(), name, "aggregates", "an aggregate is named twice");
        check(
                retentionMillis >= windowMillis + allowedLatenessMillis && retentionMillis <= RETENTION_MILLIS_MAX,
                name,
                "retention",
                "the retention must be at least window + allowed lateness ("
                        + duration(windowMillis + allowedLatenessMillis) + ") and at most 3650d, not "
                        + retentionMillis + " ms");
    }

    /** A spec with the default retention. */
    public RollupSpec(
            String name,
            String stream,
            List<String> groupBy,
            long windowMillis,
            List<Aggregate> aggregates,
            long allowedLatenessMillis) {
        this(
                name,
                stream,
                groupBy,
                windowMillis,
                aggregates,
                allowedLatenessMillis,
                defaultRetention(windowMillis, allowedLatenessMillis));
    }

    private static long defaultRetention(long windowMillis, long allowedLatenessMillis) {
        return Math.max(RETENTION_MILLIS_DEFAULT, windowMillis + allowedLatenessMillis);
    }

    /**
     * Parses a declaration from a JSON or YAML tree (Map/List/String/Number/Boolean as SnakeYAML or {@code
     * JsonTree} make them).
     *
     * @throws RollupRefusal naming the rollup and the key at fault
     */
    public static RollupSpec parse(String name, Object tree) {
        if (!(tree instanceof Map<?, ?> map)) {
            throw new RollupRefusal(name, null, "a rollup must be an object with " + String.join(", ", KEYS));
        }
        for (Object key : map.keySet()) {
            check(
                    KEYS.contains(String.valueOf(key)),
                    name,
                    String.valueOf(key),
                    "unknown key; a rollup has " + String.join(", ", KEYS));
        }
        Object stream = map.get("stream");
        check(stream instanceof String, name, "stream", "stream is required and must be a string");
        Object window = map.get("window");
        check(window != null, name, "window", "window is required, e.g. 1m or 1h");
        long windowMillis = millis(name, "window", window);
        Object lateness = map.get("allowed_lateness");
        long latenessMillis = lateness == null ? 0 : millis(name, "allowed_lateness", lateness);
        Object retention = map.get("retention");
        return new RollupSpec(
                name,
                (String) stream,
                groupBy(name, map.get("group_by")),
                windowMillis,
                aggregates(name, map.get("aggregates")),
                latenessMillis,
                retention == null
                        ? defaultRetention(windowMillis, latenessMillis)
                        : millis(name, "retention", retention));
    }

    /** The declaration as a tree, in canonical form (durations in their largest exact unit). */
    public Map<String, Object> toTree() {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("stream", stream);
        tree.put("group_by", new ArrayList<>(groupBy));
        tree.put("window", duration(windowMillis));
        tree.put(
                "aggregates",
                new ArrayList<>(aggregates.stream().map(Aggregate::label).toList()));
        tree.put("allowed_lateness", duration(allowedLatenessMillis));
        tree.put("retention", duration(retentionMillis));
        return tree;
    }

    /** Whether rows built under {@code other} are rows of this spec too (only lateness and retention differ). */
    boolean sameRows(RollupSpec other) {
        return stream.equals(other.stream)
                && groupBy.equals(other.groupBy)
                && windowMillis == other.windowMillis
                && aggregates.equals(other.aggregates);
    }

    /** {@code 1h}, {@code 90s}, {@code 1500ms}: the largest unit that divides exactly. */
    static String duration(long millis) {
        for (String unit : UNITS_LARGEST_FIRST) {
            long m = UNIT_MILLIS.get(unit);
            if (millis % m == 0 && (millis != 0 || unit.equals("s"))) {
                return millis / m + unit;
            }
        }
        throw new AssertionError("ms divides every duration");
    }

    private static List<String> groupBy(String name, Object value) {
        if (value == null) {
            return List.of();
        }
        List<?> list = value instanceof List<?> l ? l : List.of(value);
        List<String> fields = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            check(list.get(i) instanceof String, name, "group_by[" + i + "]", "a group-by field must be a string");
            fields.add((String) list.get(i));
        }
        return fields;
    }

    private static List<Aggregate> aggregates(String name, Object value) {
        check(value != null, name, "aggregates", "aggregates is required, e.g. [count, sum(bytes)]");
        List<?> list = value instanceof List<?> l ? l : List.of(value);
        List<Aggregate> aggregates = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String key = "aggregates[" + i + "]";
            check(list.get(i) instanceof String, name, key, "an aggregate is a string such as sum(bytes)");
            try {
                aggregates.addAll(Aggregate.parse((String) list.get(i)));
            } catch (IllegalArgumentException e) {
                throw new RollupRefusal(name, key, e.getMessage());
            }
        }
        return aggregates;
    }

    private static long millis(String name, String key, Object value) {
        if (value instanceof Number n) {
            check(
                    n instanceof Long || n instanceof Integer || n instanceof Short,
                    name,
                    key,
                    "a duration in milliseconds must be an integer");
            return n.longValue();
        }
        Matcher m = value instanceof String s ? DURATION.matcher(s.strip()) : null;
        check(
                m != null && m.matches(),
                name,
                key,
                "a duration is an integer of milliseconds or a number with a unit: 1500ms, 30s, 5m, 1h, 1d");
        return Math.multiplyExact(Long.parseLong(m.group(1)), UNIT_MILLIS.get(m.group(2)));
    }

    private static void check(boolean ok, String name, String key, String message) {
        if (!ok) {
            throw new RollupRefusal(name, key, message);
        }
    }

    /** The distinct fields the aggregates read, in order of first use. */
    List<String> valueFields() {
        Set<String> fields = new LinkedHashSet<>();
        for (Aggregate a : aggregates) {
            if (a.field() != null) {
                fields.add(a.field());
            }
        }
        return List.copyOf(fields);
    }
}

package dev.outpost.edge.engine.rollup;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An ad-hoc aggregation of raw events (GET /v1/aggregate): the events of one range folded into one {@link
 * WindowSummary} per group, with the rollups' field conventions ({@link FieldPath}), their aggregates ({@link
 * Aggregate}) and their reading of fields ({@link EventFields}) — a rollup without windows, held only for one
 * request.
 *
 * <p>Invariants: at most {@link #groupsMax} groups are held; {@link #fold} refuses (and does not count) an event
 * that would open one more, so the caller can stop before it and continue from it; every folded event is in
 * exactly one group's count. A group's values are as in {@link GroupKey}: the scalar's text, or null where the event
 * lacks the field. Not thread-safe: one per request.
 *
 * <p>Memory: a summary per group (see {@link WindowSummary}: ~0.1 KiB, plus 0.4 to 2 KiB per field with a
 * quantile), so {@link #groupsMax} bounds it.
 */
public final class Aggregation {
    /** Most group-by fields, as for a rollup. */
    public static final int GROUP_BY_FIELDS_MAX = RollupSpec.GROUP_BY_FIELDS_MAX;
    /** Most aggregates, as for a rollup. */
    public static final int AGGREGATES_MAX = RollupSpec.AGGREGATES_MAX;

    /** What {@link #fold} did with one event. */
    public enum Fold {
        FOLDED,
        /** The event is no JSON object: not counted. */
        UNREADABLE,
        /** The event's group is new and {@link #groupsMax} groups are held: not counted. */
        GROUPS_FULL
    }

    /** One group's values (by group-by field) and aggregates (by label, as {@link WindowSummary#values}). */
    public record Group(Map<String, String> group, Map<String, Object> values, long count) {}

    private final List<String> groupBy;
    private final List<Aggregate> aggregates;
    private final List<String> valueFields;
    private final boolean[] sketched;
    private final int groupsMax;
    private final EventFields fields;
    private final int[] groupSlots;
    private final int[] valueSlots;
    private final Map<List<String>, WindowSummary> groups = new HashMap<>();
    private long skippedValues;

    /**
     * @throws IllegalArgumentException naming what is wrong with the fields or the aggregates
     */
    public Aggregation(List<String> groupBy, List<Aggregate> aggregates, int groupsMax) {
        if (groupBy.size() > GROUP_BY_FIELDS_MAX || new LinkedHashSet<>(groupBy).size() != groupBy.size()) {
            throw new IllegalArgumentException("at most " + GROUP_BY_FIELDS_MAX + " distinct group-by fields");
        }
        if (aggregates.isEmpty()
                || aggregates.size() > AGGREGATES_MAX
                || new LinkedHashSet<>(aggregates).size() != aggregates.size()) {
            throw new IllegalArgumentException("1 to " + AGGREGATES_MAX + " distinct aggregates");
        }
        groupBy.forEach(FieldPath::parse); // refuses a malformed field
        this.groupBy = List.copyOf(groupBy);
        this.aggregates = List.copyOf(aggregates);
        this.groupsMax = groupsMax;
        LinkedHashSet<String> valueSet = new LinkedHashSet<>();
        aggregates.stream().map(Aggregate::field).filter(Objects::nonNull).forEach(valueSet::add);
        this.valueFields = List.copyOf(valueSet);
        this.sketched = new boolean[valueFields.size()];
        for (Aggregate a : aggregates) {
            if (a.isQuantile()) {
                sketched[valueFields.indexOf(a.field())] = true;
            }
        }
        List<String> all = new ArrayList<>(this.groupBy);
        all.addAll(valueFields);
        this.fields = new EventFields(all);
        this.groupSlots = this.groupBy.stream().mapToInt(fields::slot).toArray();
        this.valueSlots = valueFields.stream().mapToInt(fields::slot).toArray();
    }

    /** Folds one stored event (compact UTF-8 JSON) into its group. */
    public Fold fold(byte[] json, int off, int len) {
        if (!fields.read(json, off, len)) {
            return Fold.UNREADABLE;
        }
        String[] values = new String[groupSlots.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = fields.text(groupSlots[i]);
        }
        List<String> key = Arrays.asList(values);
        WindowSummary s = groups.get(key);
        if (s == null) {
            if (groups.size() >= groupsMax) {
                return Fold.GROUPS_FULL;
            }
            s = new WindowSummary(sketched);
            groups.put(key, s);
        }
        s.addEvent();
        for (int i = 0; i < valueSlots.length; i++) {
            double v = fields.number(valueSlots[i]);
            if (WindowSummary.accepts(v)) {
                s.addValue(i, v);
            } else {
                skippedValues++; // missing, not a number, or beyond the sketch's range
            }
        }
        return Fold.FOLDED;
    }

    /** Groups held. */
    public int groupCount() {
        return groups.size();
    }

    /** Values of aggregated fields that were missing or not a finite number within range, so not counted. */
    public long skippedValues() {
        return skippedValues;
    }

    /** The group-by fields as declared. */
    public List<String> groupBy() {
        return groupBy;
    }

    /** The aggregates in the order asked. */
    public List<Aggregate> aggregates() {
        return aggregates;
    }

    /**
     * The {@code limit} largest groups by count (ties in order of their values, null first), each with its
     * aggregates in the order asked: the same answer for the same events however the map iterates.
     */
    public List<Group> largest(int limit) {
        Comparator<Map.Entry<List<String>, WindowSummary>> order = Comparator.comparingLong(
                        (Map.Entry<List<String>, WindowSummary> e) ->
                                e.getValue().count())
                .reversed()
                .thenComparing(Map.Entry::getKey, Aggregation::compareValues);
        return groups.entrySet().stream()
                .sorted(order)
                .limit(limit)
                .map(this::group)
                .toList();
    }

    private static final Comparator<String> VALUE_ORDER = Comparator.nullsFirst(Comparator.naturalOrder());

    private static int compareValues(List<String> a, List<String> b) {
        for (int i = 0; i < a.size(); i++) {
            int c = VALUE_ORDER.compare(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private Group group(Map.Entry<List<String>, WindowSummary> e) {
        Map<String, String> group = new LinkedHashMap<>();
        for (int i = 0; i < groupBy.size(); i++) {
            group.put(groupBy.get(i), e.getKey().get(i));
        }
        double[] v = e.getValue().valueArray(valueFields, aggregates);
        Map<String, Object> values = new LinkedHashMap<>();
        for (int i = 0; i < aggregates.size(); i++) {
            values.put(aggregates.get(i).label(), WindowSummary.value(aggregates.get(i), v[i]));
        }
        return new Group(group, values, e.getValue().count());
    }
}

package dev.outpost.edge.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rule conditions used to select events rather than to score them (the live tail's {@code where}): an event passes when
 * every condition holds.
 *
 * <p>Design note. A filter is a rule of its own, compiled by {@link RuleSet#compile} like any other, so its conditions
 * mean exactly what they mean in a rule (docs/RULES.md) and are bounded the same way (regex input length, list sizes,
 * nesting). It is checked without a stream's schema: a filter may span streams. Anomaly conditions are refused, since a
 * detector's state would differ per subscriber and per replay. Invariants: not thread-safe (it owns an {@link
 * Evaluator}); {@link #test} never throws for an event's content (an unreadable event does not pass).
 */
public final class EventFilter {
    /** The name the filter's conditions are compiled under (refusals name it). */
    public static final String NAME = "where";

    /** The stream the filter's rule watches: events are evaluated under it whatever their own stream. */
    private static final String ANY_STREAM = "any";

    private final Evaluator evaluator;
    private final Evaluator.Sink sink = f -> this.held = true;
    private boolean held;

    private EventFilter(Evaluator evaluator) {
        this.evaluator = evaluator;
    }

    /**
     * Compiles conditions given as a JSON or YAML tree: one condition object or a list of them, as in a rule's {@code
     * conditions}; RuleRefusal (rule {@value #NAME}) naming the condition and field at fault.
     */
    public static EventFilter compile(Object conditions) {
        Map<String, Object> rule = new LinkedHashMap<>();
        rule.put("stream", ANY_STREAM);
        rule.put("conditions", conditions instanceof List<?> l ? new ArrayList<>(l) : List.of(conditions));
        RuleSpec spec = RuleSpec.parse(NAME, rule);
        refuseAnomaly(spec.conditions(), "");
        return new EventFilter(RuleSet.compile(List.of(spec), s -> null).evaluator());
    }

    private static void refuseAnomaly(List<ConditionSpec> conditions, String at) {
        for (int i = 0; i < conditions.size(); i++) {
            ConditionSpec c = conditions.get(i);
            String place = at + (i + 1);
            if (c.op().equals("anomaly")) {
                throw new RuleRefusal(NAME, place, c.field(), "anomaly conditions keep state and cannot filter");
            }
            refuseAnomaly(c.children(), place + ".");
        }
    }

    /** True if every condition holds for the stored event in {@code json[off, off + len)}. */
    public boolean test(byte[] json, int off, int len) {
        held = false;
        evaluator.evaluate(ANY_STREAM, json, off, len, sink);
        return held;
    }
}

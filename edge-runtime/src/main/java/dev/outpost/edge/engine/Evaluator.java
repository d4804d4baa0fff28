package dev.outpost.edge.engine;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates a {@link RuleSet} against stored events, one thread's worth.
 *
 * <p>Design note. The agent evaluates every stored event of a watched stream, so the path of an event that fires
 * nothing allocates nothing (but for a rule with an anomaly condition, whose detector looks up its group's state by
 * key: {@link Detectors}): the event is read by one {@link EventReader} that this evaluator keeps, into {@link
 * EventFields} slots that are reused too. Invariants: not thread-safe (one per thread); never throws for an event's
 * content: an event that is not one JSON object is counted ({@link #eventsUnreadable()}) and fires nothing; the sink
 * is called once per firing rule, in rule name order, and what it throws propagates. The engine asks it to read the
 * rollups' fields in the same pass ({@link #alsoRead(Map)}), so an event of a stream with rules and rollups is scanned
 * once.
 */
public final class Evaluator {
    /** Told of each rule that fires. */
    public interface Sink {
        void fired(Firing firing);
    }

    /** A stream's tree with the rollups' paths added, and the view of them. */
    private record Shared(FieldTree tree, PathValues view) {}

    private final RuleSet rules;
    private final int regexes;
    private EventFields fields;
    private final EventReader reader = new EventReader();
    private Map<String, Shared> shared = Map.of();
    private PathValues lastView; // the view the last evaluate filled, or null
    private long unreadable;

    Evaluator(RuleSet rules, int slots, int regexes, int detectors, Detectors state) {
        this.rules = rules;
        this.regexes = regexes;
        this.fields = new EventFields(slots, regexes);
        fields.zScores = new double[detectors];
        fields.detectors = state;
    }

    /**
     * Reads these paths too, per stream, in the same pass as the rules (for a stream the rules select); {@link
     * #alsoRead(String)} then gives them. Replaces what an earlier call asked for.
     *
     * @param pathsByStream per stream, the paths as tokens (the list's identity is kept: {@link PathValues#paths})
     */
    public void alsoRead(Map<String, List<List<String>>> pathsByStream) {
        Map<String, Shared> next = new HashMap<>();
        int slots = fields.kinds.length;
        for (Map.Entry<String, List<List<String>>> e : pathsByStream.entrySet()) {
            RuleSet.StreamRules selected = rules.rulesOf(e.getKey());
            if (selected != null) {
                FieldTree tree = selected.fields().copy();
                next.put(e.getKey(), new Shared(tree, new PathValues(e.getValue(), tree)));
                slots = Math.max(slots, tree.slots());
            }
        }
        if (slots > fields.kinds.length) {
            EventFields wider = new EventFields(slots, regexes);
            wider.zScores = fields.zScores;
            wider.detectors = fields.detectors;
            wider.regexInputsTooLong = fields.regexInputsTooLong;
            fields = wider;
        }
        shared = next;
        lastView = null;
    }

    /**
     * The paths {@link #alsoRead(Map)} asked for {@code stream}, as read from the event the last {@link #evaluate} read
     * (with the rules' pass), or null when it did not read one of that stream.
     */
    public PathValues alsoRead(String stream) {
        PathValues v = lastView;
        Shared read = v == null ? null : shared.get(stream);
        return read != null && read.view() == v ? v : null;
    }

    /**
     * Evaluates every rule that selects {@code stream} against one stored event, calling {@code sink} once per rule
     * that fires, in rule name order.
     *
     * @param json holds the whole event object as stored (one line of UTF-8 JSON) in {@code [off, off + len)}
     */
    public void evaluate(String stream, byte[] json, int off, int len, Sink sink) {
        lastView = null;
        RuleSet.StreamRules selected = rules.rulesOf(stream);
        if (selected == null) {
            return;
        }
        Shared withPaths = shared.isEmpty() ? null : shared.get(stream);
        FieldTree tree = withPaths == null ? selected.fields() : withPaths.tree();
        fields.clear(tree.slots());
        boolean readable = reader.read(tree, json, off, len, fields);
        if (withPaths != null) {
            withPaths.view().filled(fields, readable);
            lastView = withPaths.view();
        }
        if (!readable) {
            unreadable++;
            return;
        }
        for (CompiledRule rule : selected.rules()) {
            if (rule.fires(fields)) {
                sink.fired(rule.firing(fields));
            }
        }
    }

    /** Strings that a regex condition did not test because they were longer than its {@code max_input_chars}. */
    public long regexInputsTooLong() {
        return fields.regexInputsTooLong;
    }

    /** Events that could not be read as one JSON object (they fire nothing). */
    public long eventsUnreadable() {
        return unreadable;
    }

    /** The rule set this evaluator runs. */
    public RuleSet ruleSet() {
        return rules;
    }
}

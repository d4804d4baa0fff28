package dev.outpost.edge.engine;

/**
 * Evaluates a {@link RuleSet} against stored events, one thread's worth.
 *
 * <p>Design note. The agent evaluates every stored event of a watched stream, so the path of an event that fires
 * nothing allocates nothing (but for a rule with an anomaly condition, whose detector looks up its group's state by
 * key: {@link Detectors}): the event is read by one {@link EventReader} that this evaluator keeps, into {@link
 * EventFields} slots that are reused too. Invariants: not thread-safe (one per thread); never throws for an event's
 * content: an event that is not one JSON object is counted ({@link #eventsUnreadable()}) and fires nothing; the sink
 * is called once per firing rule, in rule name order, and what it throws propagates.
 */
public final class Evaluator {
    /** Told of each rule that fires. */
    public interface Sink {
        void fired(Firing firing);
    }

    private final RuleSet rules;
    private final EventFields fields;
    private final EventReader reader = new EventReader();
    private long unreadable;

    Evaluator(RuleSet rules, int slots, int regexes, int detectors, Detectors state) {
        this.rules = rules;
        this.fields = new EventFields(slots, regexes);
        fields.zScores = new double[detectors];
        fields.detectors = state;
    }

    /**
     * Evaluates every rule that selects {@code stream} against one stored event, calling {@code sink} once per rule
     * that fires, in rule name order.
     *
     * @param json holds the whole event object as stored (one line of UTF-8 JSON) in {@code [off, off + len)}
     */
    public void evaluate(String stream, byte[] json, int off, int len, Sink sink) {
        RuleSet.StreamRules selected = rules.rulesOf(stream);
        if (selected == null) {
            return;
        }
        FieldTree tree = selected.fields();
        fields.clear(tree.slots());
        if (!reader.read(tree, json, off, len, fields)) {
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

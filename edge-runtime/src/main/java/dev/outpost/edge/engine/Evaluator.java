package dev.outpost.edge.engine;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import java.io.IOException;

/**
 * Evaluates a {@link RuleSet} against stored events, one thread's worth.
 *
 * <p>Design note. The agent evaluates every stored event of a watched stream, so the path of an event that fires
 * nothing allocates nothing (but for a rule with an anomaly condition, whose detector looks up its group's state by
 * key: {@link Detectors}): the event is read with one jackson-core non-blocking parser that this evaluator keeps and
 * feeds event after event (a blocking parser would be created, with its context and symbol table, per event), into
 * {@link EventFields} slots that are reused too. The parser is replaced after {@link #PARSER_EVENTS_MAX} events, which
 * bounds the member names its symbol table collects from events without a schema, and after any event it cannot read.
 * Invariants: not thread-safe (one per thread); never throws for an event's content: an event that is not one JSON
 * object is counted ({@link #eventsUnreadable()}) and fires nothing; the sink is called once per firing rule, in rule
 * name order, and what it throws propagates.
 */
public final class Evaluator {
    /** Events read by one parser before it is replaced. */
    static final int PARSER_EVENTS_MAX = 65_536;

    // Member names are not interned: they come from events and would grow the JVM's string table.
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();

    /** Told of each rule that fires. */
    public interface Sink {
        void fired(Firing firing);
    }

    private final RuleSet rules;
    private final EventFields fields;
    private JsonParser parser;
    private ByteArrayFeeder feeder;
    private int parsed;
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
        if (!read(tree, json, off, len)) {
            return;
        }
        for (CompiledRule rule : selected.rules()) {
            if (rule.fires(fields)) {
                sink.fired(rule.firing(fields));
            }
        }
    }

    private boolean read(FieldTree tree, byte[] json, int off, int len) {
        try {
            if (parser == null || parsed == PARSER_EVENTS_MAX) {
                replaceParser();
            }
            parsed++;
            feeder.feedInput(json, off, off + len);
            tree.read(parser, fields);
            if (parser.nextToken() != JsonToken.NOT_AVAILABLE) {
                throw new IOException("content after the event object");
            }
            return true;
        } catch (IOException | RuntimeException e) {
            // Malformed or truncated: the parser's state is unknown, so the next event gets a fresh one.
            unreadable++;
            closeParser();
            return false;
        }
    }

    private void replaceParser() throws IOException {
        closeParser();
        parser = FACTORY.createNonBlockingByteArrayParser();
        feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
        parsed = 0;
    }

    private void closeParser() {
        if (parser != null) {
            try {
                parser.close();
            } catch (IOException e) {
                // Nothing to release but buffers: a parser over bytes in memory has no I/O to fail.
            }
            parser = null;
            feeder = null;
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

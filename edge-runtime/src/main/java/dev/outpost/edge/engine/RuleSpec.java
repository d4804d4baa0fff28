package dev.outpost.edge.engine;

import java.util.List;
import java.util.Map;

/**
 * A rule as declared: which stream it watches, its conditions, when it fires, how severe it is and how its alerts are
 * grouped and spaced (docs/RULES.md has the YAML and JSON form).
 *
 * <p>Design note. A spec is plain data; {@link RuleSet#compile} is where it is checked in full (with the stream's schema)
 * and turned into a predicate tree, so a spec built in code is held to the same rules as one parsed from a tree. {@link
 * #parse} checks the same things without a schema, so a bad definition is refused before it is stored. Invariants:
 * {@code parse(name, spec.toTree())} equals {@code spec} for every parsed spec; conditions and severity are never null.
 *
 * @param name the rule's name (1 to {@link #NAME_CHARS_MAX} characters of A-Z a-z 0-9 . _ -, as stream names)
 * @param stream the stream whose events it evaluates
 * @param conditions the top-level conditions, 1 to {@link #CONDITIONS_MAX}
 * @param threshold null: fires when every top-level condition holds; else fires when the score (the sum of the weights
 *     of the top-level conditions that hold) is greater than this
 * @param severity info, warning or critical
 * @param groupBy the field path whose value keys the cooldown, or null for one group
 * @param cooldownMillis after an alert, how long further alerts of the same group are held back (0: none)
 */
public record RuleSpec(
        String name,
        String stream,
        List<ConditionSpec> conditions,
        Double threshold,
        String severity,
        String groupBy,
        long cooldownMillis) {

    /** Longest rule name: an alert's id is {@code name@seq} and must fit the 128 characters of an event id. */
    public static final int NAME_CHARS_MAX = 64;

    /** Most top-level conditions in a rule (which ones held is kept in one 64-bit mask). */
    public static final int CONDITIONS_MAX = 64;

    /** Most conditions in a rule, nested ones included. */
    public static final int CONDITION_NODES_MAX = 256;

    /** Deepest nesting of groups (all, any, not); 1 is a group of plain conditions. */
    public static final int GROUP_DEPTH_MAX = 8;

    /** Most values in an in or not_in list. */
    public static final int LIST_VALUES_MAX = 1_000;

    /** Longest string operand. */
    public static final int STRING_VALUE_CHARS_MAX = 4_096;

    /** Longest regex pattern. */
    public static final int PATTERN_CHARS_MAX = 1_024;

    /** Longest string a regex is tested on unless the condition says otherwise. */
    public static final int REGEX_INPUT_CHARS_DEFAULT = 1_024;

    /** Largest {@code max_input_chars} a regex condition may declare. */
    public static final int REGEX_INPUT_CHARS_MAX = 65_536;

    /** Largest weight of a condition. */
    public static final double WEIGHT_MAX = 1_000_000;

    /** Longest cooldown: one week, in milliseconds. */
    public static final long COOLDOWN_MILLIS_MAX = 7L * 24 * 60 * 60 * 1000;

    /** Severities, least severe first. */
    public static final List<String> SEVERITIES = List.of("info", "warning", "critical");

    /** Severity of a rule that does not declare one. */
    public static final String SEVERITY_DEFAULT = "warning";

    public RuleSpec {
        conditions = conditions == null ? List.of() : List.copyOf(conditions);
        severity = severity == null ? SEVERITY_DEFAULT : severity;
    }

    /**
     * Parses a rule from a JSON or YAML tree (maps, lists, strings, numbers, booleans and null, as SnakeYAML or JsonTree
     * give them) and checks it without a schema; RuleRefusal naming the rule, the condition and the field at fault.
     */
    public static RuleSpec parse(String name, Object tree) {
        RuleSpec spec = RuleTree.read(name, tree);
        CompiledRule.check(spec);
        return spec;
    }

    /** The tree form (LinkedHashMap, ArrayList, String, Long, Double, Boolean): what parse reads back to this spec. */
    public Map<String, Object> toTree() {
        return RuleTree.write(this);
    }

    /** Refuses a rule name that is not 1-{@value #NAME_CHARS_MAX} of A-Z a-z 0-9 . _ - or starts with '_'. */
    public static void checkName(String name) {
        if (name == null
                || name.length() > NAME_CHARS_MAX
                || !dev.outpost.edge.ingest.EventParser.validName(name)
                || name.startsWith("_")) {
            throw new RuleRefusal(
                    name,
                    null,
                    "name",
                    "a rule name is 1-" + NAME_CHARS_MAX + " of A-Z a-z 0-9 . _ - and does not start with '_'");
        }
    }
}

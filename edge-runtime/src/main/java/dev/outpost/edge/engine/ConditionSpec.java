package dev.outpost.edge.engine;

import java.util.List;

/**
 * One condition of a rule, as declared (docs/RULES.md). Checked when its rule is compiled ({@link RuleSet#compile}),
 * not here, so a refusal can name the rule and the condition's place.
 *
 * @param field the field path: a JSON Pointer into the whole event ({@code /data/bytes}, {@code /key}) or a dotted
 *     path under {@code data} ({@code http.status}); null for a group (all, any, not)
 * @param op eq, ne, gt, gte, lt, lte, in, not_in, exists, between, regex, anomaly, all, any or not
 * @param value the operand: a string, number or boolean; a list for in, not_in and between; the pattern for regex; true
 *     or false for exists; for anomaly, the z-score above which it holds; null for a group
 * @param weight what the condition adds to the rule's score when it holds (top level only)
 * @param children the conditions of a group (empty for the other operators)
 * @param maxInputChars for regex, the longest string tested (longer ones do not match); null for the default
 * @param alpha for anomaly, the weight of each new value in the moving mean and variance, in (0, 1); null for the
 *     default
 * @param warmup for anomaly, the values a group must have seen before it is scored; null for the default
 */
public record ConditionSpec(
        String field,
        String op,
        Object value,
        double weight,
        List<ConditionSpec> children,
        Integer maxInputChars,
        Double alpha,
        Long warmup) {

    /** Weight of a condition that does not declare one. */
    public static final double WEIGHT_DEFAULT = 1.0;

    /** An anomaly detector's weight of each new value when not declared (about the last 40 values count). */
    public static final double ALPHA_DEFAULT = 0.05;

    /** An anomaly detector's warm-up count when not declared. */
    public static final long WARMUP_DEFAULT = 30;

    /** Longest warm-up an anomaly detector may declare. */
    public static final long WARMUP_MAX = 1_000_000;

    public ConditionSpec {
        children = children == null ? List.of() : List.copyOf(children);
    }

    /** A condition that is not an anomaly detector. */
    public ConditionSpec(
            String field, String op, Object value, double weight, List<ConditionSpec> children, Integer maxInputChars) {
        this(field, op, value, weight, children, maxInputChars, null, null);
    }

    /** A condition without a regex input bound of its own. */
    public ConditionSpec(String field, String op, Object value, double weight, List<ConditionSpec> children) {
        this(field, op, value, weight, children, null);
    }

    /** An anomaly condition: holds when the field's z-score for the rule's group exceeds {@code z}. */
    public static ConditionSpec anomaly(String field, double z, double alpha, long warmup, double weight) {
        return new ConditionSpec(field, "anomaly", z, weight, List.of(), null, alpha, warmup);
    }

    /** A leaf condition of weight 1. */
    public static ConditionSpec of(String field, String op, Object value) {
        return new ConditionSpec(field, op, value, WEIGHT_DEFAULT, List.of(), null);
    }

    /** A group (all, any or not) of weight 1. */
    public static ConditionSpec group(String op, List<ConditionSpec> children) {
        return new ConditionSpec(null, op, null, WEIGHT_DEFAULT, children, null);
    }

    /** The same condition with another weight. */
    public ConditionSpec weighted(double w) {
        return new ConditionSpec(field, op, value, w, children, maxInputChars, alpha, warmup);
    }
}

package dev.outpost.edge.engine;

/**
 * A rule definition refused, with what is at fault: the rule, the condition (its 1-based index path, "2" or "2.1"
 * inside a group; null when the fault is not in a condition) and the field or the rule's key at fault (null when
 * neither applies). The HTTP layer answers 422 with these parts; {@link #getMessage()} joins them into one sentence.
 */
public final class RuleRefusal extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String rule;
    private final String condition;
    private final String field;
    private final String reason;

    public RuleRefusal(String rule, String condition, String field, String message) {
        super(text(rule, condition, field, message));
        this.rule = rule;
        this.condition = condition;
        this.field = field;
        this.reason = message;
    }

    private static String text(String rule, String condition, String field, String message) {
        StringBuilder b = new StringBuilder("rule '").append(rule).append('\'');
        if (condition != null) {
            b.append(", condition ").append(condition);
        }
        if (field != null) {
            b.append(", field '").append(field).append('\'');
        }
        return b.append(": ").append(message).toString();
    }

    /** The rule's name as given. */
    public String rule() {
        return rule;
    }

    /** The condition's 1-based index path ("2", "2.1"), or null when the fault is not in a condition. */
    public String condition() {
        return condition;
    }

    /** The field path (or the rule's key) at fault, or null. */
    public String field() {
        return field;
    }

    /** The sentence alone, without the rule, condition and field. */
    public String reason() {
        return reason;
    }
}

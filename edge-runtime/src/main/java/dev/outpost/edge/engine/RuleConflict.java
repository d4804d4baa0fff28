package dev.outpost.edge.engine;

/** A rule change refused because the rule is declared in the configuration file (the HTTP layer answers 409). */
public final class RuleConflict extends RuntimeException {
    private final String rule;

    public RuleConflict(String rule, String message) {
        super(message, null, false, false);
        this.rule = rule;
    }

    /** The rule concerned. */
    public String rule() {
        return rule;
    }
}

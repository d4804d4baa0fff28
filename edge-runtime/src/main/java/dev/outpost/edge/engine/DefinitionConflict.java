package dev.outpost.edge.engine;

/**
 * A change of a rule or rollup refused because it is declared in the configuration file (the HTTP layer answers
 * 409).
 */
public final class DefinitionConflict extends RuntimeException {
    private final String name;

    public DefinitionConflict(String name, String message) {
        super(message, null, false, false);
        this.name = name;
    }

    /** The rule or rollup concerned. */
    public String name() {
        return name;
    }
}

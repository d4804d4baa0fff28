package dev.outpost.edge.engine.rollup;

/**
 * A rollup declaration or query was not accepted: which rollup, the key or field at fault, and a sentence
 * for the operator. Nothing was changed. The HTTP layer maps {@link #kind} to a status (400 for {@link
 * Kind#INVALID}, 404 for {@link Kind#NOT_FOUND}); this package knows no status codes.
 */
public final class RollupRefusal extends RuntimeException {
    /** Why a request was refused. */
    public enum Kind {
        /** The declaration, a query parameter or the cursor is malformed or out of range. */
        INVALID,
        /** No rollup has that name. */
        NOT_FOUND
    }

    private final Kind kind;
    private final String rollup;
    private final String field;

    RollupRefusal(String rollup, String field, String message) {
        this(Kind.INVALID, rollup, field, message);
    }

    RollupRefusal(Kind kind, String rollup, String field, String message) {
        super("rollup " + rollup + (field != null ? ", " + field : "") + ": " + message, null, false, false);
        this.kind = kind;
        this.rollup = rollup;
        this.field = field;
    }

    public Kind kind() {
        return kind;
    }

    /** The rollup's name as given. */
    public String rollup() {
        return rollup;
    }

    /** The key or field at fault ({@code window}, {@code aggregates[2]}, {@code cursor}), or null. */
    public String field() {
        return field;
    }
}

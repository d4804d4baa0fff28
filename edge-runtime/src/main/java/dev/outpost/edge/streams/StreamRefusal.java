package dev.outpost.edge.streams;

/**
 * A stream definition was not taken: what is wrong ({@link #kind}), the field at fault and a sentence for the client.
 * The HTTP layer maps the kind to a status; a pulled definition that is refused counts as a failed change.
 */
public final class StreamRefusal extends RuntimeException {
    /** Why a definition was refused. */
    public enum Kind {
        /** The name or the body breaks the definition model. */
        MALFORMED,
        /** The schema does not compile. */
        BAD_SCHEMA,
        /** The stream is declared in the configuration file, which wins. */
        DECLARED_IN_CONFIG,
        /** {@link StreamRegistry#STREAMS_MAX} streams are defined already. */
        TOO_MANY
    }

    private final Kind kind;
    private final String field;

    StreamRefusal(Kind kind, String reason, String field) {
        super(reason, null, false, false);
        this.kind = kind;
        this.field = field;
    }

    public Kind kind() {
        return kind;
    }

    /** The field at fault, or null. */
    public String field() {
        return field;
    }
}

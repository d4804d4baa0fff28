package dev.outpost.edge.state;

/**
 * A state request was not carried out: what is wrong ({@link #kind}), the field at fault and a sentence for the
 * client. Nothing was changed. The HTTP layer maps the kind to a status and a title; the state service knows no
 * status codes.
 */
public final class StateRefusal extends RuntimeException {
    /** Why a request was refused. */
    public enum Kind {
        /** The namespace breaks the naming rule. */
        INVALID_NAMESPACE,
        /** The document id breaks the naming rule. */
        INVALID_ID,
        /** The body is not a JSON object. */
        INVALID_DOCUMENT,
        /** A patch would turn the document into something other than a JSON object. */
        NOT_AN_OBJECT,
        /** The document (as sent, or after a patch) is larger than {@code state.doc_bytes_max}. */
        TOO_LARGE,
        /** The document does not exist (or is deleted) and the change needs it. */
        NOT_FOUND,
        /** An If-Match or If-None-Match precondition does not hold. */
        PRECONDITION_FAILED
    }

    private final Kind kind;
    private final String field;

    StateRefusal(Kind kind, String reason, String field) {
        super(reason, null, false, false);
        this.kind = kind;
        this.field = field;
    }

    public Kind kind() {
        return kind;
    }

    /** The field or header at fault, or null. */
    public String field() {
        return field;
    }
}

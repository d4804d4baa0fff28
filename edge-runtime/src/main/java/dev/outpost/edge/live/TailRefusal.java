package dev.outpost.edge.live;

/** A subscription refused, naming the request parameter (or header) at fault; the HTTP layer answers 400. */
public final class TailRefusal extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String field;

    public TailRefusal(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The parameter or header at fault. */
    public String field() {
        return field;
    }
}

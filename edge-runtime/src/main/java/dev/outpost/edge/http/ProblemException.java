package dev.outpost.edge.http;

/**
 * A request is wrong: becomes an RFC 9457 problem+json response with this status, title and
 * detail, naming the field and (in a batch) the 1-based line at fault.
 */
public final class ProblemException extends RuntimeException {
    private final int status;
    private final String title;
    private final int line;
    private final String field;

    public ProblemException(int status, String title, String detail, int line, String field) {
        super(detail, null, false, false);
        this.status = status;
        this.title = title;
        this.line = line;
        this.field = field;
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    /** 1-based line of the NDJSON batch at fault, or 0. */
    public int line() {
        return line;
    }

    /** The field at fault, or null. */
    public String field() {
        return field;
    }
}

package dev.outpost.sync;

/**
 * A sync operation failed: what was being done, against what (a hub address, a node, a batch),
 * and a hint. {@link #status()} is the HTTP status a hub answers with when the cause is the
 * request (4xx), or 0 when it is not the request's fault.
 */
public class SyncException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final String target;
    private final String hint;
    private final int status;

    public SyncException(String operation, String target, String hint, int status, Throwable cause) {
        super(
                operation + " (" + target + ") failed" + (cause == null ? "" : ": " + cause.getMessage()) + "; " + hint,
                cause);
        this.operation = operation;
        this.target = target;
        this.hint = hint;
        this.status = status;
    }

    public String operation() {
        return operation;
    }

    public String target() {
        return target;
    }

    public String hint() {
        return hint;
    }

    /** The HTTP status a hub answers with, or 0 if the request is not at fault. */
    public int status() {
        return status;
    }
}

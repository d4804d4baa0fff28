package dev.outpost.sync.wire;

/**
 * A sync message that cannot be read (or, for a push body, accepted): what was being read, and
 * what is wrong with it. {@link #status()} is the HTTP status a receiving hub answers with (400 for
 * a malformed message, 413 for one over a limit, 422 for one naming a dictionary the hub lacks).
 */
public final class WireException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;

    public WireException(String what, String source, String problem, int status, Throwable cause) {
        super(
                what + " (" + source + ") failed" + (cause == null ? "" : ": " + cause.getMessage()) + "; " + problem,
                cause);
        this.status = status;
    }

    /** A malformed message: status 400. */
    static WireException malformed(String what, String problem) {
        return new WireException(what, "message", problem, 400, null);
    }

    /** The HTTP status a hub answers with. */
    public int status() {
        return status;
    }
}

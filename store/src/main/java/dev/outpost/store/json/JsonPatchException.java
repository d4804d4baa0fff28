package dev.outpost.store.json;

/**
 * A JSON Patch that is invalid or failed to apply; the target was left unchanged. The message names the
 * operation, e.g. {@code operation 2 (replace /a/b): path does not exist: no member "b" in /a}.
 */
public final class JsonPatchException extends RuntimeException {
    private final int operationIndex;
    private final String op;
    private final String path;

    /** {@code operationIndex} is -1 for faults of the patch as a whole; {@code op} and {@code path} may be null. */
    public JsonPatchException(int operationIndex, String op, String path, String reason) {
        super(label(operationIndex, op, path) + reason);
        this.operationIndex = operationIndex;
        this.op = op;
        this.path = path;
    }

    private static String label(int index, String op, String path) {
        if (index < 0) {
            return "invalid JSON Patch: ";
        }
        if (op == null) {
            return "operation " + index + ": ";
        }
        // The empty pointer (the whole document) is shown quoted so it is visible.
        String at = path == null ? "" : path.isEmpty() ? " \"\"" : " " + path;
        return "operation " + index + " (" + op + at + "): ";
    }

    /** The failing operation's 0-based index, or -1 when the patch as a whole is at fault. */
    public int operationIndex() {
        return operationIndex;
    }

    /** The failing operation's "op", or null when it was not known. */
    public String op() {
        return op;
    }

    /** The failing operation's "path", or null when it was not known. */
    public String path() {
        return path;
    }
}

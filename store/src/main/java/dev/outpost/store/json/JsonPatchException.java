package dev.outpost.store.json;

/**
 * A JSON Patch that is invalid or failed to apply; the target was left unchanged. The message names the
 * operation, e.g. {@code operation 2 (replace /a/b): path does not exist: no member "b" in /a}. {@link #malformed}
 * tells the two apart: a patch document that is not a valid RFC 6902 patch whatever the target (the client's request
 * is wrong: HTTP 400), or a valid one that cannot apply to this target (a failed test, a missing path: 409).
 */
public final class JsonPatchException extends RuntimeException {
    private final int operationIndex;
    private final String op;
    private final String path;
    private final boolean malformed;
    private final String member;

    /**
     * An operation that cannot apply to the target. {@code operationIndex} is -1 for faults of the patch as a whole;
     * {@code op} and {@code path} may be null.
     */
    public JsonPatchException(int operationIndex, String op, String path, String reason) {
        this(operationIndex, op, path, null, false, reason);
    }

    private JsonPatchException(
            int operationIndex, String op, String path, String member, boolean malformed, String reason) {
        super(label(operationIndex, op, path) + reason);
        this.operationIndex = operationIndex;
        this.op = op;
        this.path = path;
        this.member = member;
        this.malformed = malformed;
    }

    /** A patch document that is not a valid patch; {@code member} (may be null) is the operation's faulty member. */
    static JsonPatchException malformed(int operationIndex, String op, String path, String member, String reason) {
        return new JsonPatchException(operationIndex, op, path, member, true, reason);
    }

    /** True when the patch document itself is invalid (whatever the target), false when it failed on the target. */
    public boolean malformed() {
        return malformed;
    }

    /**
     * Where in the patch document the fault is, as a JSON Pointer into it ({@code /2/op}, {@code /0}), or null for
     * the patch as a whole.
     */
    public String pointer() {
        if (operationIndex < 0) {
            return null;
        }
        return member == null ? "/" + operationIndex : "/" + operationIndex + "/" + member;
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

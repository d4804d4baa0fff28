package dev.outpost.store;

import java.nio.file.Path;

/** A store operation failed. Says which operation, on what path, and what to try. */
public class StoreException extends RuntimeException {
    private final String operation;
    private final Path path;
    private final String hint;

    public StoreException(String operation, Path path, String hint, Throwable cause) {
        super(operation + " failed on " + path + (cause != null ? ": " + cause : "") + " (hint: " + hint + ")", cause);
        this.operation = operation;
        this.path = path;
        this.hint = hint;
    }

    public String operation() {
        return operation;
    }

    public Path path() {
        return path;
    }

    public String hint() {
        return hint;
    }
}

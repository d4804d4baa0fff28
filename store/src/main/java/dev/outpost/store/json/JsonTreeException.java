package dev.outpost.store.json;

/** Malformed JSON, a bound exceeded, or a value outside the {@link JsonTree} model. */
public final class JsonTreeException extends RuntimeException {
    public JsonTreeException(String message) {
        super(message);
    }

    public JsonTreeException(String message, Throwable cause) {
        super(message, cause);
    }
}

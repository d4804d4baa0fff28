package dev.outpost.edge.http;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import java.util.Locale;

/**
 * JSON bodies are UTF-8 (RFC 8259 §8.1): a JSON or NDJSON request whose Content-Type names another
 * charset is 415 before its body is read. {@code charset=utf-8} is accepted (it changes nothing).
 * The bytes themselves are checked where the body is parsed ({@code JsonText}). Called by {@link ApiScreen}.
 */
final class JsonCharset {
    private JsonCharset() {}

    /** The 415 answer for a JSON request whose Content-Type names a charset other than UTF-8, or null. */
    @Nullable
    static HttpResponse<?> refusal(HttpRequest<?> request) {
        String header = request.getHeaders().get("Content-Type");
        if (header == null || header.indexOf(';') < 0) {
            return null; // no parameters, so no charset: the common case costs no parsing
        }
        MediaType type;
        try {
            type = MediaType.of(header);
        } catch (IllegalArgumentException malformed) {
            return null; // the route answers 415 for a type it does not take
        }
        String name = type.getName().toLowerCase(Locale.ROOT);
        boolean json = name.equals(MediaType.APPLICATION_JSON)
                || name.equals(EventsController.NDJSON)
                || name.startsWith("application/") && name.endsWith("+json");
        String charset = type.getParameters().get("charset").orElse(null);
        if (!json || charset == null || utf8(charset)) {
            return null;
        }
        return Problems.response(
                415,
                "Unsupported charset",
                "Content-Type says charset=" + charset + "; JSON bodies must be UTF-8 (RFC 8259 §8.1): re-encode the"
                        + " body and send charset=utf-8 or no charset",
                0,
                "Content-Type");
    }

    /** Whether a JSON body in this charset is taken: UTF-8 however spelt (the rule {@link #refusal} applies). */
    static boolean utf8(String charset) {
        String c = charset.strip();
        if (c.length() >= 2 && c.startsWith("\"") && c.endsWith("\"")) {
            c = c.substring(1, c.length() - 1);
        }
        return c.equalsIgnoreCase("utf-8") || c.equalsIgnoreCase("utf8");
    }
}

package dev.outpost.store.json;

import java.util.ArrayList;
import java.util.List;

/**
 * RFC 6901 JSON Pointers as lists of unescaped reference tokens. Invariant: {@code parse(format(t))} equals
 * {@code t} for every token list; the empty list (pointer {@code ""}) is the whole document. What a token
 * means (member name or array index) depends on the node it meets, so that is left to {@link JsonPatch}.
 */
final class JsonPointer {
    private JsonPointer() {}

    /** The unmodifiable tokens of {@code pointer}; IllegalArgumentException with the reason if malformed. */
    static List<String> parse(String pointer) {
        if (pointer.isEmpty()) {
            return List.of();
        }
        if (pointer.charAt(0) != '/') {
            throw new IllegalArgumentException("a JSON Pointer must be empty or start with '/'");
        }
        List<String> tokens = new ArrayList<>();
        StringBuilder token = new StringBuilder();
        for (int i = 1; i < pointer.length(); i++) {
            char c = pointer.charAt(i);
            if (c == '/') {
                tokens.add(token.toString());
                token.setLength(0);
            } else if (c != '~') {
                token.append(c);
            } else {
                // Decoded one escape at a time, so "~01" is "~1" and not "/" (RFC 6901 section 4).
                char next = i + 1 < pointer.length() ? pointer.charAt(++i) : ' ';
                if (next != '0' && next != '1') {
                    throw new IllegalArgumentException("'~' at offset " + (i - 1) + " must be followed by '0' or '1'");
                }
                token.append(next == '0' ? '~' : '/');
            }
        }
        tokens.add(token.toString());
        return List.copyOf(tokens);
    }

    /** The pointer for {@code tokens}. */
    static String format(List<String> tokens) {
        StringBuilder out = new StringBuilder();
        for (String t : tokens) {
            out.append('/').append(t.replace("~", "~0").replace("/", "~1"));
        }
        return out.toString();
    }

    /** The first {@code n} tokens as a pointer, for messages: "the document root" when n is 0. */
    static String where(List<String> tokens, int n) {
        return n == 0 ? "the document root" : format(tokens.subList(0, n));
    }
}

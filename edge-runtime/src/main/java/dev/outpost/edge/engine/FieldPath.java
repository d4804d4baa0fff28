package dev.outpost.edge.engine;

import com.fasterxml.jackson.core.JsonPointer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Where a condition reads its value: the member names (or array indexes) from the event object down.
 *
 * <p>A JSON Pointer (RFC 6901, starts with '/') is taken from the whole event ({@code /key}, {@code /data/tags/0}); a
 * dotted path ({@code http.status}) is read under {@code data}, so it cannot name a member holding a dot (use a
 * pointer). A token meets an object as a member name and an array as an index (canonical decimal below {@link
 * #ARRAY_INDEX_MAX}). Invariant: the first token is one of the event's own members ({@link #EVENT_MEMBERS}); stored
 * events have no others.
 *
 * @param text the path as declared
 * @param tokens the unescaped tokens from the event object down, never empty
 */
record FieldPath(String text, List<String> tokens) {
    /** Most tokens in a path, {@code data} included: how deep a condition can look. */
    static final int PATH_TOKENS_MAX = 16;

    /** Longest path as declared. */
    static final int PATH_CHARS_MAX = 1_024;

    /** Array indexes a path can name are below this (a bound on the reader's per-node index table). */
    static final int ARRAY_INDEX_MAX = 1_000;

    /** The members of a stored event (EventParser's fields). */
    static final Set<String> EVENT_MEMBERS = Set.of("stream", "key", "ts", "priority", "id", "data");

    /** Parses a path; IllegalArgumentException with a sentence when it is malformed or out of bounds. */
    static FieldPath parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("a field path is required");
        }
        if (text.length() > PATH_CHARS_MAX) {
            throw new IllegalArgumentException("the field path is longer than " + PATH_CHARS_MAX + " characters");
        }
        List<String> tokens = text.charAt(0) == '/' ? pointer(text) : dotted(text);
        if (tokens.size() > PATH_TOKENS_MAX) {
            throw new IllegalArgumentException("the field path is deeper than " + PATH_TOKENS_MAX + " members");
        }
        if (!EVENT_MEMBERS.contains(tokens.getFirst())) {
            throw new IllegalArgumentException("events have only the members stream, key, ts, priority, id and data;"
                    + " a dotted path is read under data");
        }
        return new FieldPath(text, List.copyOf(tokens));
    }

    private static List<String> pointer(String text) {
        for (int i = text.indexOf('~'); i >= 0; i = text.indexOf('~', i + 1)) {
            // jackson reads "~2" as itself; RFC 6901 allows only ~0 and ~1, and a typo should not match nothing
            // forever.
            if (i + 1 == text.length() || text.charAt(i + 1) != '0' && text.charAt(i + 1) != '1') {
                throw new IllegalArgumentException("malformed JSON Pointer: '~' must be followed by 0 or 1");
            }
        }
        JsonPointer p;
        try {
            p = JsonPointer.compile(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed JSON Pointer: " + e.getMessage(), e);
        }
        List<String> tokens = new ArrayList<>();
        for (; !p.matches(); p = p.tail()) {
            tokens.add(p.getMatchingProperty());
        }
        return tokens;
    }

    private static List<String> dotted(String text) {
        List<String> tokens = new ArrayList<>();
        tokens.add("data");
        int from = 0;
        for (int dot; from <= text.length(); from = dot + 1) {
            dot = text.indexOf('.', from);
            if (dot < 0) {
                dot = text.length();
            }
            if (dot == from) {
                throw new IllegalArgumentException("a dotted path has an empty member name");
            }
            tokens.add(text.substring(from, dot));
        }
        return tokens;
    }

    /** True for a path into {@code data}, the part a stream's schema describes. */
    boolean inData() {
        return tokens.getFirst().equals("data");
    }

    /** The token as an array index, or -1 when it cannot be one. */
    static int index(String token) {
        int n = token.length();
        if (n == 0 || n > 1 && token.charAt(0) == '0' || n > 4) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < n; i++) {
            char c = token.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v < ARRAY_INDEX_MAX ? v : -1;
    }
}

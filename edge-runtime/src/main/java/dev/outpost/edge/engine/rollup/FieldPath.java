package dev.outpost.edge.engine.rollup;

import com.fasterxml.jackson.core.JsonPointer;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a group-by or aggregate field sits in a stored event: a dotted path is under {@code data}
 * ({@code source_ip}, {@code http.status}), a JSON Pointer (starting with '/') is against the whole event
 * ({@code /key}, {@code /data/tags/0}). Invariant: {@code tokens} is non-empty and is the member names (or
 * array indexes) from the event's root. A dotted path cannot name a member holding a '.'; a pointer can.
 */
record FieldPath(String declared, List<String> tokens) {
    /** Longest field as written, in characters. */
    static final int FIELD_CHARS_MAX = 256;

    /**
     * Parses a field as declared.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static FieldPath parse(String declared) {
        if (declared.isEmpty() || declared.length() > FIELD_CHARS_MAX) {
            throw new IllegalArgumentException("a field must have 1 to " + FIELD_CHARS_MAX + " characters");
        }
        List<String> tokens = new ArrayList<>();
        if (declared.charAt(0) == '/') {
            // jackson-core's RFC 6901 pointer: unescapes ~0 and ~1 in each reference token.
            for (JsonPointer p = JsonPointer.compile(declared); !p.matches(); p = p.tail()) {
                tokens.add(p.getMatchingProperty());
            }
        } else {
            tokens.add("data");
            for (String part : declared.split("\\.", -1)) {
                if (part.isEmpty()) {
                    throw new IllegalArgumentException(
                            "'" + declared + "' has an empty segment; write a.b, or a JSON Pointer such as /data/a");
                }
                tokens.add(part);
            }
        }
        return new FieldPath(declared, List.copyOf(tokens));
    }
}

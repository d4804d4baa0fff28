package dev.outpost.edge.ingest;

/**
 * An event that passed validation.
 *
 * @param stream its stream
 * @param id the client's event id, or null
 * @param json holds the event object as one line of compact JSON, starting with '{', at {@code offset} for {@code
 *     length} bytes: where the event was one line already, a slice of the request's body, not a copy (issue #14 point
 *     2) — so it is valid only while the request is being ingested (until the append returns), as the body is
 * @param offset where the event starts in {@code json}
 * @param length its length in bytes
 */
public record ParsedEvent(String stream, String id, byte[] json, int offset, int length) {
    /** An event that is all of {@code json}. */
    public ParsedEvent(String stream, String id, byte[] json) {
        this(stream, id, json, 0, json.length);
    }

    /** The event's bytes in an array of their own (a copy of the slice). */
    public byte[] bytes() {
        return java.util.Arrays.copyOfRange(json, offset, offset + length);
    }
}

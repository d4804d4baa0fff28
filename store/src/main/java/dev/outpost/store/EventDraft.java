package dev.outpost.store;

/**
 * An event about to be appended: the log assigns its sequence number and ingest time.
 *
 * @param stream stream name (validated by the caller)
 * @param eventId the client's event id, or null
 * @param requestKey the request's Idempotency-Key, or null
 * @param lineIndex index of this event's line in its request (0 for a single event)
 * @param lineCount number of lines in the request
 * @param duplicates for the first stored event of a keyed request: pairs (line index, original
 *     sequence) of lines that were duplicates of earlier events; otherwise empty
 * @param payload holds the compact JSON of the event object, one line, at {@code payloadOffset} for {@code
 *     payloadLength} bytes: a slice of the request's body where it can be (ingest), read only during the append
 * @param payloadOffset where the event starts in {@code payload}
 * @param payloadLength its length in bytes
 */
public record EventDraft(
        String stream,
        String eventId,
        String requestKey,
        int lineIndex,
        int lineCount,
        long[] duplicates,
        byte[] payload,
        int payloadOffset,
        int payloadLength) {

    private static final long[] NONE = new long[0];

    public EventDraft {
        assert stream != null && payload != null;
        assert payloadOffset >= 0 && payloadLength >= 0 && payloadOffset + payloadLength <= payload.length;
        if (duplicates == null) {
            duplicates = NONE;
        }
    }

    /** A draft whose payload is all of {@code payload}. */
    public EventDraft(
            String stream,
            String eventId,
            String requestKey,
            int lineIndex,
            int lineCount,
            long[] duplicates,
            byte[] payload) {
        this(stream, eventId, requestKey, lineIndex, lineCount, duplicates, payload, 0, payload.length);
    }

    public static EventDraft of(String stream, byte[] payload) {
        return new EventDraft(stream, null, null, 0, 1, NONE, payload);
    }
}

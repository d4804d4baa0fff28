package dev.outpost.store;

import java.nio.charset.StandardCharsets;

/**
 * A decoded record, valid until the cursor that filled it moves on. Copy what you keep.
 *
 * <p>A flyweight: reading a page of events allocates nothing per event unless the caller asks for
 * strings.
 */
public final class RecordView {
    long seq;
    long hlc;
    byte[] buffer;
    int streamOffset;
    int streamLength;
    int eventIdOffset;
    int eventIdLength;
    int requestKeyOffset;
    int requestKeyLength;
    int lineIndex;
    int lineCount;
    int duplicatesOffset;
    int duplicatesCount;
    int payloadOffset;
    int payloadLength;

    /** Makes this view show what {@code o} shows (shallow: both point into o's buffer). */
    void copyFrom(RecordView o) {
        seq = o.seq;
        hlc = o.hlc;
        buffer = o.buffer;
        streamOffset = o.streamOffset;
        streamLength = o.streamLength;
        eventIdOffset = o.eventIdOffset;
        eventIdLength = o.eventIdLength;
        requestKeyOffset = o.requestKeyOffset;
        requestKeyLength = o.requestKeyLength;
        lineIndex = o.lineIndex;
        lineCount = o.lineCount;
        duplicatesOffset = o.duplicatesOffset;
        duplicatesCount = o.duplicatesCount;
        payloadOffset = o.payloadOffset;
        payloadLength = o.payloadLength;
    }

    public long seq() {
        return seq;
    }

    public long hlc() {
        return hlc;
    }

    public String stream() {
        return new String(buffer, streamOffset, streamLength, StandardCharsets.UTF_8);
    }

    /** True if the stream name equals {@code utf8} byte for byte, without allocating. */
    public boolean streamEquals(byte[] utf8) {
        return java.util.Arrays.equals(buffer, streamOffset, streamOffset + streamLength, utf8, 0, utf8.length);
    }

    public String eventId() {
        return eventIdLength == 0 ? null : new String(buffer, eventIdOffset, eventIdLength, StandardCharsets.UTF_8);
    }

    public String requestKey() {
        return requestKeyLength == 0
                ? null
                : new String(buffer, requestKeyOffset, requestKeyLength, StandardCharsets.UTF_8);
    }

    public int lineIndex() {
        return lineIndex;
    }

    public int lineCount() {
        return lineCount;
    }

    /** Pairs (line index, original sequence) of the request's duplicate lines; see {@link EventDraft}. */
    public long[] duplicates() {
        long[] out = new long[duplicatesCount * 2];
        for (int i = 0; i < duplicatesCount; i++) {
            int p = duplicatesOffset + i * 12;
            out[2 * i] = RecordCodec.getInt(buffer, p);
            out[2 * i + 1] = RecordCodec.getLong(buffer, p + 4);
        }
        return out;
    }

    public byte[] payloadArray() {
        return buffer;
    }

    public int payloadOffset() {
        return payloadOffset;
    }

    public int payloadLength() {
        return payloadLength;
    }

    public byte[] payload() {
        return java.util.Arrays.copyOfRange(buffer, payloadOffset, payloadOffset + payloadLength);
    }
}

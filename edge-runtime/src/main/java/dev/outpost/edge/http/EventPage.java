package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import dev.outpost.store.EventCursor;
import dev.outpost.store.HybridClock;
import dev.outpost.store.LogFields;
import dev.outpost.store.RecordView;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One page of GET /v1/events as an NDJSON stream, produced lazily from a log cursor as the HTTP
 * layer reads it: memory stays at one chunk however large the page.
 *
 * <p>Each event line is {@code {"seq":N,"ingest_time":MS,"hlc":H, ...the stored event fields}}.
 * The last line is {@code {"next_cursor":C,"count":N,"scanned":S,"complete":B}}: pass {@code C} as
 * {@code cursor} to read on; {@code complete} is true when {@code to_time} was reached (C is then
 * null). On a hub, a page of a node's log also carries {@code "node_seq"}, {@code
 * "node_ingest_time"} and {@code "node_hlc"}: where and when the node stored the event ({@code seq}
 * and {@code ingest_time} are the hub's, when it received it), and may be filtered by the node's
 * time ({@link NodeTime}): a filter while scanning, since a node's records reach the hub out of its
 * time order (newest first after an outage).
 *
 * <p>Every line is UTF-8 JSON whatever the log holds: a stored payload that is not ({@link
 * PayloadRepair}) is emitted repaired, marked {@code "repaired":true}, or skipped and counted in
 * the trailer's {@code "unreadable"} (present when not 0). Cursors are sealed ({@link CursorSeal}).
 */
final class EventPage extends InputStream {
    private static final Logger LOG = LoggerFactory.getLogger(EventPage.class);
    /** At most one warning about unreadable records per this interval: a client polling over them would flood the log. */
    private static final long UNREADABLE_LOG_INTERVAL_NANOS = 60_000_000_000L;

    private static final AtomicLong UNREADABLE_LOGGED_AT =
            new AtomicLong(System.nanoTime() - UNREADABLE_LOG_INTERVAL_NANOS);

    /** Bytes produced per refill before the HTTP layer takes them. */
    static final int CHUNK_BYTES = 32 * 1024;

    /** Neither closes the object it writes nor the chunk: an event line's object is completed by the stored event. */
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(StreamWriteFeature.AUTO_CLOSE_CONTENT)
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .build();

    private final EventCursor cursor;
    private final byte[] streamFilter;
    private final String streamName;
    private final long toHlcExclusive;
    private final int limit;
    private final int scanMax;
    private final IntConsumer eventsOut;
    private final Runnable onDone;
    private final boolean nodeOrigin;
    private final NodeTime nodeTime;
    private final CursorSeal.Scoped cursors;
    private final PayloadRepair repair = new PayloadRepair();
    private final RecordView view = new RecordView();
    private final ChunkOut out = new ChunkOut();
    private byte[] chunk = new byte[CHUNK_BYTES + 1024];
    private int chunkLen;
    private int chunkPos;
    private int count;
    private int scanned;
    private int unreadable;
    private long firstUnreadableSeq;
    private long nextSeq;
    private boolean done;

    EventPage(
            EventCursor cursor,
            long fromSeq,
            String stream,
            long toHlcExclusive,
            int limit,
            int scanMax,
            IntConsumer eventsOut,
            Runnable onDone,
            boolean nodeOrigin,
            NodeTime nodeTime,
            CursorSeal.Scoped cursors) {
        this.cursors = cursors;
        this.onDone = onDone;
        this.nodeOrigin = nodeOrigin;
        this.nodeTime = nodeTime;
        this.cursor = cursor;
        this.nextSeq = fromSeq;
        this.streamName = stream;
        this.streamFilter = stream == null ? null : stream.getBytes(StandardCharsets.UTF_8);
        this.toHlcExclusive = toHlcExclusive;
        this.limit = limit;
        this.scanMax = scanMax;
        this.eventsOut = eventsOut;
    }

    @Override
    public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (chunkPos == chunkLen) {
            if (done) {
                return -1;
            }
            refill();
            if (chunkPos == chunkLen) {
                return -1;
            }
        }
        int n = Math.min(len, chunkLen - chunkPos);
        System.arraycopy(chunk, chunkPos, b, off, n);
        chunkPos += n;
        return n;
    }

    private void refill() {
        chunkLen = 0;
        chunkPos = 0;
        boolean complete = false;
        while (chunkLen < CHUNK_BYTES) {
            if (count >= limit || scanned >= scanMax) {
                break;
            }
            if (!cursor.next(view)) {
                break;
            }
            if (view.hlc() >= toHlcExclusive) {
                complete = true;
                break;
            }
            scanned++;
            nextSeq = view.seq() + 1;
            if (streamFilter != null && !view.streamEquals(streamFilter)) {
                continue;
            }
            if (nodeTime != null && !nodeTime.admits(view)) {
                continue;
            }
            PayloadRepair.Verdict verdict =
                    repair.inspect(view.payloadArray(), view.payloadOffset(), view.payloadLength());
            if (verdict == PayloadRepair.Verdict.UNREADABLE) {
                firstUnreadableSeq = unreadable++ == 0 ? view.seq() : firstUnreadableSeq;
                continue;
            }
            count++;
            writeEvent(verdict == PayloadRepair.Verdict.REPAIRED ? repair.repaired() : null);
            if (chunkLen >= CHUNK_BYTES) {
                return;
            }
        }
        writeTrailer(complete);
        eventsOut.accept(count);
        done = true;
        cursor.close();
        onDone.run();
    }

    /** {@code {"next_cursor":C,"count":N,"scanned":S,"complete":B[,"unreadable":U]}}. */
    private void writeTrailer(boolean complete) {
        String next = complete ? null : cursors.seal(encodeCursor(nextSeq, streamName, toHlcExclusive, nodeTime));
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("next_cursor", next);
            g.writeNumberField("count", count);
            g.writeNumberField("scanned", scanned);
            g.writeBooleanField("complete", complete);
            if (unreadable > 0) {
                g.writeNumberField("unreadable", unreadable);
            }
            g.writeEndObject();
            g.writeRaw('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e); // into memory: cannot fail
        }
        long now = System.nanoTime();
        long last = UNREADABLE_LOGGED_AT.get();
        if (unreadable > 0
                && now - last >= UNREADABLE_LOG_INTERVAL_NANOS
                && UNREADABLE_LOGGED_AT.compareAndSet(last, now)) {
            LOG.atWarn()
                    .addKeyValue(
                            LogFields.ADVICE,
                            "the records stay in the log unchanged; outpost fsck on the data"
                                    + " directory lists damaged ones")
                    .log(
                            "read: skipped {} stored events that are not JSON in any encoding (first at seq {})",
                            unreadable,
                            firstUnreadableSeq);
        }
    }

    /**
     * {@code {"seq":N,"ingest_time":MS,"hlc":H,[node origin,] ...the stored event's fields}}: the generator writes the
     * agent's fields and leaves the object open (AUTO_CLOSE_CONTENT is off); the stored event, compact JSON checked
     * at ingest (or {@code repaired}, its repaired form, then marked {@code "repaired":true}), is spliced in after its
     * opening brace, so its bytes are copied, not parsed again.
     */
    private void writeEvent(byte[] repaired) {
        try (JsonGenerator g = JSON.createGenerator(out)) {
            EventLine.head(g, view.seq(), view.hlc(), repaired != null, nodeOrigin ? this::writeNodeOrigin : null);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // into memory: cannot fail
        }
        byte[] p = repaired != null ? repaired : view.payloadArray();
        int po = (repaired != null ? 0 : view.payloadOffset()) + 1; // a clean event starts with '{'
        int pl = (repaired != null ? repaired.length : view.payloadLength()) - 1;
        ensure(pl + 1);
        System.arraycopy(p, po, chunk, chunkLen, pl);
        chunkLen += pl;
        chunk[chunkLen++] = '\n';
    }

    /** {@code "node_seq":S,"node_ingest_time":MS,"node_hlc":H} from a hub record's event id. */
    private void writeNodeOrigin(JsonGenerator g) throws IOException {
        long[] seqHlc = dev.outpost.sync.HubReceiver.edgeSeqAndHlc(view);
        if (seqHlc == null) {
            return; // not a pushed record (cannot happen in a node log; shown without origin)
        }
        g.writeNumberField("node_seq", seqHlc[0]);
        g.writeNumberField("node_ingest_time", HybridClock.millis(seqHlc[1]));
        g.writeNumberField("node_hlc", seqHlc[1]);
    }

    /** Appends to the chunk (the generators write here). */
    private final class ChunkOut extends OutputStream {
        @Override
        public void write(int b) {
            ensure(1);
            chunk[chunkLen++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, chunk, chunkLen, len);
            chunkLen += len;
        }
    }

    private void ensure(int more) {
        if (chunkLen + more > chunk.length) {
            chunk = Arrays.copyOf(chunk, Math.max(chunkLen + more, chunk.length * 2));
        }
    }

    @Override
    public void close() {
        if (!done) {
            done = true;
            cursor.close();
            onDone.run();
        }
    }

    /**
     * A hub page's bounds on the node's own ingest time (HLC), from inclusive, to exclusive.
     * Records without a node origin never pass.
     */
    record NodeTime(long fromHlc, long toHlcExclusive) {
        boolean admits(RecordView v) {
            long[] seqHlc = dev.outpost.sync.HubReceiver.edgeSeqAndHlc(v);
            return seqHlc != null && seqHlc[1] >= fromHlc && seqHlc[1] < toHlcExclusive;
        }
    }

    /**
     * What a cursor carries (sealed by {@link CursorSeal} before it is handed out): version, next
     * sequence, stream filter and time bound (version 1), plus the node-time bounds of a hub page
     * (version 2).
     */
    static String encodeCursor(long nextSeq, String stream, long toHlcExclusive, NodeTime nodeTime) {
        return (nodeTime == null ? "1|" : "2|") + nextSeq + "|" + (stream == null ? "" : stream) + "|" + toHlcExclusive
                + (nodeTime == null ? "" : "|" + nodeTime.fromHlc() + "|" + nodeTime.toHlcExclusive());
    }

    /** Decoded cursor. */
    record Cursor(long nextSeq, String stream, long toHlcExclusive, NodeTime nodeTime) {}

    /** The cursor in an unsealed payload, or null if there is none (null in) or it is not one. */
    static Cursor decodeCursor(String raw) {
        if (raw == null) {
            return null;
        }
        try {
            String[] parts = raw.split("\\|", -1);
            boolean v1 = parts.length == 4 && parts[0].equals("1");
            boolean v2 = parts.length == 6 && parts[0].equals("2");
            if (!v1 && !v2) {
                return null;
            }
            long seq = Long.parseLong(parts[1]);
            long to = Long.parseLong(parts[3]);
            if (seq < 1) {
                return null;
            }
            NodeTime nodeTime = v2 ? new NodeTime(Long.parseLong(parts[4]), Long.parseLong(parts[5])) : null;
            return new Cursor(seq, parts[2].isEmpty() ? null : parts[2], to, nodeTime);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}

package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import dev.outpost.edge.live.Round;
import dev.outpost.store.HybridClock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * One event of a live round as a line of GET /v1/events writes it: {@code {"seq":..,"ingest_time":..,"hlc":..,
 * ["repaired":true,] ...the stored event}}, without the line break. The stored event (compact JSON checked at ingest,
 * or its repaired form) is spliced in after its opening brace, not parsed again. Not thread-safe (one {@link
 * PayloadRepair}): one per framing, used on the feed's thread.
 */
final class EventLine {
    static final JsonFactory JSON = JsonFactory.builder()
            .disable(StreamWriteFeature.AUTO_CLOSE_CONTENT)
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .build();

    private final PayloadRepair repair = new PayloadRepair();
    /** What {@link #readable} found of the event it inspected last. */
    private boolean repaired;

    /** What a line carries between the agent's time fields and "repaired" (a hub's node origin), or null. */
    interface Origin {
        void write(JsonGenerator g) throws IOException;
    }

    /**
     * The agent's fields of an event line, the object left open and a comma after them, so the stored event's members
     * follow: {@code {"seq":S,"ingest_time":MS,"hlc":H,[origin,]["repaired":true,]} — what GET /v1/events and the live
     * tail both write.
     */
    static void head(JsonGenerator g, long seq, long hlc, boolean repaired, Origin origin) throws IOException {
        g.writeStartObject();
        g.writeNumberField("seq", seq);
        g.writeNumberField("ingest_time", HybridClock.millis(hlc));
        g.writeNumberField("hlc", hlc);
        if (origin != null) {
            origin.write(g);
        }
        if (repaired) {
            g.writeBooleanField("repaired", true);
        }
        g.writeRaw(',');
    }

    /** Whether event {@code i} of the round can be sent (false: unreadable in any encoding); then call {@link #write}. */
    boolean readable(Round r, int i) {
        repaired = false;
        if (r.clean(i)) {
            return true; // this process wrote it, checked or generated: a second token walk would only cost CPU
        }
        PayloadRepair.Verdict v = repair.inspect(r.payloads(), r.payloadOffset(i), r.payloadLength(i));
        repaired = v == PayloadRepair.Verdict.REPAIRED;
        return v != PayloadRepair.Verdict.UNREADABLE;
    }

    /** Writes event {@code i} of the round, which {@link #readable} has just said can be sent. */
    void write(Round r, int i, ByteBuf out) {
        write(r, i, out, null);
    }

    /** As {@link #write(Round, int, ByteBuf)}, with {@code "node":NODE} after the agent's fields when not null. */
    void write(Round r, int i, ByteBuf out, String node) {
        byte[] p = r.payloads();
        int off = r.payloadOffset(i);
        int len = r.payloadLength(i);
        if (repaired) {
            p = repair.repaired();
            off = 0;
            len = p.length;
        }
        try (JsonGenerator g = JSON.createGenerator((OutputStream) new ByteBufOutputStream(out))) {
            head(g, r.seq(i), r.hlc(i), repaired, node == null ? null : n -> n.writeStringField("node", node));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // into memory: cannot fail
        }
        out.writeBytes(p, off + 1, len - 1); // the stored object after its '{'
    }
}

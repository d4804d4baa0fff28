package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import dev.outpost.edge.live.Framing;
import dev.outpost.edge.live.Round;
import dev.outpost.store.HybridClock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events (the WHATWG HTML "server-sent events" format) for the live tail: each event is {@code id: SEQ},
 * {@code event: event} and one {@code data:} line holding the event as GET /v1/events writes it ({@code
 * {"seq":..,"ingest_time":..,"hlc":..,...the stored event}}); a gap is {@code event: gap} with the id of the last
 * event skipped; a heartbeat is a comment; the end of a subscription is {@code event: end} with the reason.
 *
 * <p>Invariant: a data line never holds a line break (events are stored as one line of compact JSON, and repaired
 * ones are re-written so), so one {@code data:} line carries one event. Used by the feed's thread only (one
 * {@link PayloadRepair}).
 */
final class SseFraming implements Framing {
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(StreamWriteFeature.AUTO_CLOSE_CONTENT)
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .build();
    private static final byte[] ID = "id: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EVENT_DATA = "\nevent: event\ndata: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final ByteBuf HEARTBEAT =
            Unpooled.unreleasableBuffer(Unpooled.copiedBuffer(": heartbeat\n\n", StandardCharsets.US_ASCII));

    private final ByteBufAllocator alloc;
    private final PayloadRepair repair = new PayloadRepair(); // feed thread only (frame)

    SseFraming(ByteBufAllocator alloc) {
        this.alloc = alloc;
    }

    @Override
    public Framed frame(Round round) {
        int n = round.count();
        if (n == 0) {
            return new Framed(Unpooled.EMPTY_BUFFER, new int[0]);
        }
        int[] ends = new int[n];
        ByteBuf out = alloc.buffer(Math.max(256, round.payloadOffset(n - 1) + round.payloadLength(n - 1) + n * 96));
        for (int i = 0; i < n; i++) {
            writeEvent(round, i, out);
            ends[i] = out.writerIndex();
        }
        return new Framed(out, ends);
    }

    private void writeEvent(Round r, int i, ByteBuf out) {
        byte[] p = r.payloads();
        int off = r.payloadOffset(i);
        int len = r.payloadLength(i);
        PayloadRepair.Verdict v = repair.inspect(p, off, len);
        if (v == PayloadRepair.Verdict.UNREADABLE) {
            return; // an empty frame: subscribers send nothing for it
        }
        if (v == PayloadRepair.Verdict.REPAIRED) {
            p = repair.repaired();
            off = 0;
            len = p.length;
        }
        out.writeBytes(ID);
        writeDecimal(out, r.seq(i));
        out.writeBytes(EVENT_DATA);
        try (JsonGenerator g = JSON.createGenerator((java.io.OutputStream) new ByteBufOutputStream(out))) {
            g.writeStartObject();
            g.writeNumberField("seq", r.seq(i));
            g.writeNumberField("ingest_time", HybridClock.millis(r.hlc(i)));
            g.writeNumberField("hlc", r.hlc(i));
            if (v == PayloadRepair.Verdict.REPAIRED) {
                g.writeBooleanField("repaired", true);
            }
            g.writeRaw(',');
        } catch (IOException e) {
            throw new UncheckedIOException(e); // into memory: cannot fail
        }
        out.writeBytes(p, off + 1, len - 1); // the stored object after its '{'
        out.writeBytes(END);
    }

    private static void writeDecimal(ByteBuf out, long n) {
        out.writeCharSequence(Long.toString(n), StandardCharsets.US_ASCII);
    }

    /** {@code event: gap}, its id the last seq skipped (a resume cursor). */
    ByteBuf gap(long fromSeq, long toSeq, long skipped) {
        return message(toSeq, "gap", g -> {
            g.writeNumberField("from_seq", fromSeq);
            g.writeNumberField("to_seq", toSeq);
            g.writeNumberField("skipped", skipped);
        });
    }

    /** A comment. */
    ByteBuf heartbeat() {
        return HEARTBEAT.duplicate();
    }

    /** {@code event: end} with the reason. */
    ByteBuf closing(String reason) {
        return message(-1, "end", g -> g.writeStringField("reason", reason));
    }

    private interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    /** Any thread. */
    private ByteBuf message(long id, String event, Fields fields) {
        ByteBuf out = alloc.buffer(256);
        if (id >= 0) {
            out.writeBytes(ID);
            writeDecimal(out, id);
            out.writeByte('\n');
        }
        out.writeCharSequence("event: " + event + "\ndata: ", StandardCharsets.US_ASCII);
        try (JsonGenerator g = JSON.createGenerator((java.io.OutputStream) new ByteBufOutputStream(out))) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.writeBytes(END);
        return out;
    }
}

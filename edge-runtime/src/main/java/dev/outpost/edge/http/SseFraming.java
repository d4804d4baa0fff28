package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.edge.live.FramedMemory;
import dev.outpost.edge.live.Framing;
import dev.outpost.edge.live.Round;
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
 * ones are re-written so), so one {@code data:} line carries one event. {@link #frame} runs on the feed's thread only
 * (one {@link EventLine}); the other messages are built on any thread.
 */
final class SseFraming implements Framing {
    private static final JsonFactory JSON = EventLine.JSON;
    private static final byte[] ID = "id: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EVENT_DATA = "\nevent: event\ndata: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final ByteBuf HEARTBEAT =
            Unpooled.unreleasableBuffer(Unpooled.copiedBuffer(": heartbeat\n\n", StandardCharsets.US_ASCII));

    private final ByteBufAllocator alloc;
    private final FramedMemory memory;
    private final EventLine line = new EventLine(); // feed thread only (frame)

    /** The node whose log a hub tails (its events carry "node"), or null on a node's own tail. */
    private final String node;
    /** Ids are "NODE:SEQ" (a fleet-wide tail, where seqs of several logs meet), else the seq. */
    private final boolean nodeInId;

    SseFraming(ByteBufAllocator alloc) {
        this(alloc, FramedMemory.process(), null, false);
    }

    SseFraming(ByteBufAllocator alloc, FramedMemory memory, String node, boolean nodeInId) {
        this.alloc = alloc;
        this.memory = memory;
        this.node = node;
        this.nodeInId = nodeInId;
    }

    @Override
    public boolean roomy() {
        return memory.roomy();
    }

    @Override
    public Framed frame(Round round) {
        int n = round.count();
        if (n == 0) {
            return new Framed(Unpooled.EMPTY_BUFFER, new int[0]);
        }
        int[] ends = new int[n];
        // Direct: every subscriber's write is a slice of these bytes, and a heap buffer would be copied into a new
        // direct one per subscriber per write by the channel (with 2,000 subscribers that filled the direct-memory
        // cap); not framed now when framed rounds hold their share of it (FramedMemory).
        int size = Math.max(256, round.payloadOffset(n - 1) + round.payloadLength(n - 1) + n * 96);
        ByteBuf out = memory.take(size);
        if (out == null) {
            return null;
        }
        for (int i = 0; i < n; i++) {
            writeEvent(round, i, out);
            ends[i] = out.writerIndex();
        }
        return new Framed(out, ends);
    }

    private void writeEvent(Round r, int i, ByteBuf out) {
        if (!line.readable(r, i)) {
            return; // an empty frame: subscribers send nothing for it
        }
        out.writeBytes(ID);
        if (nodeInId) {
            out.writeCharSequence(node + ":", StandardCharsets.UTF_8);
        }
        writeDecimal(out, r.seq(i));
        out.writeBytes(EVENT_DATA);
        line.write(r, i, out, node);
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

package dev.outpost.edge.http;

import dev.outpost.edge.live.FramedMemory;
import dev.outpost.edge.live.Framing;
import dev.outpost.edge.live.Round;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * WebSocket framing of live events: each event is {@code ,} followed by the event as a line of GET /v1/events, so a
 * subscription's run of them becomes one message {@code {"type":"events","id":SUB,"events":[...]}} by wrapping the
 * shared bytes in a header and a trailer and dropping the first comma ({@link WebSocketPath}). Feed thread only.
 */
final class WsFraming implements Framing {
    private final FramedMemory memory;
    private final EventLine line = new EventLine();

    WsFraming(FramedMemory memory) {
        this.memory = memory;
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
        // Direct, as SseFraming: the subscribers' messages wrap slices of it and are written without a copy.
        int size = Math.max(256, round.payloadOffset(n - 1) + round.payloadLength(n - 1) + n * 64);
        ByteBuf out = memory.take(size);
        if (out == null) {
            return null;
        }
        for (int i = 0; i < n; i++) {
            if (line.readable(round, i)) {
                out.writeByte(',');
                line.write(round, i, out);
            }
            ends[i] = out.writerIndex();
        }
        return new Framed(out, ends);
    }
}

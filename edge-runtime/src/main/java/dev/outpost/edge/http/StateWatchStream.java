package dev.outpost.edge.http;

import dev.outpost.edge.live.StateOutlet;
import dev.outpost.store.StateDoc;
import dev.outpost.store.json.JsonTree;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A state watch as server-sent events (GET /v1/state/{namespace}/watch): {@code event: snapshot} with every live
 * document ({@code "resync":true} when it replaces a replica the client can no longer trust), then {@code event:
 * change} per change with the new version, the previous one and an RFC 6902 patch against it; {@code event: end} when
 * the agent ends the watch. Each message's id is the log seq it reflects.
 */
final class StateWatchStream implements StateOutlet {
    private final ChannelHandlerContext ctx;
    private final String namespace;

    StateWatchStream(ChannelHandlerContext ctx, String namespace) {
        this.ctx = ctx;
        this.namespace = namespace;
    }

    @Override
    public void snapshot(List<StateDoc> docs, long seq, boolean resync, Runnable taken) {
        write(
                seq,
                "snapshot",
                g -> {
                    g.writeStringField("namespace", namespace);
                    g.writeNumberField("seq", seq);
                    g.writeBooleanField("resync", resync);
                    g.writeArrayFieldStart("docs");
                    for (StateDoc d : docs) {
                        g.writeStartObject();
                        g.writeStringField("id", d.id());
                        g.writeNumberField("version", d.version());
                        g.writeFieldName("doc");
                        g.writeRawValue(
                                new String(d.doc(), StandardCharsets.UTF_8)); // stored JSON, checked when written
                        g.writeEndObject();
                    }
                    g.writeEndArray();
                },
                taken);
    }

    @Override
    public void change(
            String id, long version, long previous, String op, List<Object> patch, long seq, Runnable taken) {
        write(
                seq,
                "change",
                g -> {
                    g.writeStringField("id", id);
                    g.writeNumberField("version", version);
                    g.writeNumberField("prev_version", previous);
                    g.writeStringField("op", op);
                    if (patch != null) {
                        g.writeFieldName("patch");
                        JsonTree.write(g, patch);
                    }
                },
                taken);
    }

    @Override
    public void close(String reason) {
        write(-1, "end", g -> g.writeStringField("reason", reason), () -> {});
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
        ctx.executor().schedule(() -> ctx.channel().close(), EventTailPath.CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void write(long id, String event, Json.Body fields, Runnable taken) {
        ByteBuf out = ctx.alloc().buffer(256);
        if (id >= 0) {
            out.writeCharSequence("id: " + id + "\n", StandardCharsets.US_ASCII);
        }
        out.writeCharSequence("event: " + event + "\ndata: ", StandardCharsets.US_ASCII);
        Json.writeUtf8(out, g -> {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        });
        out.writeCharSequence("\n\n", StandardCharsets.US_ASCII);
        ctx.writeAndFlush(new DefaultHttpContent(out)).addListener(f -> taken.run());
    }
}

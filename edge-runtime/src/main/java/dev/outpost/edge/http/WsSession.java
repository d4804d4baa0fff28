package dev.outpost.edge.http;

import dev.outpost.edge.live.LiveFeed;
import dev.outpost.edge.live.Outlet;
import dev.outpost.edge.live.StateOutlet;
import dev.outpost.edge.live.TailRefusal;
import dev.outpost.edge.state.StateRefusal;
import dev.outpost.edge.state.StateService;
import dev.outpost.store.StateDoc;
import dev.outpost.store.json.JsonTree;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One WebSocket connection: its control messages and its subscriptions (docs/API.md, "WebSocket").
 *
 * <p>Design note. The client sends JSON objects: {@code {"op":"subscribe","id":ID,"events":{...}}} with the filters and
 * start of GET /v1/events/tail ({@code stream}, {@code key}, {@code where}, {@code from_seq}, {@code from_time}, {@code
 * after}: the resume cursor), {@code {"op":"unsubscribe","id":ID}} and {@code {"op":"ping"}}. The agent answers {@code
 * subscribed}, {@code unsubscribed}, {@code pong}, and sends {@code events} (a run of them per message, each as a line
 * of GET /v1/events), {@code gap} and {@code end} for a subscription, WebSocket pings as heartbeats, and {@code error}
 * for a message it cannot take, naming the field — the connection stays up. Each subscription is one of the live feed's
 * subscribers (its own buffer, counted against live.subscribers_max). Invariants: at most {@link #SUBSCRIPTIONS_MAX}
 * per connection, ids unique among them; control messages are handled on the connection's event loop; when the
 * connection closes every subscription is cancelled once; an id is the client's to reuse once unsubscribed, so what
 * lets go of a subscription removes that one only ({@link Held#release}), and a subscription the client already
 * unsubscribed gets no end.
 */
final class WsSession {
    /** Most subscriptions one connection holds. */
    static final int SUBSCRIPTIONS_MAX = 16;
    /** Longest subscription id. */
    static final int ID_CHARS_MAX = 64;

    private static final Set<String> EVENT_KEYS = Set.of("stream", "key", "where", "from_seq", "from_time", "after");
    private static final ByteBuf EVENTS_END = direct(Unpooled.copiedBuffer("]}", StandardCharsets.US_ASCII));

    private final ChannelHandlerContext ctx;
    private final WebSocketServerHandshaker handshaker;
    private final LiveFeed feed;
    private final WsFraming framing;
    private final Map<String, Held> subscriptions = new HashMap<>();

    /** The feed's writes (from its thread) to this connection, batched per event loop. */
    private final LoopWrites writes;

    WsSession(
            ChannelHandlerContext ctx,
            WebSocketServerHandshaker handshaker,
            LiveFeed feed,
            WsFraming framing,
            LoopWrites writes) {
        this.writes = writes;
        this.ctx = ctx;
        this.handshaker = handshaker;
        this.feed = feed;
        this.framing = framing;
    }

    /** A frame from the client (owned). */
    void received(WebSocketFrame frame) {
        try {
            switch (frame) {
                case TextWebSocketFrame text -> control(text.text());
                case PingWebSocketFrame ping ->
                    ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
                case CloseWebSocketFrame close -> handshaker.close(ctx.channel(), close.retain());
                case PongWebSocketFrame pong -> {
                    // an answer to a heartbeat: nothing to do
                }
                default -> error(null, null, "only text frames with JSON control messages are understood");
            }
        } finally {
            frame.release();
        }
    }

    /** The connection closed. */
    void closed() {
        subscriptions.values().forEach(h -> h.subscription.cancel());
        subscriptions.clear();
    }

    private void control(String text) {
        Object tree;
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        try {
            tree = JsonTree.parse(b, 0, b.length);
        } catch (RuntimeException e) {
            error(null, null, "malformed JSON: " + e.getMessage());
            return;
        }
        if (!(tree instanceof Map<?, ?> m) || !(m.get("op") instanceof String op)) {
            error(null, "op", "a control message is a JSON object with op: subscribe, unsubscribe or ping");
            return;
        }
        String id = m.get("id") instanceof String s ? s : null;
        switch (op) {
            case "subscribe" -> subscribe(id, m);
            case "unsubscribe" -> unsubscribe(id);
            case "ping" -> send(g -> g.writeStringField("type", "pong"));
            default -> error(id, "op", "op must be subscribe, unsubscribe or ping");
        }
    }

    private void subscribe(String id, Map<?, ?> m) {
        if (id == null || id.isEmpty() || id.length() > ID_CHARS_MAX) {
            error(id, "id", "a subscription needs an id of 1-" + ID_CHARS_MAX + " characters");
        } else if (subscriptions.containsKey(id)) {
            error(id, "id", "a subscription with this id is already open on this connection");
        } else if (subscriptions.size() >= SUBSCRIPTIONS_MAX) {
            error(id, "id", "at most " + SUBSCRIPTIONS_MAX + " subscriptions per connection");
        } else if (m.get("state") instanceof Map<?, ?> state) {
            subscribeState(id, state);
        } else if (!(m.get("events") instanceof Map<?, ?> events)) {
            error(
                    id,
                    "events",
                    "subscribe takes events: {stream, key, where, from_seq, from_time, after}"
                            + " or state: {namespace}");
        } else {
            subscribeEvents(id, events);
        }
    }

    private void subscribeEvents(String id, Map<?, ?> e) {
        for (Object k : e.keySet()) {
            if (!EVENT_KEYS.contains(String.valueOf(k))) {
                error(id, String.valueOf(k), "unknown key; allowed: " + String.join(", ", EVENT_KEYS));
                return;
            }
        }
        SubscriptionOutlet outlet;
        LiveFeed.Subscription s;
        try {
            TailRequest tail = TailRequest.of(
                    streams(e.get("stream")),
                    text(e.get("key"), "key"),
                    e.get("where"),
                    new TailRequest.Start(
                            text(e.get("after"), "after"),
                            "after",
                            text(e.get("from_seq"), "from_seq"),
                            text(e.get("from_time"), "from_time")));
            outlet = new SubscriptionOutlet(id);
            s = feed.subscribe(tail.filter(), tail.start(), framing, outlet);
        } catch (ProblemException p) {
            error(id, p.field(), p.getMessage());
            return;
        } catch (TailRefusal r) {
            error(id, r.field(), r.getMessage());
            return;
        }
        hold(outlet, s);
    }

    private void subscribeState(String id, Map<?, ?> state) {
        if (!(state.get("namespace") instanceof String ns) || state.size() != 1) {
            error(id, "namespace", "state takes {namespace}");
            return;
        }
        try {
            StateService.checkNamespace(ns);
        } catch (StateRefusal e) {
            error(id, "namespace", e.getMessage());
            return;
        }
        StateWatchOutlet outlet = new StateWatchOutlet(id);
        hold(outlet, feed.watch(ns, outlet));
    }

    /** Keeps a subscription the feed granted and confirms it; null: the subscriber limit is reached. */
    private void hold(Held h, LiveFeed.Subscription s) {
        if (s == null) {
            error(h.id, null, "live.subscribers_max subscriptions are held; try again later");
            return;
        }
        h.subscription = s;
        subscriptions.put(h.id, h);
        send(g -> {
            g.writeStringField("type", "subscribed");
            g.writeStringField("id", h.id);
        });
    }

    private static List<String> streams(Object v) {
        List<String> out = new ArrayList<>();
        if (v instanceof List<?> l) {
            l.forEach(x -> out.add(String.valueOf(x)));
        } else if (v != null) {
            out.add(String.valueOf(v));
        }
        return out;
    }

    /** A scalar as the text a query parameter would carry (numbers as their digits); null stays null. */
    private static String text(Object v, String field) {
        if (v == null || v instanceof String) {
            return (String) v;
        }
        if (v instanceof Long || v instanceof Integer) {
            return v.toString();
        }
        throw TailRequest.invalid(field, field + " must be a string or a whole number");
    }

    private void unsubscribe(String id) {
        Held h = id == null ? null : subscriptions.remove(id);
        if (h == null) {
            error(id, "id", "no open subscription has this id");
            return;
        }
        h.subscription.cancel();
        send(g -> {
            g.writeStringField("type", "unsubscribed");
            g.writeStringField("id", id);
        });
    }

    private void error(String id, String field, String detail) {
        send(g -> {
            g.writeStringField("type", "error");
            if (id != null) {
                g.writeStringField("id", id);
            }
            if (field != null) {
                g.writeStringField("field", field);
            }
            g.writeStringField("detail", detail);
        });
    }

    /** Sends a control message: a JSON object with the fields {@code body} writes. Any thread. */
    private io.netty.channel.ChannelFuture send(Json.Body body) {
        return ctx.writeAndFlush(new TextWebSocketFrame(control(body)));
    }

    /** A control message: a JSON object with the fields {@code body} writes. */
    private ByteBuf control(Json.Body body) {
        ByteBuf out = ctx.alloc().buffer(128);
        Json.writeUtf8(out, g -> {
            g.writeStartObject();
            body.write(g);
            g.writeEndObject();
        });
        return out;
    }

    /**
     * A subscription as this connection holds it, under the client's id. The feed ends one from its own thread and the
     * cleanup runs on the loop later: by then the client may have unsubscribed it and opened another under the same
     * id. Removed by its id alone, the cleanup then took the new one (WsSubscriptionIdsTest): the client was sent an
     * end it could only take for the new one, could no longer unsubscribe it, and its live.subscribers_max slot leaked.
     */
    private abstract class Held {
        final String id;
        /** What the feed granted: set on the loop as it is granted, so before any cleanup of it runs there. */
        LiveFeed.Subscription subscription;

        Held(String id) {
            this.id = id;
        }

        /** Lets this subscription go if the connection still holds it (loop only); false if it was let go already. */
        boolean release() {
            return subscriptions.remove(id, this);
        }
    }

    /** One state watch's messages on this connection: snapshot, change (the document's id as doc_id), end. */
    private final class StateWatchOutlet extends Held implements StateOutlet {
        StateWatchOutlet(String id) {
            super(id);
        }

        @Override
        public void snapshot(List<StateDoc> docs, long seq, boolean resync, Runnable taken) {
            send(g -> {
                        g.writeStringField("type", "snapshot");
                        g.writeStringField("id", id);
                        g.writeNumberField("seq", seq);
                        g.writeBooleanField("resync", resync);
                        g.writeArrayFieldStart("docs");
                        for (StateDoc d : docs) {
                            g.writeStartObject();
                            g.writeStringField("doc_id", d.id());
                            g.writeNumberField("version", d.version());
                            g.writeFieldName("doc");
                            g.writeRawValue(new String(d.doc(), StandardCharsets.UTF_8)); // stored, checked JSON
                            g.writeEndObject();
                        }
                        g.writeEndArray();
                    })
                    .addListener(f -> taken.run());
        }

        @Override
        public void change(
                String docId, long version, long previous, String op, List<Object> patch, long seq, Runnable taken) {
            send(g -> {
                        g.writeStringField("type", "change");
                        g.writeStringField("id", id);
                        g.writeStringField("doc_id", docId);
                        g.writeNumberField("version", version);
                        g.writeNumberField("prev_version", previous);
                        g.writeNumberField("seq", seq);
                        g.writeStringField("op", op);
                        if (patch != null) {
                            g.writeFieldName("patch");
                            JsonTree.write(g, patch);
                        }
                    })
                    .addListener(f -> taken.run());
        }

        @Override
        public void close(String reason) {
            ctx.executor().execute(() -> {
                if (release()) { // else the client unsubscribed it and was told so
                    send(g -> {
                        g.writeStringField("type", "end");
                        g.writeStringField("id", id);
                        g.writeStringField("reason", reason);
                    });
                }
            });
        }
    }

    /**
     * {@code heap}'s bytes in a direct buffer that the garbage collector frees (a JDK direct ByteBuffer), shared
     * read-only: wrapped around a run of events (slices of a direct round), it keeps their message one gathering write
     * instead of a copy into a new direct buffer per subscriber per write.
     */
    private static ByteBuf direct(ByteBuf heap) {
        java.nio.ByteBuffer nio = java.nio.ByteBuffer.allocateDirect(heap.readableBytes());
        nio.put(heap.nioBuffer()).flip();
        heap.release();
        return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(nio).asReadOnly());
    }

    /** One subscription's messages on this connection. */
    private final class SubscriptionOutlet extends Held implements Outlet {
        private final ByteBuf eventsHead;

        SubscriptionOutlet(String id) {
            super(id);
            ByteBuf head = Unpooled.buffer(64);
            // The object and array stay open: the events and "]}" follow (EventLine's factory does not close them).
            try (com.fasterxml.jackson.core.JsonGenerator g = EventLine.JSON.createGenerator(
                    (java.io.OutputStream) new io.netty.buffer.ByteBufOutputStream(head))) {
                g.writeStartObject();
                g.writeStringField("type", "events");
                g.writeStringField("id", id);
                g.writeFieldName("events");
                g.writeStartArray();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e); // into memory: cannot fail
            }
            this.eventsHead = direct(head);
        }

        @Override
        public void events(ByteBuf frames, int count, Runnable taken) {
            if (!frames.isReadable()) {
                frames.release();
                taken.run();
                return;
            }
            frames.skipBytes(1); // the first event's leading comma
            ByteBuf message = Unpooled.wrappedBuffer(3, eventsHead.duplicate(), frames, EVENTS_END.duplicate());
            writes.write(ctx, new TextWebSocketFrame(message), taken);
        }

        @Override
        public void gap(long fromSeq, long toSeq, long skipped, Runnable taken) {
            ByteBuf gap = control(g -> {
                g.writeStringField("type", "gap");
                g.writeStringField("id", id);
                g.writeNumberField("from_seq", fromSeq);
                g.writeNumberField("to_seq", toSeq);
                g.writeNumberField("skipped", skipped);
            });
            writes.write(ctx, new TextWebSocketFrame(gap), taken);
        }

        @Override
        public void heartbeat(Runnable taken) {
            writes.write(ctx, new PingWebSocketFrame(), taken);
        }

        @Override
        public void close(String reason) {
            writes.run(ctx, () -> {
                if (release()) { // else the client unsubscribed it and was told so
                    ctx.writeAndFlush(new TextWebSocketFrame(control(g -> {
                        g.writeStringField("type", "end");
                        g.writeStringField("id", id);
                        g.writeStringField("reason", reason);
                    })));
                }
            });
        }
    }
}

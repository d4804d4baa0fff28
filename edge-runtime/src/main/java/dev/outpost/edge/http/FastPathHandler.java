package dev.outpost.edge.http;

import dev.outpost.edge.ingest.IngestOutcome;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The fast path on one connection ({@link FastPath}): takes the requests it answers, hands the others to Micronaut, and
 * keeps the answers in request order.
 *
 * <p>Design note. Invariants, all state on the connection's event loop:
 *
 * <ul>
 *   <li><b>Order.</b> A request is answered here only while Micronaut owes no answer on the connection ({@link
 *       RouterAhead.Handler#owed}); a request for Micronaut is handed on only once every answer of this path before it
 *       is written ({@code pending} empty) — until then it and everything after it are held, unread further. So at
 *       most one of the two paths has answers outstanding, and each writes its own in order (this one from a queue:
 *       an ingest completes when its append is durable, and is written from the event loop when it and every answer
 *       before it are done).
 *   <li><b>fsync rounds.</b> With durability fsync an ingest's outcome is completed on this connection's own loop by
 *       group commit's one task per fsync ({@link LoopAcks}); answers written in that task are flushed once per
 *       connection when it ends. An outcome completed on another thread (a replay of another connection's request)
 *       comes over in a task of its own.
 *   <li><b>Scratch.</b> A body is copied into the loop's scratch array and parsed from there; the pipeline holds
 *       nothing of it once {@code path.ingest} returned, so the next ingest on the loop may reuse it.
 *   <li><b>Bounded.</b> Reading stops while {@value #PENDING_MAX} answers are outstanding or requests are held, and
 *       resumes when they drain; a body is buffered up to http.body_bytes_max, and one that grows beyond it (chunked)
 *       is handed to Micronaut with what arrived, which answers it (413) as it does for any body.
 *   <li><b>Reference counts.</b> Every message read is released here or passed on exactly once; the held ones and a
 *       body being collected are released when the connection goes; an answer completed after that is dropped.
 *   <li><b>Close.</b> After an answer that closes the connection (HTTP/1.0, {@code Connection: close}) nothing more is
 *       read or answered.
 * </ul>
 */
final class FastPathHandler extends RouterAhead.Handler {
    /** Answers outstanding on one connection before it stops reading (pipelined requests). */
    static final int PENDING_MAX = 32;

    /** Largest body copied into the event loop's reused scratch array; a larger one gets an array of its own. */
    static final int SCRATCH_BYTES_MAX = 256 * 1024;

    /**
     * The body of the ingest being run, copied out of Netty's buffers for the parser: one array per event loop, reused
     * (the pipeline holds no part of the body once its append returned, and an ingest runs whole on the loop).
     */
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[4096];
        }
    };

    /** In {@code held}: the end of what arrived for a request handed on late (a read's end for Micronaut). */
    private static final Object READ_END = new Object();

    /** What the rest of the current request's body is for. */
    private enum Body {
        /** Between requests. */
        NONE,
        /** The request went to Micronaut: its body follows it. */
        FORWARD,
        /** The request was answered here without its body: dropped. */
        DROP,
        /** An ingest body, collected here. */
        COLLECT
    }

    /** One answer of this path, in request order; {@code response} is null until it is ready. */
    private static final class Slot {
        FullHttpResponse response;
        final boolean close;

        Slot(boolean close) {
            this.close = close;
        }
    }

    private final FastPath path;
    private ChannelHandlerContext ctx;
    /** The loop's fsync acknowledgements ({@link LoopAcks}): where this connection's ingests complete. */
    private LoopAcks acks;
    /** When this connection's answers are flushed. */
    private AnswerFlush flush;

    private final ArrayDeque<Slot> pending = new ArrayDeque<>();
    /** Messages read while a request for Micronaut waits for this path's answers, in order. */
    private final ArrayDeque<Object> held = new ArrayDeque<>();

    private Body body = Body.NONE;
    /** The ingest request whose body is being collected, its parts and their size. */
    private HttpRequest collecting;

    private FastPath.Route collectingRoute;
    private final List<HttpContent> parts = new ArrayList<>();
    private long collected;
    /** A request this path gave up (its body grew too large or stayed empty): the router's when it comes again. */
    private HttpRequest routerBound;
    /** Micronaut (or this path's owner) asked for a read this path held back. */
    private boolean readWanted;
    /** An answer that closes the connection was accepted, or the connection went: nothing more is read. */
    private boolean closing;

    private boolean gone;
    /** Something was passed on to Micronaut since the last replay began. */
    private boolean firedOn;

    FastPathHandler(FastPath path) {
        this.path = path;
    }

    @Override
    boolean taken() {
        return false; // it answers single requests; the connection stays shared with Micronaut
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.acks = path.acks(ctx.executor());
        this.flush = new AnswerFlush(ctx, acks);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        flush.readStarted();
        if (closing) {
            ReferenceCountUtil.release(msg);
        } else if (!held.isEmpty()) {
            held.add(msg);
        } else {
            process(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flush.readEnded();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (!held.isEmpty() || pending.size() >= PENDING_MAX || closing) {
            readWanted = true;
            return;
        }
        ctx.read();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        gone = true;
        closing = true;
        held.forEach(ReferenceCountUtil::release);
        held.clear();
        dropCollected();
        for (Slot s : pending) {
            if (s.response != null) {
                s.response.release();
                s.response = null;
            }
        }
    }

    /** One message, in order. */
    private void process(Object msg) {
        if (msg == READ_END) {
            if (firedOn) {
                ctx.fireChannelReadComplete();
            }
            return;
        }
        switch (body) {
            case FORWARD -> {
                body = msg instanceof LastHttpContent ? Body.NONE : Body.FORWARD;
                firedOn = true;
                ctx.fireChannelRead(msg);
            }
            case DROP -> {
                body = msg instanceof LastHttpContent ? Body.NONE : Body.DROP;
                ReferenceCountUtil.release(msg);
            }
            case COLLECT -> collect((HttpContent) msg);
            case NONE -> {
                if (msg instanceof HttpRequest request) {
                    request(request);
                } else {
                    ctx.fireChannelRead(msg); // not a request's (the codec's own): Micronaut's business
                }
            }
        }
    }

    private void request(HttpRequest request) {
        if (owed > 0 || request == routerBound) {
            toRouter(request);
            return;
        }
        FullHttpResponse state = path.stateRead(ctx, request);
        if (state != null) {
            answered(request, state, false);
            return;
        }
        FastPath.Route route = request instanceof HttpContent ? null : path.route(request);
        if (route == null) {
            toRouter(request);
        } else if (route == FastPath.Route.HEALTH) {
            boolean close = FastPath.closes(request);
            answered(request, path.health().toNetty(ctx.alloc(), request.protocolVersion(), close), close);
        } else if (!path.admits(request.headers())) {
            boolean close = FastPath.closes(request);
            answered(request, ApiScreen.UNAUTHORIZED.toNetty(ctx.alloc(), request.protocolVersion(), close), close);
        } else {
            collecting = request;
            collectingRoute = route;
            collected = 0;
            body = Body.COLLECT;
        }
    }

    /** Hands {@code request} to Micronaut now, or holds it (and what follows) until this path's answers are out. */
    private void toRouter(HttpRequest request) {
        if (!pending.isEmpty()) {
            held.addFirst(request);
            return;
        }
        routerBound = null;
        owed++;
        body = request instanceof LastHttpContent ? Body.NONE : Body.FORWARD;
        firedOn = true;
        ctx.fireChannelRead(request);
    }

    /** {@code request} is answered here by {@code response}, without (the rest of) its body. */
    private void answered(HttpRequest request, FullHttpResponse response, boolean close) {
        body = request instanceof LastHttpContent ? Body.NONE : Body.DROP;
        ReferenceCountUtil.release(request);
        Slot slot = new Slot(close);
        slot.response = response;
        pending.add(slot);
        closing |= close;
        drain();
    }

    private void collect(HttpContent content) {
        int n = content.content().readableBytes();
        collected += n;
        if (collected > path.bodyBytesMax() || (collected == 0 && content instanceof LastHttpContent)) {
            giveUp(content); // the router answers it as it answers any body over the limit, or an empty one
            return;
        }
        if (n > 0) {
            parts.add(content);
        } else {
            content.release();
        }
        if (content instanceof LastHttpContent) {
            ingest();
        }
    }

    /**
     * Leaves the request being collected to Micronaut, with the body that arrived, {@code last} its latest part: they go
     * in front of anything held, and on as soon as this path's earlier answers are out.
     */
    private void giveUp(HttpContent last) {
        HttpRequest request = collecting;
        held.addFirst(last);
        // Micronaut takes what arrived as one read, and the rest as it comes, as it would have without this path
        if (!parts.isEmpty()) {
            held.addFirst(READ_END);
        }
        for (int i = parts.size() - 1; i >= 0; i--) {
            held.addFirst(parts.get(i));
        }
        held.addFirst(request);
        parts.clear();
        collecting = null;
        body = Body.NONE;
        routerBound = request;
        replay();
    }

    /** The collected body goes to the ingest pipeline; its answer is written when ready and in turn. */
    private void ingest() {
        HttpRequest request = collecting;
        int length = (int) collected;
        byte[] bytes = scratch(length);
        int at = 0;
        for (HttpContent part : parts) {
            ByteBuf b = part.content();
            int n = b.readableBytes();
            b.getBytes(b.readerIndex(), bytes, at, n);
            at += n;
            part.release();
        }
        parts.clear();
        collecting = null;
        body = Body.NONE;
        boolean close = FastPath.closes(request);
        HttpVersion version = request.protocolVersion();
        Slot slot = new Slot(close);
        pending.add(slot);
        closing |= close;
        CompletableFuture<IngestOutcome> outcome;
        try {
            outcome = path.ingest(
                    bytes,
                    length,
                    collectingRoute == FastPath.Route.INGEST_NDJSON,
                    FastPath.idempotencyKey(request),
                    acks);
        } catch (RuntimeException e) {
            outcome = CompletableFuture.failedFuture(e);
        } finally {
            ReferenceCountUtil.release(request);
        }
        if (outcome.isDone() && !outcome.isCompletedExceptionally()) {
            complete(slot, outcome.join(), null, version); // durability os: acknowledged at once
        } else {
            // fsync: group commit completes it on this loop, in one task for the round (LoopAcks); a replayed request's
            // future may complete elsewhere, and then its answer comes over in a task of its own
            outcome.whenComplete((o, err) -> {
                if (ctx.executor().inEventLoop()) {
                    complete(slot, o, err, version);
                } else {
                    ctx.executor().execute(() -> complete(slot, o, err, version));
                }
            });
        }
    }

    /** An array of at least {@code length} bytes for a body: the loop's scratch, grown up to its limit. */
    static byte[] scratch(int length) {
        if (length > SCRATCH_BYTES_MAX) {
            return new byte[length];
        }
        byte[] a = SCRATCH.get();
        if (a.length < length) {
            a = new byte[Math.min(SCRATCH_BYTES_MAX, Math.max(length, 2 * a.length))];
            SCRATCH.set(a);
        }
        return a;
    }

    /** An ingest's outcome is known: its answer is ready, and written once it is first in line. */
    private void complete(Slot slot, IngestOutcome outcome, Throwable err, HttpVersion version) {
        if (gone) {
            return;
        }
        Answer answer = IngestAnswers.of(outcome, err);
        slot.response = answer.toNetty(ctx.alloc(), version, slot.close);
        drain();
    }

    /** Writes the ready answers at the head of the line; then lets held requests go on and reading resume. */
    private void drain() {
        boolean wrote = false;
        while (!pending.isEmpty() && pending.peek().response != null) {
            Slot s = pending.poll();
            FullHttpResponse r = s.response;
            s.response = null;
            if (s.close) {
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
                release();
                return;
            }
            ctx.write(r, ctx.voidPromise());
            wrote = true;
        }
        if (wrote) {
            flush.wrote();
        }
        if (pending.isEmpty() && !held.isEmpty()) {
            replay();
        }
        if (readWanted && held.isEmpty() && pending.size() < PENDING_MAX && !closing) {
            readWanted = false;
            ctx.read();
        }
    }

    /** Processes held messages in order, until one waits again for this path's answers. */
    private void replay() {
        firedOn = false;
        while (!held.isEmpty() && !closing) {
            Object msg = held.poll();
            process(msg);
            if (held.peekFirst() == msg) {
                break; // a request for Micronaut, held again: this path's answers are not all out yet
            }
        }
        if (firedOn && !flush.reading()) {
            ctx.fireChannelReadComplete(); // Micronaut acts on what it got at the end of a read
        }
    }

    /** Releases a body being collected (the connection went). */
    private void dropCollected() {
        parts.forEach(ReferenceCountUtil::release);
        parts.clear();
        if (collecting != null) {
            ReferenceCountUtil.release(collecting);
            collecting = null;
        }
    }
}

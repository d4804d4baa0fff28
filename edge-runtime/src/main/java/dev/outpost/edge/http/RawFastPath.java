package dev.outpost.edge.http;

import dev.outpost.edge.ingest.AppendRound;
import dev.outpost.edge.ingest.IngestOutcome;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * The fast path's first stage on one HTTP/1 connection, ahead of Netty's HTTP codec: answers the simplest complete
 * hot requests straight from the bytes read, and hands the connection's bytes — from the first request it does not
 * answer on, at that request's first byte — to the codec and the paths behind it ({@link FastPathHandler}, Micronaut).
 *
 * <p>Design note. Through the codec a single-event ingest paid for decoding into header tables, a request object and
 * content objects, and for encoding a response object back into bytes, plus a pipeline pass per message (issue #14,
 * docs/BENCHMARKS.md). Here a request {@link RawRequest} is sure of — request line, headers and body all arrived,
 * framed by one Content-Length, with nothing the router would answer differently — is answered with the same bytes
 * the other paths send: the answer is decided by the code they use ({@link IngestAnswers}, {@link ApiScreen}, {@link
 * OpsController#health}, {@link StateReadFastPath}) and framed by {@link Answer#toHttp11}; FastPathContractTest holds
 * the bytes equal. Invariants, all state on the connection's event loop:
 *
 * <ul>
 *   <li><b>Hand-over.</b> Once a request is not answered here (not hot, not sure, declined by the slow-client guard),
 *       it and every byte after it go to the codec, and this handler only passes things through from then on: the
 *       codec only ever sees whole requests from their first byte, and the two never frame the same bytes.
 *   <li><b>Order.</b> Answers leave in request order: this path's from a queue (an ingest is answered when durable);
 *       the bytes handed over are held, unread further, until every answer of this path before them is written.
 *   <li><b>Rules defined once.</b> The connection gate admitted the connection before anything is read here; each
 *       request is admitted by the slow-client guard ({@link SlowClientGuard#rawRequest}: eviction, probes-only
 *       connections) and reported answered to it, so its phases and deadlines are the codec path's; body and event
 *       limits are the ingest pipeline's and http.body_bytes_max; a request held incomplete here is bounded by {@link
 *       RawRequest#REQUEST_BYTES_MAX} and, to the guard, is headers still arriving.
 *   <li><b>Bounded.</b> Reading stops while {@link FastPathHandler#PENDING_MAX} answers are outstanding, bytes are
 *       held for the codec, or the connection is not writable (its client does not read what it is sent: answers
 *       would pile up in memory); while it is not writable no further request read is answered either — the rest of
 *       the read waits, complete or not, until the client has taken what it was sent.
 *       Every read of the connection passes here (this handler is nearest the socket), so the rule holds for what
 *       goes to the codec, the router and a WebSocket session too; the handlers behind it do not repeat it.
 *   <li><b>Flushes.</b> Answers written during a read are flushed once at its end; answers of an fsync round once at
 *       the round's end ({@link LoopAcks}).
 *   <li><b>Reference counts.</b> Every buffer read is released here or passed on exactly once; what is held is
 *       released when the connection goes; an answer completed after that is dropped.
 * </ul>
 */
final class RawFastPath extends ChannelDuplexHandler {
    /** The handler's name in the pipeline. */
    static final String NAME = "outpost-raw-fast-path";

    /** One answer of this path, in request order; {@code bytes} is null until it is ready. */
    private static final class Slot {
        ByteBuf bytes;
    }

    private final FastPath path;
    private final RawRequest request = new RawRequest();
    private ChannelHandlerContext ctx;
    private LoopAcks acks;
    /** Where this loop's single-event ingests are appended together ({@link AppendRound}). */
    private AppendRound round;
    /** The connection's slow-client guard, found on first use (null in a pipeline without one). */
    private SlowClientGuard guard;

    private boolean guardLooked;
    /** Bytes of a request not complete yet. */
    private ByteBuf cumulation;
    /** Body bytes of the held request reported to the guard; -1 while none is reported (no body arriving). */
    private long bodyBytesReported = -1;
    /** Everything from here on is the codec's. */
    private boolean handedOver;
    /** Bytes handed over but not passed on yet: this path's answers before them are not all out. */
    private ByteBuf held;

    private final ArrayDeque<Slot> pending = new ArrayDeque<>();
    /** When this connection's answers are flushed. */
    private AnswerFlush flush;

    private boolean readWanted;
    private boolean gone;

    RawFastPath(FastPath path) {
        this.path = path;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.acks = path.acks(ctx.executor());
        this.round = path.round(ctx.executor());
        this.flush = new AnswerFlush(ctx, acks);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (handedOver && held == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (gone) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg); // not bytes (a proxy-protocol header, say): not this path's business
            return;
        }
        flush.readStarted();
        if (held != null) {
            held = ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), held, in);
            return;
        }
        ByteBuf buf =
                cumulation == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), cumulation, in);
        cumulation = null;
        take(buf);
    }

    /** Answers the complete hot requests at the start of {@code buf} (owned), then keeps or hands over the rest. */
    private void take(ByteBuf buf) {
        try {
            while (buf.isReadable() && !gone) {
                if (!ctx.channel().isWritable()) {
                    cumulation = buf; // answered once the client took what it was sent (channelWritabilityChanged)
                    return;
                }
                int n = request.parse(buf, path.bodyBytesMax(), path.compression());
                if (n == RawRequest.NEED_MORE && (!request.headComplete || bodyArriving(buf))) {
                    cumulation = buf;
                    return;
                }
                if (n < 0 || !answer(buf, n)) {
                    handOver(buf);
                    return;
                }
                buf.skipBytes(n);
            }
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        buf.release();
    }

    /** Answers the hot request of {@code n} bytes at {@code buf}'s reader index; false to hand it over instead. */
    private boolean answer(ByteBuf buf, int n) {
        if (request.kind != RawRequest.Kind.INGEST_JSON) {
            round.runNow(); // events held before this request are stored before it is answered (health's last_seq)
        }
        switch (request.kind) {
            case STATE -> {
                ByteBuf r = path.stateRaw(
                        ctx.alloc(), request.namespace, request.id, request.authorization, request.acceptEncoding);
                if (r == null) {
                    return false;
                }
                if (!admitted(false)) {
                    r.release();
                    return false;
                }
                ready(r);
            }
            case HEALTH -> {
                if (!admitted(true)) {
                    return false;
                }
                ready(path.health().toHttp11(ctx.alloc()));
            }
            default -> {
                if (!admitted(false)) {
                    return false;
                }
                if (path.admits(request.authorization)) {
                    ingest(buf, buf.readerIndex() + request.headBytes, n - request.headBytes);
                } else {
                    ready(ApiScreen.UNAUTHORIZED.toHttp11(ctx.alloc()));
                }
            }
        }
        path.answeredRaw();
        return true;
    }

    /**
     * The held request's head is complete, its body arriving: the slow-client guard learns of the body's bytes (its
     * body-rate rule). False if the guard declines the request: it goes to the codec, to meet the same rule there.
     */
    private boolean bodyArriving(ByteBuf buf) {
        long arrived = buf.readableBytes() - request.headBytes;
        if (bodyBytesReported < 0) {
            if (guard() != null && !guard.rawBodyStart(arrived)) {
                return false;
            }
        } else if (guard != null) {
            guard.rawBodyBytes(arrived - bodyBytesReported);
        }
        bodyBytesReported = arrived;
        return true;
    }

    /** The slow-client guard's admission of a request ({@link SlowClientGuard#rawRequest}). */
    private boolean admitted(boolean probe) {
        if (bodyBytesReported >= 0) {
            bodyBytesReported = -1; // admitted when its body began
            if (guard != null) {
                guard.rawBodyEnd();
            }
            return true;
        }
        return guard() == null || guard.rawRequest(probe);
    }

    /** The connection's slow-client guard, or null. */
    private SlowClientGuard guard() {
        if (!guardLooked) {
            guardLooked = true;
            guard = (SlowClientGuard) ctx.pipeline().get(SlowClientGuard.NAME);
        }
        return guard;
    }

    /** The body {@code [from, from + length)} of {@code buf} goes to the ingest pipeline; answered when durable. */
    private void ingest(ByteBuf buf, int from, int length) {
        boolean ndjson = request.kind == RawRequest.Kind.INGEST_NDJSON;
        // One event waits for its loop's round, so it gets an array of its own; a batch is appended now (after what
        // the round holds), from the loop's scratch.
        byte[] bytes = ndjson ? FastPathHandler.scratch(length) : new byte[length];
        buf.getBytes(from, bytes, 0, length);
        CompletableFuture<IngestOutcome> outcome;
        try {
            outcome = path.ingestInRound(bytes, length, ndjson, request.idempotencyKey, round);
        } catch (RuntimeException e) {
            outcome = CompletableFuture.failedFuture(e);
        }
        if (outcome.isDone() && !outcome.isCompletedExceptionally()) {
            ready(IngestAnswers.of(outcome.join()).toHttp11(ctx.alloc())); // durability os: acknowledged at once
            return;
        }
        Slot slot = new Slot();
        pending.add(slot);
        // A single event: its loop's append round completes it, on this loop, in a LoopAcks round; fsync: group commit
        // completes it on this loop, in one task for the fsync (LoopAcks); a replayed request's future may complete
        // elsewhere, and then its answer comes over in a task of its own
        outcome.whenComplete((o, err) -> {
            if (ctx.executor().inEventLoop()) {
                complete(slot, o, err);
            } else {
                ctx.executor().execute(() -> complete(slot, o, err));
            }
        });
    }

    /** An answer ready now: written at once if none is outstanding before it, else queued in turn. */
    private void ready(ByteBuf answer) {
        if (pending.isEmpty()) {
            write(answer);
            flush.wrote();
        } else {
            Slot slot = new Slot();
            slot.bytes = answer;
            pending.add(slot);
        }
    }

    private void complete(Slot slot, IngestOutcome outcome, Throwable err) {
        if (gone) {
            return;
        }
        slot.bytes = IngestAnswers.of(outcome, err).toHttp11(ctx.alloc());
        drain();
    }

    private void write(ByteBuf answer) {
        ctx.write(answer, ctx.voidPromise());
        if (guard != null) {
            guard.rawAnswered();
        }
    }

    /** Writes the ready answers at the head of the line; then passes held bytes on and lets reading resume. */
    private void drain() {
        boolean wrote = false;
        while (!pending.isEmpty() && pending.peek().bytes != null) {
            Slot s = pending.poll();
            write(s.bytes);
            s.bytes = null;
            wrote = true;
        }
        if (wrote) {
            flush.wrote();
        }
        if (pending.isEmpty() && held != null) {
            ByteBuf h = held;
            held = null;
            ctx.fireChannelRead(h);
            if (!flush.reading()) {
                ctx.fireChannelReadComplete(); // the codec's messages are acted on at the end of a read
            }
        }
        if (readWanted && mayRead()) {
            readWanted = false;
            ctx.read();
        }
    }

    /** From {@code buf}'s reader index on, everything is the codec's: passed on once this path's answers are out. */
    private void handOver(ByteBuf buf) {
        handedOver = true;
        if (pending.isEmpty()) {
            ctx.fireChannelRead(buf);
        } else {
            held = buf;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flush.readEnded();
        ctx.fireChannelReadComplete();
    }

    private boolean mayRead() {
        return held == null
                && pending.size() < FastPathHandler.PENDING_MAX
                && ctx.channel().isWritable();
    }

    /** Writable again: the requests read meanwhile are answered, and reading resumes if it was held back. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !gone) {
            if (cumulation != null && !handedOver) {
                ByteBuf buf = cumulation;
                cumulation = null;
                boolean outsideRead = !flush.reading();
                flush.readStarted();
                take(buf);
                if (outsideRead) {
                    flush.readEnded();
                }
            }
            if (readWanted && mayRead()) {
                readWanted = false;
                ctx.read();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (!mayRead()) {
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
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
        if (held != null) {
            held.release();
            held = null;
        }
        for (Slot s : pending) {
            if (s.bytes != null) {
                s.bytes.release();
                s.bytes = null;
            }
        }
        pending.clear();
    }
}

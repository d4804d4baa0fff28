package dev.outpost.edge.http;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.http.ConnectionCloses.Reason;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Per connection, right after the HTTP codec: closes the connection of a client that is too slow
 * to send its request, and keeps a connection admitted on the probes' share to probes.
 *
 * <p>Design note. A connection is in one of three phases, derived from what passed through here:
 * awaiting a request (none in flight: just opened, or kept alive), receiving a request body, or
 * processing (the request is in, its response not yet out). Awaiting, it must deliver complete
 * headers within http.header_timeout_millis of opening, or, kept alive, start a request within
 * http.idle_timeout_millis and complete its headers within http.header_timeout_millis of the first
 * byte; otherwise it is closed without an answer. Receiving, its body must average at least
 * http.body_rate_bytes_per_second_min once http.body_grace_millis is over, or it is cut with 408.
 * That time counts only while the server has asked for more of the body ({@code read()} passed
 * here and nothing came yet): Micronaut reads on demand, and a body the agent holds back itself
 * (backpressure) must not count against the client. Processing has no deadline here (Micronaut's
 * own idle timeout, 5 minutes without any I/O, remains the outer bound). Micronaut's server
 * offers only that idle timeout (whole seconds, any I/O resets it, it cannot tell a trickle of
 * header bytes from progress) and no header or body deadline, hence this handler.
 *
 * <p>Invariants: one timer at most per connection, scheduled for the earliest deadline of the
 * current phase and re-armed when it fires early (so a request costs a clock read and no
 * scheduling in the common case); every deadline reads the injected clock, so tests drive time;
 * after the guard answered or closed ({@code cut}), nothing more is read or written on the
 * connection; the phase is mirrored into the connection's budget slot (awaiting = evictable). All
 * state is touched on the connection's event loop only. HTTP/1 only (the agent serves no HTTP/2).
 *
 * <p>Requests the raw fast path answers ahead of the codec ({@link RawFastPath}) never pass here as
 * messages; it reports them ({@link #rawRequest}, {@link #rawAnswered}), so the phases, the
 * eviction check and the probes' rule are these, for both paths. A request that path holds
 * incomplete (at most {@link RawRequest#REQUEST_BYTES_MAX}) is, to this guard, partial headers
 * until its head is complete ({@link #rawBodyStart}), then a body under the body-rate rule.
 */
final class SlowClientGuard extends ChannelDuplexHandler {
    /** The handler's name in the pipeline. */
    static final String NAME = "outpost-slow-client-guard";

    private static final long NONE = Long.MAX_VALUE;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    /** The limits, in nanoseconds and bytes per second. */
    record Limits(long headerTimeoutNanos, long idleTimeoutNanos, long bodyGraceNanos, long bodyRateMin) {
        static Limits of(OutpostConfig.Http c) {
            return new Limits(
                    TimeUnit.MILLISECONDS.toNanos(c.headerTimeoutMillis()),
                    TimeUnit.MILLISECONDS.toNanos(c.idleTimeoutMillis()),
                    TimeUnit.MILLISECONDS.toNanos(c.bodyGraceMillis()),
                    c.bodyRateBytesPerSecondMin());
        }
    }

    private final Limits limits;
    private final LongSupplier clock;
    private final ConnectionBudget budget;
    private final ConnectionCloses closes;
    /** Requests refused for want of room (outpost_connections_refused_total). */
    private final Runnable refused;

    private ChannelHandlerContext ctx;
    /** This connection's place in the budget; null if it did not pass the gate (unit tests). */
    private ConnectionBudget.Slot slot;

    private long openedAt;
    /** Requests whose headers arrived. */
    private int requests;
    /** Requests passed on whose final response has not been written yet. */
    private int owed;
    /** A final response has started and not ended. */
    private boolean responding;
    /** Since when no request has been in flight. */
    private long awaitingSince;
    /** Bytes of the next request's headers arrived (incomplete), first at {@code partialSince}. */
    private boolean partial;

    private long partialSince;
    /** A request body is arriving. */
    private boolean inBody;

    private long bodyBytes;
    /** Time the server waited for this body's bytes, up to the last read that brought some. */
    private long bodyWaitedNanos;
    /** The server asked for more of the body, at {@code demandSince}, and none came yet. */
    private boolean demand;

    private long demandSince;
    /** An HTTP message arrived during the current read. */
    private boolean readAny;
    /** The guard answered or closed: nothing more is read or written. */
    private boolean cut;

    private ScheduledFuture<?> timer;
    private long timerAt;

    SlowClientGuard(
            Limits limits, LongSupplier clock, ConnectionBudget budget, ConnectionCloses closes, Runnable refused) {
        this.limits = limits;
        this.clock = clock;
        this.budget = budget;
        this.closes = closes;
        this.refused = refused;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // The gate passes channelActive on once it admitted the connection (an accepted channel is
        // active before its pipeline is built, and may wait for room): the clocks start now.
        slot = ctx.channel().attr(ConnectionGate.SLOT).get();
        openedAt = clock.getAsLong();
        awaitingSince = openedAt;
        arm(openedAt);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cut = true;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (cut) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpObject) {
            readAny = true;
        }
        if (msg instanceof HttpRequest request && !request(request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (inBody && msg instanceof HttpContent content) {
            bodyBytes += content.content().readableBytes();
            if (msg instanceof LastHttpContent) {
                inBody = false;
                if (owed == 0) {
                    awaiting(clock.getAsLong());
                }
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** A request's headers are complete; false if it is not passed on (answered here or evicted). */
    private boolean request(HttpRequest request) {
        partial = false;
        if (owed == 0 && !inBody && slot != null && !slot.busy()) {
            cut = true; // evicted meanwhile: the gate is closing the connection
            return false;
        }
        requests++;
        if (slot != null && slot.tier == ConnectionBudget.Tier.PROBES && !isProbe(request)) {
            refused.run();
            if (owed == 0) {
                answer(HttpResponseStatus.SERVICE_UNAVAILABLE, "Too many connections", probesOnlyDetail());
            } else {
                close(); // pipelined behind a probe: an answer now would overtake the probe's
            }
            return false;
        }
        owed++;
        inBody = !(request instanceof LastHttpContent)
                && !request.decoderResult().isFailure();
        bodyBytes = 0;
        bodyWaitedNanos = 0;
        demand = false;
        return true;
    }

    /**
     * The raw fast path ({@link RawFastPath}, ahead of the codec) has a complete request of its own in hand: the same
     * admission as {@link #request} gives a request the codec delivers, and the connection is processing until {@link
     * #rawAnswered}. A request declined here is handed to the codec, and meets the same rule there again (the gate
     * closing an evicted connection, the 503 of a connection admitted for probes only).
     *
     * @param probe whether it is a probe ({@link #isProbe})
     * @return whether the raw path may answer it
     */
    boolean rawRequest(boolean probe) {
        if (cut
                || (owed == 0 && !inBody && slot != null && !slot.busy())
                || (slot != null && slot.tier == ConnectionBudget.Tier.PROBES && !probe)) {
            return false;
        }
        partial = false;
        readAny = true;
        requests++;
        owed++;
        return true;
    }

    /**
     * The raw fast path holds a request whose head it has and whose body is arriving: admitted as by {@link
     * #rawRequest}, and from now on in the body phase, under the body-rate rule, as the codec's requests are.
     *
     * @param bytes the body's bytes that arrived so far
     * @return whether the raw path may go on with it
     */
    boolean rawBodyStart(long bytes) {
        if (!rawRequest(false)) {
            return false;
        }
        inBody = true;
        bodyBytes = bytes;
        bodyWaitedNanos = 0;
        demand = false;
        return true;
    }

    /** More of a body {@link #rawBodyStart} began arrived. */
    void rawBodyBytes(long bytes) {
        bodyBytes += bytes;
        readAny = true;
    }

    /** The body {@link #rawBodyStart} began is complete: the request is processing until {@link #rawAnswered}. */
    void rawBodyEnd() {
        inBody = false;
    }

    /** The raw fast path wrote its answer to a request {@link #rawRequest} admitted. */
    void rawAnswered() {
        if (owed > 0 && --owed == 0 && !inBody) {
            awaiting(clock.getAsLong());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!cut) {
            // A read that brought no message: bytes of headers not yet complete (the codec holds them).
            boolean partialNow = !readAny && !inBody && requests > 0 && !partial;
            boolean bodyRead = demand && readAny;
            if (bodyRead || partialNow || inBody) {
                long now = clock.getAsLong();
                if (bodyRead) {
                    bodyWaitedNanos += now - demandSince;
                    demand = false;
                }
                if (partialNow) {
                    partial = true;
                    partialSince = now;
                }
                arm(now);
            }
            readAny = false;
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (inBody && !demand && !cut) {
            demand = true;
            demandSince = clock.getAsLong();
            arm(demandSince);
        }
        ctx.read();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (cut) {
            ReferenceCountUtil.release(msg); // the connection is being closed after the guard's own answer
            if (!promise.isVoid()) {
                promise.tryFailure(new ClosedChannelException());
            }
            return;
        }
        boolean informational =
                msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL;
        if (msg instanceof HttpResponse && !informational) {
            responding = true;
        }
        // A final response ends with a LastHttpContent (a 100 Continue is a full response too, not final).
        if (msg instanceof LastHttpContent && !informational) {
            responding = false;
            if (owed > 0 && --owed == 0 && !inBody) {
                awaiting(clock.getAsLong());
            }
        }
        ctx.write(msg, promise);
    }

    /** No request in flight any more: evictable, and the idle or header deadline runs. */
    private void awaiting(long now) {
        awaitingSince = now;
        if (slot != null) {
            slot.awaiting(now);
        }
        arm(now);
    }

    /** Schedules the timer for the current phase's deadline, unless one fires no later already. */
    private void arm(long now) {
        long due = dueAt(now);
        if (due == NONE || (timer != null && timerAt - due <= 0)) {
            return;
        }
        if (timer != null) {
            timer.cancel(false);
        }
        timerAt = due;
        timer = ctx.executor().schedule(this::fire, Math.max(0, due - now), TimeUnit.NANOSECONDS);
    }

    private void fire() {
        timer = null;
        if (cut || !ctx.channel().isActive()) {
            return;
        }
        long now = clock.getAsLong();
        long due = dueAt(now);
        if (due == NONE) {
            return; // processing, or a body the server is not reading: re-armed when that changes
        }
        if (now - due >= 0) {
            expire(now);
        } else {
            arm(now);
        }
    }

    /** When the current phase's deadline passes (the clock's nanoseconds), or {@link #NONE}. */
    private long dueAt(long now) {
        if (inBody) {
            if (!demand) {
                return NONE;
            }
            // Too slow once waited >= grace and bytes < rate x waited, i.e. waited > bytes / rate.
            long waited = bodyWaitedNanos + (now - demandSince);
            long earned = (long) ((double) bodyBytes * NANOS_PER_SECOND / limits.bodyRateMin()) + 1;
            return now + (Math.max(limits.bodyGraceNanos(), earned) - waited);
        }
        if (owed > 0) {
            return NONE;
        }
        if (requests == 0) {
            return openedAt + limits.headerTimeoutNanos();
        }
        if (partial) {
            long from = partialSince - awaitingSince > 0 ? partialSince : awaitingSince;
            return from + limits.headerTimeoutNanos();
        }
        return awaitingSince + limits.idleTimeoutNanos();
    }

    private void expire(long now) {
        if (inBody) {
            closes.count(Reason.BODY_TOO_SLOW);
            if (owed == 1 && !responding) {
                long waitedMillis = TimeUnit.NANOSECONDS.toMillis(bodyWaitedNanos + (now - demandSince));
                answer(
                        HttpResponseStatus.REQUEST_TIMEOUT,
                        "Request body too slow",
                        "the request body arrived at " + bodyBytes + " bytes in " + waitedMillis
                                + " ms, slower than http.body_rate_bytes_per_second_min (" + limits.bodyRateMin()
                                + " bytes/s); the connection is closed");
            } else {
                close(); // a response has begun (or an earlier one is owed): a 408 now would corrupt it
            }
        } else if (requests == 0 || partial) {
            closes.count(Reason.HEADER_TIMEOUT);
            close();
        } else {
            closes.count(Reason.IDLE_TIMEOUT);
            close();
        }
    }

    /** Answers with a problem and closes; nothing else is read or written afterwards. */
    private void answer(HttpResponseStatus status, String title, String detail) {
        cut = true;
        ByteBuf body = ByteBufUtil.writeUtf8(ctx.alloc(), Problems.json(status.code(), title, detail, 0, null));
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        r.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, Problems.MEDIA_TYPE)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (status.code() == 503) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        }
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    private void close() {
        cut = true;
        ctx.flush();
        ctx.close();
    }

    private String probesOnlyDetail() {
        return (budget != null && budget.lowered()
                        ? "the agent's CPU is under pressure, so it admits fewer connections than budget.connections"
                                + " for now (see GET /v1/governor)"
                        : "the agent's connection budget (budget.connections) is in use")
                + "; this connection was admitted on the share kept for probes (budget.probe_connections), which"
                + " serves only GET /health, /health/* and /metrics; retry later";
    }

    /** GET or HEAD of /health, /health/... or /metrics (a query string allowed). */
    static boolean isProbe(HttpRequest r) {
        if (!HttpMethod.GET.equals(r.method()) && !HttpMethod.HEAD.equals(r.method())) {
            return false;
        }
        String uri = r.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        return path.equals("/health") || path.startsWith("/health/") || path.equals("/metrics");
    }
}

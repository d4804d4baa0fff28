package dev.outpost.edge.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Per connection, after the HTTP codec: when the server closes a connection whose client may still be sending (a
 * request head over the limits, a body refused before it was read), it first answers, then closes its sending side
 * and reads and discards what still comes, until the client closes too or {@link #LINGER_MILLIS_MAX} passes — and only
 * then closes the socket.
 *
 * <p>Why: closing a socket with unread bytes in its receive buffer makes the kernel send a reset instead of an
 * orderly end, and a reset that reaches the client before it read the answer destroys the answer (the client sees
 * "connection reset" instead of 431 or 413). nginx's {@code lingering_close} does the same for the same reason.
 *
 * <p>Invariants: a connection lingers at most once and for at most {@link #LINGER_MILLIS_MAX}; closes of a connection
 * whose requests were read to their end are not delayed (the idle yield of the connection budget depends on that);
 * nothing read while lingering goes on up the pipeline; the caller's close promise completes when the socket is
 * closed. TLS connections are closed at once (the socket's sending side cannot be shut without the TLS layer's
 * close). State on the connection's event loop only.
 */
final class LingeringClose extends ChannelDuplexHandler {
    /** The handler's name in the pipeline. */
    static final String NAME = "outpost-lingering-close";
    /** Longest a closing connection keeps reading what its client still sends. */
    static final long LINGER_MILLIS_MAX = 2_000;

    /** A request's head arrived and its end has not (or the codec failed on it and discards the rest). */
    private boolean unfinished;

    private boolean lingering;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest request) {
            unfinished = request.decoderResult().isFailure() || !(msg instanceof LastHttpContent);
        } else if (msg instanceof LastHttpContent) {
            unfinished = false;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        Channel ch = ctx.channel();
        if (lingering
                || !unfinished
                || !ch.isActive()
                || !(ch instanceof DuplexChannel duplex)
                || ch.pipeline().get(SslHandler.class) != null) {
            ctx.close(promise);
            return;
        }
        lingering = true;
        ch.closeFuture().addListener(f -> promise.trySuccess());
        // Shut the sending side only once everything before it is on the wire: shutting it fails unwritten writes.
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(written -> {
            if (!written.isSuccess() || !ch.isActive()) {
                ctx.close();
                return;
            }
            duplex.shutdownOutput();
            ch.config().setAutoRead(true); // the client's end of stream closes the channel (no half-closure)
            ctx.read();
            ctx.executor().schedule(() -> ctx.close(), LINGER_MILLIS_MAX, TimeUnit.MILLISECONDS);
        });
    }
}

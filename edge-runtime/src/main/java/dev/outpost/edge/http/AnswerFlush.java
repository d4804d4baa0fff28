package dev.outpost.edge.http;

import io.netty.channel.ChannelHandlerContext;

/**
 * When a fast-path connection's written answers are flushed ({@link FastPathHandler}, {@link RawFastPath}): at the end
 * of the read that produced them, once at the end of the group-commit round that completed them ({@link LoopAcks}),
 * or at once otherwise — so a read or a round costs one flush per connection, not one per answer. Invariants: the
 * connection is in its loop's list of connections to flush at most once per round; the connection's event loop only.
 */
final class AnswerFlush implements LoopAcks.Connection {
    private final ChannelHandlerContext ctx;
    private final LoopAcks acks;
    /** Inside channelRead..channelReadComplete: flushes wait for the read's end. */
    private boolean reading;
    /** Answers were written during the current read. */
    private boolean wanted;
    /** In {@link #acks}' list of connections to flush when the running round ends. */
    private boolean queued;

    AnswerFlush(ChannelHandlerContext ctx, LoopAcks acks) {
        this.ctx = ctx;
        this.acks = acks;
    }

    /** A read is under way (channelRead). */
    void readStarted() {
        reading = true;
    }

    /** Whether a read is under way. */
    boolean reading() {
        return reading;
    }

    /** The read ended (channelReadComplete): what it wrote goes out. */
    void readEnded() {
        reading = false;
        if (wanted) {
            wanted = false;
            ctx.flush();
        }
    }

    /** Answers were written: flushed at the read's end, the round's end, or now. */
    void wrote() {
        if (reading) {
            wanted = true;
        } else if (acks.inRound()) {
            if (!queued) {
                queued = true;
                acks.flushAtEnd(this); // once for all of this connection's answers in the round
            }
        } else {
            ctx.flush();
        }
    }

    @Override
    public void roundEnded() {
        queued = false;
        ctx.flush();
    }
}

package dev.outpost.edge.live;

/**
 * Where a subscription starts, as the client asked: after the last event it got ({@code Last-Event-ID}), at a seq, at
 * a time, or at what is acknowledged next ("now", the default).
 */
public sealed interface TailStart {
    /** Continue after {@code seq}: the {@code id} of the last message received. */
    record After(long seq) implements TailStart {}

    /** From {@code seq} on. */
    record AtSeq(long seq) implements TailStart {}

    /** From the first event stored at or after {@code hlc} (a hybrid logical clock value). */
    record AtTime(long hlc) implements TailStart {}

    /** From the next event acknowledged. */
    record Now() implements TailStart {}
}

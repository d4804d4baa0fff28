package dev.outpost.store;

import java.util.concurrent.CompletableFuture;

/**
 * The outcome of one append call.
 *
 * @param firstSeq sequence number of the first appended event (they are consecutive)
 * @param count number of events appended
 * @param firstHlc ingest time of the first event
 * @param durable completes when the events are as durable as the configured {@link Durability}
 *     promises; already complete for {@link Durability#OS}
 */
public record AppendResult(long firstSeq, int count, long firstHlc, CompletableFuture<Void> durable) {
    public long lastSeq() {
        return firstSeq + count - 1;
    }
}

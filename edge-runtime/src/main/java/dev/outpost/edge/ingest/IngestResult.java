package dev.outpost.edge.ingest;

import java.util.concurrent.CompletableFuture;

/**
 * What an ingest request got.
 *
 * @param seqs the sequence number of each input event, in input order (a duplicate gets the
 *     original's)
 * @param stored how many events this request stored
 * @param replayed true if the Idempotency-Key was seen before and nothing was stored
 * @param durable completes when the stored events are durable per the configured durability
 */
public record IngestResult(long[] seqs, int stored, boolean replayed, CompletableFuture<Void> durable) {
    public int duplicates() {
        return seqs.length - stored;
    }
}

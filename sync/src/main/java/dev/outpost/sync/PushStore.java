package dev.outpost.sync;

import dev.outpost.store.AckedRanges;
import dev.outpost.store.Lane;
import dev.outpost.sync.wire.PushAck;
import dev.outpost.sync.wire.PushBatch;

/**
 * Where a hub keeps what its nodes push: the node logs on the hub's own disk ({@link HubReceiver}), or a Kafka
 * cluster shared by several hubs (docs/FLEET-KAFKA.md). The edge cannot tell them apart.
 *
 * <p>Contract: {@link #receive} returns only once the records of the batch the store did not have are durable
 * there, and the batch's range is part of {@link #received}; a record whose sequence number is already in the
 * received ranges is never stored again. A failure is thrown ({@link SyncException} with a status, or a store
 * error) and acknowledges nothing.
 */
public interface PushStore {
    /** Stores the records of {@code b} this store does not have; returns once they are durable. */
    PushAck receive(PushBatch b);

    /** What the store holds of a node's lane (a copy), for an edge re-deriving its cursor. */
    AckedRanges received(String node, Lane lane);

    /**
     * Whether this store answers for {@code node} here: always for a hub's own disk; for a Kafka hub, while it owns
     * the node's shard (another hub of the fleet does otherwise, and {@link #received} is refused with 503).
     */
    default boolean answersFor(String node) {
        return true;
    }

    /**
     * The refusal when a node lane's received ranges would pass their count limit ({@link AckedRanges#RANGES_MAX}):
     * the node must send its oldest unacknowledged data first.
     */
    static SyncException tooManyGaps(PushBatch b) {
        return new SyncException(
                "record received range",
                "node " + b.node() + " lane " + b.lane().id(),
                "too many gaps in what this node sent; send the oldest unacknowledged data first",
                409,
                null);
    }
}

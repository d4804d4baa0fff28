package dev.outpost.edge.hub;

import dev.outpost.sync.wire.FleetChange;
import dev.outpost.sync.wire.Published;
import dev.outpost.sync.wire.PullPage;
import java.util.List;

/**
 * Hub mode: the changes a fleet operator publishes for the nodes to pull (state documents, stream definitions,
 * configuration, rules), and the signal a long-polling pull waits on. Two kinds: {@link LocalFleetChanges} (the hub's
 * own log, {@code hub.backend: local}) and {@link KafkaFleetChanges} (the compacted topic {@code PREFIX.fleet} every hub
 * of a fleet follows, {@code hub.backend: kafka}); a pull does not care which.
 *
 * <p>Invariants: a change is published (and {@link #version()} moves) only once a pull at this hub can see it, and a
 * pull never sees a published change vanish (durable first); sequence numbers only grow, so {@code next} of one pull
 * is a sound {@code after} for the next, at this hub or (Kafka) at any hub of the fleet; a pull waits at most the time
 * it asks for.
 */
public interface FleetChanges {
    /** Publishes {@code change} for its target: {@link Outcome.Done} once durable and visible to pulls at this hub. */
    Outcome publish(FleetChange change);

    /**
     * Adds the changes for {@code node} (addressed to it or to all nodes) after sequence {@code after} to {@code out},
     * in sequence order, at most {@code max}; returns the sequence to ask after next time (never below {@code after}).
     */
    long scan(String node, long after, int max, List<PullPage.Change> out);

    /** Moves whenever a change may have become visible (for long polls). */
    long version();

    /** Waits until {@link #version()} moves past {@code version}, at most {@code millis}. */
    void await(long version, long millis) throws InterruptedException;

    /** What publishing a change came to; only the HTTP layer turns it into a status. */
    sealed interface Outcome {
        /** Published: where the change sits ({@code seq}, the position pulls count in) and its version. */
        record Done(Published published) implements Outcome {}

        /**
         * Refused: holding the change would take this hub's fleet changes past {@code bytesMax} (hub.fleet_changes_bytes_max);
         * nothing was written.
         */
        record Full(long liveBytes, long changeBytes, long bytesMax) implements Outcome {}

        /** Refused: the change is larger than the fleet topic takes; nothing was written. */
        record TooLarge(long changeBytes, long bytesMax) implements Outcome {}

        /**
         * Not confirmed: the change may or may not have been written (publishing it again is harmless: the latest change
         * of an object wins); retry later.
         */
        record Unavailable(String detail) implements Outcome {}
    }
}

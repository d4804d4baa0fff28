package dev.outpost.edge.hub;

import dev.outpost.store.AppendResult;
import dev.outpost.store.EventDraft;
import dev.outpost.store.EventLog;
import dev.outpost.store.Lane;
import dev.outpost.sync.wire.FleetChange;
import dev.outpost.sync.wire.Published;
import java.util.List;

/**
 * Hub mode: changes a fleet operator publishes for the nodes to pull (state documents, stream definitions,
 * configuration), kept as events of the reserved stream {@value FleetChange#STREAM} in the hub's own log (their wire
 * form is {@link FleetChange}'s), and the signal a long-polling pull waits on.
 *
 * <p>Invariants: a change is published (and {@link #version()} moves) only once it is durable, so a pull that sees it
 * can never see it vanish after a crash; a pull waits at most the time it asks for.
 */
public final class FleetChanges {
    private final EventLog log;
    private final Object signal = new Object();
    private long version; // guarded by signal

    /** @param log the hub's own log */
    public FleetChanges(EventLog log) {
        this.log = log;
    }

    /** Appends {@code change}; returns once it is durable. */
    public Published publish(FleetChange change) {
        AppendResult r = log.append(Lane.HIGH, List.of(EventDraft.of(FleetChange.STREAM, change.toStoredEvent())));
        r.durable().join();
        synchronized (signal) {
            version++;
            signal.notifyAll();
        }
        return new Published(r.firstSeq(), r.firstHlc());
    }

    /** The hub's own log, where the changes are (pulls read them there). */
    public EventLog log() {
        return log;
    }

    /** How many changes were published since start (for long polls). */
    public long version() {
        synchronized (signal) {
            return version;
        }
    }

    /** Waits until a change is published after {@code version}, at most {@code millis}. */
    public void await(long version, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        synchronized (signal) {
            long left;
            while (this.version == version && (left = deadline - System.currentTimeMillis()) > 0) {
                signal.wait(left);
            }
        }
    }
}

package dev.outpost.edge.hub;

import dev.outpost.store.AppendResult;
import dev.outpost.store.EventDraft;
import dev.outpost.store.EventLog;
import dev.outpost.store.Lane;
import dev.outpost.store.LogFields;
import dev.outpost.store.RecordView;
import dev.outpost.sync.wire.FleetChange;
import dev.outpost.sync.wire.Published;
import dev.outpost.sync.wire.PullPage;
import dev.outpost.sync.wire.WireException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fleet changes of a hub with {@code hub.backend: local}: events of the reserved stream {@value FleetChange#STREAM} in
 * the hub's own log (their wire form is {@link FleetChange}'s); a change's sequence number is its event's in that log.
 *
 * <p>Design note. Invariants: a change is published (and {@link #version()} moves) only once it is durable, so a pull
 * that sees it can never see it vanish after a crash; a pull reads at most {@link #SCAN_RECORDS_MAX} records of the
 * log (the other streams' events are skipped but counted), so one pull's work is bounded.
 */
public final class LocalFleetChanges implements FleetChanges {
    /** Most hub log records one pull reads looking for changes. */
    static final int SCAN_RECORDS_MAX = 100_000;

    private static final Logger LOG = LoggerFactory.getLogger(LocalFleetChanges.class);
    private static final byte[] STREAM = FleetChange.STREAM.getBytes(StandardCharsets.UTF_8);

    private final EventLog log;
    private final Object signal = new Object();
    private long version; // guarded by signal

    /** @param log the hub's own log */
    public LocalFleetChanges(EventLog log) {
        this.log = log;
    }

    /** Appends {@code change}; returns once it is durable. */
    @Override
    public Outcome publish(FleetChange change) {
        AppendResult r = log.append(Lane.HIGH, List.of(EventDraft.of(FleetChange.STREAM, change.toStoredEvent())));
        r.durable().join();
        synchronized (signal) {
            version++;
            signal.notifyAll();
        }
        return new Outcome.Done(new Published(r.firstSeq(), r.firstHlc()));
    }

    @Override
    public long scan(String node, long after, int max, List<PullPage.Change> out) {
        long last = Math.max(after, 0);
        if (log.lastSeq() <= after) {
            return last;
        }
        int scanned = 0;
        int added = 0;
        try (var c = log.cursorFromSeq(after + 1)) {
            RecordView v = new RecordView();
            while (scanned < SCAN_RECORDS_MAX && added < max && c.next(v)) {
                scanned++;
                last = v.seq();
                if (!v.streamEquals(STREAM)) {
                    continue;
                }
                FleetChange change = readStored(v);
                if (change != null && change.isFor(node)) {
                    out.add(new PullPage.Change(v.seq(), v.hlc(), change));
                    added++;
                }
            }
        }
        return last;
    }

    /** The change a fleet event of the hub's log holds; null (logged) if this hub cannot read it. */
    private static FleetChange readStored(RecordView v) {
        FleetChange change;
        try {
            change = FleetChange.fromStoredEvent(v.payloadArray(), v.payloadOffset(), v.payloadLength());
        } catch (WireException e) {
            change = new FleetChange.Unreadable(null, null, e.getMessage());
        }
        if (change instanceof FleetChange.Unreadable u) {
            LOG.atWarn()
                    .addKeyValue(
                            LogFields.ADVICE,
                            "publish the change again (PUT /v1/fleet/...); run one version on the hub and its nodes")
                    .log("fleet change at hub sequence {} cannot be read and is not sent: {}", v.seq(), u.problem());
            return null;
        }
        return change;
    }

    @Override
    public long version() {
        synchronized (signal) {
            return version;
        }
    }

    @Override
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

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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fleet changes of a hub with {@code hub.backend: local}: events of the reserved stream {@value FleetChange#STREAM} in
 * the hub's own log (their wire form is {@link FleetChange}'s); a change's sequence number is its event's in that log.
 *
 * <p>Design note. Invariants: a change is published (and {@link #version()} moves) only once it is durable, so a pull
 * that sees it can never see it vanish after a crash — and a pull sees no change before that: a change's record is in
 * the log (readable) before its fsync completes, so a scan stops at the first change past {@link #durableSeq}, the
 * highest sequence of a change whose publishing completed (all of the log at open: what was recovered is on disk), and
 * the next pull starts there (a change whose fsync failed is never sent: its publisher was told); a pull reads at most
 * {@link #SCAN_RECORDS_MAX} records of the log (the other streams' events are skipped but counted), so one pull's work
 * is bounded.
 */
public final class LocalFleetChanges implements FleetChanges {
    /** Most hub log records one pull reads looking for changes. */
    static final int SCAN_RECORDS_MAX = 100_000;

    private static final Logger LOG = LoggerFactory.getLogger(LocalFleetChanges.class);
    private static final byte[] STREAM = FleetChange.STREAM.getBytes(StandardCharsets.UTF_8);

    private final EventLog log;
    private final Object signal = new Object();
    private long version; // guarded by signal
    /** The highest sequence of a change known durable: every change at or below it may be sent. */
    private volatile long durableSeq;
    /** Changes whose publishing failed (not durable): in the log, never sent. */
    private final Set<Long> abandoned = ConcurrentHashMap.newKeySet();

    /** @param log the hub's own log */
    public LocalFleetChanges(EventLog log) {
        this.log = log;
        this.durableSeq = log.lastSeq(); // what the log holds at open was recovered from disk
    }

    /** Appends {@code change}; returns once it is durable. */
    @Override
    public Outcome publish(FleetChange change) {
        AppendResult r = log.append(Lane.HIGH, List.of(EventDraft.of(FleetChange.STREAM, change.toStoredEvent())));
        try {
            r.durable().join();
        } catch (RuntimeException e) {
            // Not durable, and its publisher is told so: never sent, and pulls go on past it.
            abandoned.add(r.firstSeq());
            throw e;
        } finally {
            synchronized (signal) {
                durableSeq = Math.max(durableSeq, r.lastSeq());
                version++;
                signal.notifyAll();
            }
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
        long durable = durableSeq;
        try (var c = log.cursorFromSeq(after + 1)) {
            RecordView v = new RecordView();
            while (scanned < SCAN_RECORDS_MAX && added < max && c.next(v)) {
                scanned++;
                boolean fleet = v.streamEquals(STREAM);
                if (fleet && v.seq() > durable) {
                    break; // in the log, not yet durable: the next pull starts here
                }
                last = v.seq();
                if (!fleet || abandoned.contains(v.seq())) {
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

package dev.outpost.sync;

import dev.outpost.store.AckedRanges;
import dev.outpost.store.LogFields;
import dev.outpost.store.SyncCursors;
import dev.outpost.sync.wire.FleetChange;
import dev.outpost.sync.wire.PullPage;
import dev.outpost.sync.wire.SyncProtocol;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge side of pull: long-polls the hub for changes addressed to this node or to all nodes
 * (state documents, stream definitions, configuration) and hands each to an {@link Applier}.
 *
 * <p>Design note. The position is the hub sequence number of the last change applied, persisted
 * ({@link SyncCursors}, cursor {@code pull:<hub>}, the range 1..position) after each answer is
 * applied, so a change is applied at least once; appliers are idempotent (state changes resolve by
 * HLC last-writer-wins, so a replayed change loses to itself and is skipped). One poll at a time,
 * on its own thread; failures back off with full jitter. A change that cannot be read (a kind from
 * a newer hub) or whose applier throws is counted as failed and skipped: one bad change never
 * stops the pull.
 */
public final class Puller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Puller.class);

    /** Prefix of the cursor holding the pull position. */
    public static final String CURSOR_PREFIX = "pull:";

    /** Lane name of the pull position's cursor. */
    static final String CURSOR_LANE = "pull";

    /** How long the hub holds a poll open when it has nothing, milliseconds. */
    public static final long POLL_WAIT_MILLIS = 20_000;

    /** How much longer than its wait a poll may take before it counts as failed, milliseconds. */
    static final long POLL_MARGIN_MILLIS = 15_000;

    /** Longest a poll waits for a connection, milliseconds (then the hub counts as down). */
    static final long CONNECT_TIMEOUT_MILLIS = 5000;

    /** Applies one change from the hub. Never given a {@link FleetChange.Unreadable}. */
    @FunctionalInterface
    public interface Applier {
        /** @param hlc when the hub published the change (a state change's version) */
        void apply(FleetChange change, long hlc);
    }

    private final URI hubUri;
    private final SyncCursors positions;
    private final Applier applier;
    private final HubClient hub;
    private final Backoff backoff;
    private final Thread thread;
    private final LongAdder applied = new LongAdder();
    private final LongAdder failedChanges = new LongAdder();
    private volatile boolean running = true;
    private volatile long position;
    private volatile long lastSuccessMillis;
    private volatile String lastError;

    /** @param sslContext the TLS context for an https:// hub, or null for the JDK's default */
    public Puller(
            URI hub,
            String node,
            String token,
            SyncCursors positions,
            long backoffBaseMillis,
            long backoffCapMillis,
            javax.net.ssl.SSLContext sslContext,
            Applier applier) {
        this.hubUri = hub;
        this.positions = positions;
        this.applier = applier;
        this.hub = new HubClient(
                hub, node, token, CONNECT_TIMEOUT_MILLIS, POLL_WAIT_MILLIS + POLL_MARGIN_MILLIS, sslContext);
        this.backoff = new Backoff(backoffBaseMillis, backoffCapMillis);
        AckedRanges r = positions.syncCursor(CURSOR_PREFIX + hub, CURSOR_LANE);
        this.position = r.firstGap(1) - 1;
        this.thread = Thread.ofPlatform().name("outpost-sync-pull").daemon().unstarted(this::loop);
    }

    public Puller start() {
        thread.start();
        return this;
    }

    /** The hub sequence of the last change applied. */
    public long position() {
        return position;
    }

    public long lastSuccessMillis() {
        return lastSuccessMillis;
    }

    /** The last failure, naming the hub's host and port and the reason; null if none yet. */
    public String lastError() {
        return lastError;
    }

    /** Changes applied since start. */
    public long appliedChanges() {
        return applied.sum();
    }

    /** Changes skipped since start: unreadable, or their applier threw. */
    public long failedChanges() {
        return failedChanges.sum();
    }

    private void loop() {
        int failures = 0;
        while (running) {
            try {
                pollOnce(POLL_WAIT_MILLIS);
                if (failures > 0) {
                    LOG.atInfo()
                            .addKeyValue(LogFields.HUB, hubUri)
                            .log("sync: pull from {} recovered after {} failures", hubUri, failures);
                }
                failures = 0;
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                failures++;
                lastError = hub.describe(e);
                if (failures == 1) {
                    SyncLog.about(LOG.atWarn(), hubUri, null)
                            .addKeyValue(LogFields.ADVICE, SyncLog.LINK_ADVICE)
                            .log("sync: pull from {} failed: {}; backing off", hubUri, lastError);
                }
                try {
                    Thread.sleep(Math.max(1, backoff.waitMillis(failures)));
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** One long poll: applies what the hub sends and persists the new position. */
    void pollOnce(long waitMillis) throws IOException, InterruptedException {
        HttpRequest req = hub.request(
                        SyncProtocol.PULL_PATH + "?after=" + position + "&wait_millis=" + waitMillis,
                        waitMillis + POLL_MARGIN_MILLIS)
                .GET()
                .build();
        HttpResponse<byte[]> resp = hub.send(req, HttpResponse.BodyHandlers.ofByteArray());
        if (resp.statusCode() != 200) {
            throw hub.refused("pull changes", resp.statusCode(), resp.body());
        }
        PullPage page = PullPage.parse(resp.body());
        long next = Math.max(position, page.next());
        for (PullPage.Change c : page.changes()) {
            apply(c);
            next = Math.max(next, c.seq());
        }
        if (next > position) {
            AckedRanges r = new AckedRanges();
            r.add(1, next);
            positions.putSyncCursor(CURSOR_PREFIX + hubUri, CURSOR_LANE, r);
            position = next;
        }
        lastSuccessMillis = System.currentTimeMillis();
    }

    private void apply(PullPage.Change c) {
        if (c.change() instanceof FleetChange.Unreadable u) {
            failedChanges.increment();
            LOG.atError()
                    .addKeyValue(LogFields.HUB, hubUri)
                    .addKeyValue(
                            LogFields.ADVICE,
                            "run the same version on this node as on the hub; the change is"
                                    + " not applied here until the hub publishes it again")
                    .log("sync: change {} from {} cannot be read and is skipped: {}", c.seq(), hubUri, u.problem());
            return;
        }
        try {
            applier.apply(c.change(), c.hlc());
            applied.increment();
        } catch (RuntimeException e) {
            failedChanges.increment();
            LOG.atError()
                    .addKeyValue(LogFields.HUB, hubUri)
                    .addKeyValue(
                            LogFields.ADVICE,
                            "the change is not applied here: publish it again from the hub once"
                                    + " the cause below is fixed")
                    .setCause(e)
                    .log("sync: change {} from {} could not be applied and is skipped", c.seq(), hubUri);
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        hub.close();
    }
}

package dev.outpost.edge.loadgen;

import dev.outpost.compress.FrameCodec;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Lane;
import dev.outpost.store.StoreException;
import dev.outpost.sync.Backoff;
import dev.outpost.sync.wire.PushAck;
import dev.outpost.sync.wire.WireException;
import java.io.IOException;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;

/**
 * One simulated node coming back after an outage: the edge pusher's protocol (dev.outpost.sync.Pusher) on a virtual
 * thread, against one or several hub addresses.
 *
 * <p>Design note. As the edge: the first request waits a uniform random time (the edge's backoff was at its cap
 * during the outage); the position is first re-derived from the hub ({@code GET /v1/sync/cursor} for every lane), and
 * again after any error; a push is counted acknowledged only on a 200 whose acknowledgement matches the batch; 429
 * and 503 are not errors but "come back after Retry-After" (the cursor is kept). Beyond the edge: several hub
 * addresses, of which the node prefers one (spread by its index); a 503 makes it try the others at once (a hub that
 * does not own the node's shard answers 503; another one may), and it stays with the one that answered. Only when
 * every hub said 503, or on 429, does it wait: Retry-After plus a uniform jitter of up to as much again, so nodes
 * told to come back together do not.
 */
final class SimulatedNode implements Runnable {
    /** Most tries of one cursor read back after the run (each waits out a 429 or an all-503 round). */
    static final int VERIFY_ATTEMPTS_MAX = 20;

    private final FleetNodes.Identity id;
    private final NodeBacklog backlog;
    private final FleetLink link;
    private final FleetTally tally;
    private final ExecutorService encoders;
    private final FrameCodec codec;
    private final Backoff backoff;
    private final SplittableRandom random;
    private final long startDelayMillis;
    private int hub;
    private int failures;
    private boolean rederive = true;

    /** The outcome of a request tried over the hubs. */
    private enum Outcome {
        OK,
        WAITED,
        FAILED
    }

    SimulatedNode(
            int index,
            FleetNodes.Identity id,
            NodeBacklog backlog,
            FleetLink link,
            FleetTally tally,
            ExecutorService encoders,
            FrameCodec codec,
            FleetOptions o) {
        this.id = id;
        this.backlog = backlog;
        this.link = link;
        this.tally = tally;
        this.encoders = encoders;
        this.codec = codec;
        this.random = new SplittableRandom(o.seed() * 31 + index);
        this.backoff = new Backoff(o.backoffBaseMillis(), o.backoffCapMillis(), random);
        this.startDelayMillis = o.startJitterMillis() == 0 ? 0 : random.nextLong(o.startJitterMillis() + 1);
        this.hub = index % link.hubCount();
    }

    @Override
    public void run() {
        try {
            Thread.sleep(startDelayMillis);
            while (!tally.overtime()) {
                if (rederive && rederive() != Outcome.OK) {
                    continue;
                }
                NodeBacklog.Batch b = encode();
                if (b == null) {
                    tally.nodeDrained();
                    return;
                }
                push(b);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The next batch, encoded off this virtual thread (codec contexts are per platform thread, and few). */
    private NodeBacklog.Batch encode() throws InterruptedException {
        try {
            return encoders.submit(() -> backlog.next(codec, id.id())).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("encoding a batch of node " + id.id() + " failed", e.getCause());
        }
    }

    private void push(NodeBacklog.Batch b) throws InterruptedException {
        long left = Math.max(0, backlog.remainingRecords() - b.records());
        Try t = over(h -> link.push(h, id, b.body(), left, left * backlog.eventBytes()));
        if (t.outcome != Outcome.OK) {
            return;
        }
        FleetLink.Answer a = t.answer;
        if (a.status() != 200) {
            failed("push " + b.lane().id() + " " + b.from() + ".." + b.to() + ": " + a.status() + " "
                    + excerpt(a.body()));
            return;
        }
        PushAck ack;
        try {
            ack = PushAck.parse(a.body());
        } catch (WireException e) {
            failed("push acknowledgement unreadable: " + e.getMessage());
            return;
        }
        if (ack.fromSeq() != b.from() || ack.toSeq() != b.to() || ack.lane() != b.lane()) {
            failed("acknowledgement " + excerpt(a.body()) + " does not match " + b.from() + ".." + b.to());
            return;
        }
        backlog.acknowledged(b);
        failures = 0;
        tally.acknowledged(hub, b.records(), ack.stored(), ack.duplicates(), a.nanos());
    }

    /**
     * After the run: whether the hubs hold every event of this node (each lane's cursor, read back, covers its
     * backlog). Waits out 429/503 a bounded number of times.
     */
    boolean verify() throws InterruptedException {
        for (Lane lane : NodeBacklog.LANES) {
            Try t = null;
            for (int attempt = 0; attempt < VERIFY_ATTEMPTS_MAX; attempt++) {
                t = over(h -> link.cursor(h, id, lane));
                if (t.outcome != Outcome.WAITED) {
                    break;
                }
            }
            if (t.outcome != Outcome.OK || t.answer.status() != 200) {
                return false;
            }
            try {
                if (!backlog.covers(lane, AckedRanges.decode(t.answer.body(), null))) {
                    return false;
                }
            } catch (StoreException e) {
                return false;
            }
        }
        return true;
    }

    /** Replaces the cursors with what the hub holds, lane by lane, as the edge does after an error. */
    private Outcome rederive() throws InterruptedException {
        for (Lane lane : Lane.values()) {
            tally.cursorRequests.increment();
            Try t = over(h -> link.cursor(h, id, lane));
            if (t.outcome != Outcome.OK) {
                return t.outcome;
            }
            if (t.answer.status() != 200) {
                failed("cursor of lane " + lane.id() + ": " + t.answer.status() + " " + excerpt(t.answer.body()));
                return Outcome.FAILED;
            }
            try {
                backlog.replace(lane, AckedRanges.decode(t.answer.body(), null));
            } catch (StoreException e) {
                failed("cursor of lane " + lane.id() + " unreadable: " + e.getMessage());
                return Outcome.FAILED;
            }
        }
        rederive = false;
        return Outcome.OK;
    }

    /** A request that throws I/O errors. */
    private interface Request {
        FleetLink.Answer send(int hub) throws IOException, InterruptedException;
    }

    private record Try(Outcome outcome, FleetLink.Answer answer) {}

    /**
     * Sends {@code r} to the preferred hub, and on 503 to each other hub once; stays with the first that does not say
     * 503. Waits (and says so) on 429 or when all said 503; fails (backing off) on an I/O error.
     */
    private Try over(Request r) throws InterruptedException {
        long retryAfter = 1;
        for (int i = 0; i < link.hubCount(); i++) {
            int h = (hub + i) % link.hubCount();
            FleetLink.Answer a;
            try {
                a = r.send(h);
            } catch (IOException e) {
                hub = (h + 1) % link.hubCount(); // a hub that cannot be reached: the next one next time
                failed("hub " + link.hub(h) + ": " + e);
                return new Try(Outcome.FAILED, null);
            }
            if (a.status() == 503) {
                tally.unavailable.increment();
                retryAfter = a.retryAfterSeconds();
                continue;
            }
            if (h != hub) {
                tally.hubSwitches.increment();
                hub = h;
            }
            if (a.status() == 429) {
                tally.throttled.increment();
                waitRetryAfter(a.retryAfterSeconds());
                return new Try(Outcome.WAITED, a);
            }
            return new Try(Outcome.OK, a);
        }
        waitRetryAfter(retryAfter);
        return new Try(Outcome.WAITED, null);
    }

    /** Retry-After, plus up to as much again at random, as the edge waits. */
    private void waitRetryAfter(long seconds) throws InterruptedException {
        Thread.sleep(Math.max(1, backoff.retryAfterMillis(seconds)));
    }

    /** An error as the edge sees one: counted, the cursor re-derived next, a jittered backoff first. */
    private void failed(String what) throws InterruptedException {
        tally.error("node " + id.id() + ": " + what);
        rederive = true;
        failures++;
        Thread.sleep(backoff.waitMillis(failures));
    }

    private static String excerpt(byte[] body) {
        String s = body == null ? "" : new String(body, java.nio.charset.StandardCharsets.UTF_8);
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}

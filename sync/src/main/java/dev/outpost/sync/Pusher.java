package dev.outpost.sync;

import dev.outpost.compress.Choice;
import dev.outpost.compress.CodecPolicy;
import dev.outpost.compress.Dictionary;
import dev.outpost.compress.FrameCodec;
import dev.outpost.compress.Pressure;
import dev.outpost.compress.Purpose;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedLog;
import dev.outpost.store.LogFields;
import dev.outpost.store.SyncCursors;
import dev.outpost.sync.wire.PushAck;
import dev.outpost.sync.wire.PushBatch;
import dev.outpost.sync.wire.SyncProtocol;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge side of push: drains the event log's lanes to one upstream hub.
 *
 * <p>Design note (after Litestream). Invariants:
 *
 * <ul>
 *   <li>The position is explicit: per lane, the set of acknowledged sequence ranges ({@link
 *       AckedRanges}), persisted ({@link SyncCursors}) and advanced only after the hub acknowledged
 *       the batch. After any error it is re-derived from the hub (which is authoritative: it holds
 *       what it stored).
 *   <li>One sync at a time: a single thread owns the cursors and sends one batch at a time, the
 *       next one read while the last is on the wire. What goes next is {@link PushSchedule}'s
 *       business; the HTTP link is {@link HubClient}'s.
 *   <li>Manners: exponential backoff with full jitter and a cap; 429/503 Retry-After obeyed; a
 *       circuit breaker that opens only when failures persist over a window (a hub started with
 *       its edge gets a fair chance); an optional bandwidth cap; a "recovered" log line after
 *       failures; every error names the hub's host and port and the reason.
 *   <li>Never affects ingest: it only reads the log; if the hub is missing nothing blocks.
 * </ul>
 */
public final class Pusher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Pusher.class);

    /**
     * How to push.
     *
     * @param hub the hub's base URL
     * @param node this node's id
     * @param token this node's token at the hub
     * @param batchRecordsMax most records per batch
     * @param batchBytesMax most payload bytes per batch (before compression)
     * @param backoffBaseMillis first backoff ceiling
     * @param backoffCapMillis largest backoff ceiling
     * @param breakerFailures consecutive failures needed to open the circuit
     * @param breakerWindowMillis how long failures must persist to open it (a starting hub's grace)
     * @param breakerOpenMillis how long the circuit stays open
     * @param bandwidthBytesPerSecond upload cap, 0 for none
     * @param requestTimeoutMillis timeout of one request
     * @param idlePollMillis how often an idle pusher looks for new records if not woken
     * @param sslContext the TLS context for an https:// hub (its trusted certificates), or null for
     *     the JDK's default; hostname verification stays on either way
     */
    public record Options(
            URI hub,
            String node,
            String token,
            int batchRecordsMax,
            int batchBytesMax,
            long backoffBaseMillis,
            long backoffCapMillis,
            int breakerFailures,
            long breakerWindowMillis,
            long breakerOpenMillis,
            long bandwidthBytesPerSecond,
            long requestTimeoutMillis,
            long idlePollMillis,
            javax.net.ssl.SSLContext sslContext) {}

    /** Where the link is. */
    public enum Link {
        /** Not yet reached the hub since start. */
        CONNECTING,
        /** The last request succeeded. */
        CONNECTED,
        /** The last request failed; waiting before the next. */
        BACKING_OFF,
        /** Failures persisted; not trying until the circuit half-opens. */
        CIRCUIT_OPEN
    }

    /** What a lane still has to send. {@code exact} is false if the count stopped at the scan bound. */
    public record Backlog(long records, long bytes, long oldestHlc, boolean exact) {}

    private final Options o;
    private final LanedLog log;
    private final SyncCursors positions;
    private final WireDictionaries dictionaries;
    private final String cursorKey;
    private final HubClient hub;
    private final FrameCodec codec = new FrameCodec();
    private final boolean zstd;
    private final PushSchedule schedule;
    /** Per lane: a snapshot of the cursor for other threads, and the backlog kept up to date. */
    private final Map<Lane, BacklogTally> tallies = new EnumMap<>(Lane.class);

    private final Backoff backoff;
    private final CircuitBreaker breaker;
    private final Bandwidth bandwidth;
    private final Semaphore wake = new Semaphore(0);
    private final Set<Long> uploadedDictionaries = new HashSet<>();
    private final PushCounters counters = new PushCounters();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Link link = Link.CONNECTING;
    private volatile long lastSuccessMillis;
    private volatile long lastErrorMillis;
    private volatile String lastError;
    private volatile int consecutiveFailures;
    private long failingSinceMillis;
    private boolean rederive = true;

    /**
     * @param positions where the acknowledged ranges are kept (per hub URL and lane)
     * @param dictionaries the streams' wire dictionaries (used only if {@code zstdAvailable})
     * @param scale smaller batches under latency pressure ({@link BatchScaling#NONE}: none)
     */
    public Pusher(
            Options o,
            LanedLog log,
            SyncCursors positions,
            WireDictionaries dictionaries,
            boolean zstdAvailable,
            BatchScaling scale) {
        this.o = o;
        this.log = log;
        this.positions = positions;
        this.dictionaries = dictionaries;
        this.zstd = zstdAvailable;
        this.cursorKey = o.hub().toString();
        this.hub = new HubClient(
                o.hub(), o.node(), o.token(), o.requestTimeoutMillis(), o.requestTimeoutMillis(), o.sslContext());
        this.backoff = new Backoff(o.backoffBaseMillis(), o.backoffCapMillis());
        this.breaker = new CircuitBreaker(
                o.breakerFailures(), o.breakerWindowMillis(), o.breakerOpenMillis(), System::currentTimeMillis);
        this.bandwidth = new Bandwidth(o.bandwidthBytesPerSecond(), System::nanoTime);
        Map<Lane, AckedRanges> acked = new EnumMap<>(Lane.class);
        for (Lane lane : Lane.values()) {
            acked.put(lane, positions.syncCursor(cursorKey, lane.id()));
        }
        this.schedule = new PushSchedule(log, o.node(), acked, o.batchRecordsMax(), o.batchBytesMax(), scale);
        java.util.Arrays.stream(Lane.values()).forEach(l -> tallies.put(l, new BacklogTally(log.lane(l), snapshot(l))));
        this.thread = Thread.ofPlatform().name("outpost-sync-push").daemon().unstarted(this::loop);
    }

    /** Starts the sync thread. */
    public Pusher start() {
        thread.start();
        SyncLog.about(LOG.atInfo(), o.hub(), null).log("sync: pushing to {} as node {}", o.hub(), o.node());
        return this;
    }

    /** New records were appended: look now instead of at the next poll. Cheap; call it on every append. */
    public void wake() {
        if (wake.availablePermits() == 0) {
            wake.release();
        }
    }

    private void loop() {
        PushBatch prepared = null;
        while (running) {
            Lane lane = null; // the batch's, for the log (none while the cursors of all lanes are read)
            try {
                long wait = breaker.waitMillis();
                if (wait > 0) {
                    link = Link.CIRCUIT_OPEN;
                    Thread.sleep(wait);
                    continue;
                }
                if (rederive) {
                    prepared = null;
                    rederive();
                    rederive = false;
                    succeeded();
                }
                PushBatch b = prepared != null ? prepared : schedule.next(null);
                prepared = null;
                lane = b == null ? null : b.lane();
                if (b == null) {
                    wake.tryAcquire(o.idlePollMillis(), TimeUnit.MILLISECONDS);
                    continue;
                }
                // Pipelined: the next batch is read and encoded while this one is on the wire and
                // being stored at the hub. It excludes this one's range; on any failure it is dropped.
                CompletableFuture<HttpResponse<byte[]>> answer = post(b);
                PushBatch following = schedule.next(b);
                handle(b, HubClient.await(answer));
                prepared = following;
            } catch (InterruptedException e) {
                return;
            } catch (Throttled t) {
                counters.throttled.increment();
                SyncLog.about(LOG.atInfo(), o.hub(), lane).log("sync: hub {} asked to wait {} s", o.hub(), t.seconds);
                sleepQuietly(backoff.retryAfterMillis(t.seconds));
            } catch (RuntimeException | IOException e) {
                failed(e, lane);
            }
        }
    }

    /** The hub's answer to a push or cursor request said "not now". */
    private static final class Throttled extends Exception {
        private static final long serialVersionUID = 1L;
        final long seconds;

        Throttled(long seconds) {
            super(null, null, false, false);
            this.seconds = seconds;
        }
    }

    private void failed(Exception e, Lane lane) {
        counters.failures.increment();
        rederive = true;
        long now = System.currentTimeMillis();
        if (consecutiveFailures == 0) {
            failingSinceMillis = now;
        }
        lastErrorMillis = now;
        lastError = hub.describe(e);
        boolean wasClosed = breaker.state() == CircuitBreaker.State.CLOSED;
        boolean opened = breaker.failure();
        consecutiveFailures = breaker.failures();
        if (opened && wasClosed || breaker.failures() == 1) {
            SyncLog.about(LOG.atWarn(), o.hub(), lane)
                    .addKeyValue(LogFields.ADVICE, SyncLog.LINK_ADVICE)
                    .log(
                            "sync: push to {} failed: {}; {}",
                            o.hub(),
                            lastError,
                            opened && wasClosed
                                    ? "circuit opened after " + breaker.failures() + " failures over "
                                            + (now - failingSinceMillis) + " ms; next attempt in "
                                            + o.breakerOpenMillis() + " ms"
                                    : "backing off");
        }
        link = opened ? Link.CIRCUIT_OPEN : Link.BACKING_OFF;
        if (!opened) {
            sleepQuietly(backoff.waitMillis(breaker.failures()));
        }
    }

    private void succeeded() {
        int ended = breaker.success();
        consecutiveFailures = 0;
        if (ended > 0) {
            long ms = System.currentTimeMillis() - failingSinceMillis;
            SyncLog.about(LOG.atInfo(), o.hub(), null)
                    .log("sync: link recovered after {} failures over {} ms", ended, ms);
        }
        if (link != Link.CONNECTED) {
            schedule.linkUp();
        }
        link = Link.CONNECTED;
        lastSuccessMillis = System.currentTimeMillis();
    }

    /** The batch {@link #next} would send now (for tests: what goes first). */
    PushBatch next(PushBatch inFlight) {
        return schedule.next(inFlight);
    }

    /** Changes the upload cap, bytes per second (0: none); the next batch obeys it. */
    public void bandwidthBytesPerSecond(long cap) {
        bandwidth.bytesPerSecond(cap);
    }

    /** The upload cap in force, bytes per second (0: none). */
    public long bandwidthBytesPerSecond() {
        return bandwidth.bytesPerSecond();
    }

    /** Encodes and sends {@code b}, after the bandwidth cap allows it; the answer comes later. */
    private CompletableFuture<HttpResponse<byte[]>> post(PushBatch b) throws InterruptedException, IOException {
        long raw = 0;
        for (PushBatch.Record rec : b.records()) {
            raw += rec.payload().length;
        }
        // A batch of one stream uses that stream's wire dictionary where one was trained: small
        // (live) batches barely compress without one. The hub gets the dictionary once, first.
        Dictionary dict = oneStreamDictionary(b);
        Choice choice = CodecPolicy.choose(
                (int) Math.min(raw, Integer.MAX_VALUE), Purpose.WIRE, Pressure.NONE, dict != null, zstd);
        if (choice.dictionary()) {
            uploadDictionary(b.records().getFirst().stream(), dict);
        }
        byte[] body = b.encode(codec, choice, choice.dictionary() ? dict : null);
        long wait;
        while ((wait = bandwidth.waitMillisFor(body.length)) > 0) {
            Thread.sleep(wait);
        }
        Backlog all = BacklogTally.total(tallies.values()); // what is left besides this batch: the hub's fleet table
        String records = Long.toString(Math.max(0, all.records() - b.records().size()));
        HttpRequest req = hub.request(SyncProtocol.PUSH_PATH)
                .header("Content-Type", SyncProtocol.PUSH_CONTENT_TYPE)
                .header(SyncProtocol.BACKLOG_RECORDS_HEADER, records)
                .header(SyncProtocol.BACKLOG_BYTES_HEADER, Long.toString(Math.max(0, all.bytes() - raw)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        counters.wireBytes.add(body.length);
        return hub.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray());
    }

    /** The wire dictionary of the batch's only stream, or null (several streams, or none trained). */
    private Dictionary oneStreamDictionary(PushBatch b) {
        if (b.records().isEmpty() || !zstd) {
            return null;
        }
        String stream = b.records().getFirst().stream();
        for (PushBatch.Record r : b.records()) {
            if (!r.stream().equals(stream)) {
                return null;
            }
        }
        return dictionaries.latest(stream);
    }

    /** Sends {@code d} to the hub unless it already has it (as far as this run knows). */
    private void uploadDictionary(String stream, Dictionary d) throws IOException, InterruptedException {
        if (uploadedDictionaries.contains(d.id())) {
            return;
        }
        String id = Long.toHexString(d.id());
        HttpRequest req = hub.request(SyncProtocol.DICTIONARIES_PATH + id + "?stream=" + stream)
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(d.bytes()))
                .build();
        HttpResponse<byte[]> resp = hub.send(req, HttpResponse.BodyHandlers.ofByteArray());
        if (resp.statusCode() != 200 && resp.statusCode() != 201) {
            throw hub.refused("upload dictionary " + id, resp.statusCode(), resp.body());
        }
        uploadedDictionaries.add(d.id());
        SyncLog.about(LOG.atInfo(), o.hub(), null)
                .addKeyValue(LogFields.STREAM, stream)
                .log("sync: wire dictionary {} of stream {} uploaded to {}", id, stream, o.hub());
    }

    /** Applies the hub's answer to {@code b}: advances the cursor on an acknowledgement, else throws. */
    private void handle(PushBatch b, HttpResponse<byte[]> resp) throws Throttled {
        int st = resp.statusCode();
        if (st == 200) {
            PushAck ack = PushAck.parse(resp.body());
            if (ack.fromSeq() != b.fromSeq() || ack.toSeq() != b.toSeq() || ack.lane() != b.lane()) {
                throw new SyncException(
                        "push",
                        o.hub().toString(),
                        "the hub's acknowledgement does not match the batch: " + HubClient.excerpt(resp.body()),
                        0,
                        null);
            }
            acknowledged(b);
            return;
        }
        if (st == 429 || st == 503) {
            throw new Throttled(HubClient.retryAfterSeconds(resp));
        }
        if (st == 413) {
            schedule.tooLarge();
        }
        if (st == 409) {
            rederive = true;
        }
        if (st == 422) {
            uploadedDictionaries.clear(); // the hub lost a dictionary: send them again
        }
        throw hub.refused(
                "push " + b.records().size() + " records of lane " + b.lane().id(), st, resp.body());
    }

    /** The hub acknowledged {@code b}: persist the cursor, then count. */
    private void acknowledged(PushBatch b) {
        if (!schedule.acknowledged(b)) {
            rederive = true; // bound reached: the next batches go in order (see PushSchedule)
        }
        positions.putSyncCursor(cursorKey, b.lane().id(), schedule.acked(b.lane()));
        tallies.get(b.lane()).acknowledged(snapshot(b.lane()), b.records());
        counters.batches.increment();
        counters.records.add(b.records().size());
        for (PushBatch.Record rec : b.records()) {
            counters.payloadBytes.add(rec.payload().length);
        }
        succeeded();
    }

    /** Replaces the cursors with what the hub says it holds (it is authoritative). */
    private void rederive() throws IOException, InterruptedException, Throttled {
        for (Lane lane : Lane.values()) {
            HttpRequest req = hub.request(SyncProtocol.CURSOR_PATH + "?lane=" + lane.id())
                    .GET()
                    .build();
            HttpResponse<byte[]> resp = hub.send(req, HttpResponse.BodyHandlers.ofByteArray());
            if (resp.statusCode() == 429 || resp.statusCode() == 503) {
                throw new Throttled(HubClient.retryAfterSeconds(resp));
            }
            if (resp.statusCode() != 200) {
                throw hub.refused("read cursor of lane " + lane.id(), resp.statusCode(), resp.body());
            }
            AckedRanges remote = AckedRanges.decode(resp.body(), null);
            AckedRanges local = schedule.acked(lane);
            if (!remote.equals(local)) {
                SyncLog.about(LOG.atInfo(), o.hub(), lane)
                        .log("sync: lane {} cursor re-derived from the hub: {} (was {})", lane.id(), remote, local);
                schedule.replace(lane, remote);
                positions.putSyncCursor(cursorKey, lane.id(), remote);
                tallies.get(lane).replace(snapshot(lane));
            }
        }
    }

    /** A copy of the lane's cursor for other threads (the sync thread goes on changing its own). */
    private AckedRanges snapshot(Lane lane) {
        return AckedRanges.decode(schedule.acked(lane).encode(), null);
    }

    private void sleepQuietly(long millis) {
        try {
            Thread.sleep(Math.max(1, millis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** The acknowledged ranges of {@code lane} (a snapshot). */
    public AckedRanges cursor(Lane lane) {
        return tallies.get(lane).acked();
    }

    public Link link() {
        return link;
    }

    public long lastSuccessMillis() {
        return lastSuccessMillis;
    }

    public long lastErrorMillis() {
        return lastErrorMillis;
    }

    /** The last failure, naming the hub's host and port and the reason; null if none yet. */
    public String lastError() {
        return lastError;
    }

    public URI hub() {
        return o.hub();
    }

    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** What the push has done since start. */
    public PushCounters counters() {
        return counters;
    }

    /**
     * What {@code lane} has not yet sent: kept up to date (see {@link BacklogTally}), reading at
     * most {@code scanRecordsMax} records it had not counted yet.
     */
    public Backlog backlog(Lane lane, int scanRecordsMax) {
        return tallies.get(lane).read(scanRecordsMax);
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

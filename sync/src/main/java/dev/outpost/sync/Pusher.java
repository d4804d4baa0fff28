package dev.outpost.sync;

import dev.outpost.compress.Choice;
import dev.outpost.compress.CodecPolicy;
import dev.outpost.compress.FrameCodec;
import dev.outpost.compress.Pressure;
import dev.outpost.compress.Purpose;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Catalog;
import dev.outpost.store.ChronicleEventLog;
import dev.outpost.store.EventCursor;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.RecordView;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge side of push: drains the event log's lanes to one upstream hub.
 *
 * <p>Design note (after Litestream). Invariants:
 *
 * <ul>
 *   <li>The position is explicit: per lane, the set of acknowledged sequence ranges ({@link
 *       AckedRanges}), persisted in the catalog and advanced only after the hub acknowledged the
 *       batch. After any error it is re-derived from the hub (which is authoritative: it holds what
 *       it stored).
 *   <li>One sync at a time: a single thread owns the cursors and sends one batch at a time.
 *   <li>Order: lanes in priority order (critical first). Within a lane, the newest batch's worth
 *       of records goes first, then records ingested since the link came up ("live", from {@code
 *       liveFrom}), then the backlog, oldest first; newest-first and forward batches alternate. So
 *       after an outage the newest data reaches the hub within one batch.
 *   <li>A batch covers a range: every record of its lane in the range is in it. Ranges start at a
 *       gap of the cursor, so acknowledged ranges join up instead of fragmenting.
 *   <li>Manners: exponential backoff with full jitter and a cap; 429/503 Retry-After obeyed; a
 *       circuit breaker; an optional bandwidth cap; a "recovered" log line after failures.
 *   <li>Never affects ingest: it only reads the log; if the hub is missing nothing blocks.
 * </ul>
 */
public final class Pusher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Pusher.class);

    /** Content type of a push body. */
    public static final String CONTENT_TYPE = "application/vnd.outpost.push-batch";

    /** Header naming the node (the token is in Authorization). */
    public static final String NODE_HEADER = "X-Outpost-Node";

    /** Ranges a cursor may hold before the lane sends only in order (see {@link AckedRanges}). */
    static final int OUT_OF_ORDER_RANGES_MAX = AckedRanges.RANGES_MAX - 16;

    /** Longest Retry-After obeyed, in seconds (a hub asking for more is capped here). */
    static final long RETRY_AFTER_SECONDS_MAX = 300;

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
     * @param breakerFailures consecutive failures that open the circuit
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
        /** Too many failures in a row; not trying until the circuit half-opens. */
        CIRCUIT_OPEN
    }

    /** What a lane still has to send. {@code exact} is false if the count stopped at the scan bound. */
    public record Backlog(long records, long bytes, long oldestHlc, boolean exact) {}

    private final Options o;
    private final LanedEventLog log;
    private final Catalog catalog;
    private final String cursorKey;
    private final HttpClient http;
    private final FrameCodec codec = new FrameCodec();
    private final boolean zstd;
    private final Map<Lane, AckedRanges> cursors = new EnumMap<>(Lane.class);
    /** Per lane: a snapshot of the cursor for other threads, and the backlog kept up to date. */
    private final Map<Lane, BacklogTally> tallies = new EnumMap<>(Lane.class);

    private final long[] liveFrom = new long[Lane.values().length];
    /** Per lane: whether its next batch is the newest window (alternates with forward batches). */
    private final boolean[] newestNext = new boolean[Lane.values().length];

    private final Backoff backoff;
    private final CircuitBreaker breaker;
    private final Bandwidth bandwidth;
    private final Semaphore wake = new Semaphore(0);
    private final java.util.Set<Long> uploadedDictionaries = new java.util.HashSet<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Link link = Link.CONNECTING;
    private volatile long lastSuccessMillis;
    private volatile long lastErrorMillis;
    private volatile String lastError;
    private volatile long failingSinceMillis;
    private final dev.outpost.governor.BatchScale scale;
    private boolean rederive = true;
    private int batchRecords;
    private int batchBytes;

    /** Batches the hub acknowledged. */
    public final LongAdder batches = new LongAdder();
    /** Records the hub acknowledged (including ones it already had). */
    public final LongAdder records = new LongAdder();
    /** Bytes sent on the wire (push bodies, acknowledged or not). */
    public final LongAdder wireBytes = new LongAdder();
    /** Payload bytes (the stored event JSON) of acknowledged batches. */
    public final LongAdder payloadBytes = new LongAdder();
    /** Failed requests. */
    public final LongAdder failures = new LongAdder();
    /** 429 and 503 answers obeyed. */
    public final LongAdder throttled = new LongAdder();

    /** @param scale the governor's batch scale (smaller batches under latency pressure) */
    public Pusher(
            Options o,
            LanedEventLog log,
            Catalog catalog,
            boolean zstdAvailable,
            dev.outpost.governor.BatchScale scale) {
        this.o = o;
        this.scale = scale;
        this.log = log;
        this.catalog = catalog;
        this.zstd = zstdAvailable;
        this.cursorKey = o.hub().toString();
        this.batchRecords = o.batchRecordsMax();
        this.batchBytes = o.batchBytesMax();
        this.http = client(Duration.ofMillis(Math.min(o.requestTimeoutMillis(), 5000)), o.sslContext());
        this.backoff = new Backoff(o.backoffBaseMillis(), o.backoffCapMillis(), ThreadLocalRandom.current());
        this.breaker = new CircuitBreaker(o.breakerFailures(), o.breakerOpenMillis(), System::currentTimeMillis);
        this.bandwidth = new Bandwidth(o.bandwidthBytesPerSecond(), System::nanoTime);
        for (Lane lane : Lane.values()) {
            AckedRanges r = catalog.syncCursor(cursorKey, lane.id());
            cursors.put(lane, r);
            tallies.put(lane, new BacklogTally(log.lane(lane), snapshot(lane)));
            liveFrom[lane.ordinal()] = log.lastSeq() + 1;
        }
        this.thread = Thread.ofPlatform().name("outpost-sync-push").daemon().unstarted(this::loop);
    }

    /** The client for the hub: HTTP/1.1, with {@code sslContext} if not null (hostname verification on). */
    static HttpClient client(Duration connectTimeout, javax.net.ssl.SSLContext sslContext) {
        HttpClient.Builder b =
                HttpClient.newBuilder().connectTimeout(connectTimeout).version(HttpClient.Version.HTTP_1_1);
        if (sslContext != null) {
            b.sslContext(sslContext);
        }
        return b.build();
    }

    /**
     * What went wrong, for the log and GET /v1/sync/status. A TLS failure says so: its own message
     * (e.g. "PKIX path building failed") does not tell an operator where to look.
     */
    static String describe(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof javax.net.ssl.SSLException ssl) {
                String m = ssl.getMessage() == null ? ssl.getClass().getSimpleName() : ssl.getMessage();
                String hint = m.contains("PKIX")
                        ? "its certificate is not trusted: sync.tls_trust_file"
                        : m.contains("matching")
                                ? "its certificate does not name the host of sync.upstream"
                                : "check sync.tls_trust_file and the host of sync.upstream";
                return "TLS handshake with the hub failed (" + hint + "): " + m;
            }
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** Starts the sync thread. */
    public Pusher start() {
        thread.start();
        LOG.info("sync: pushing to {} as node {}", o.hub(), o.node());
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
            try {
                long wait = breaker.waitMillis();
                if (wait > 0) {
                    link = Link.CIRCUIT_OPEN;
                    sleep(wait);
                    continue;
                }
                if (rederive) {
                    prepared = null;
                    rederive();
                    rederive = false;
                    succeeded();
                }
                PushBatch b = prepared != null ? prepared : next(null);
                prepared = null;
                if (b == null) {
                    wake.tryAcquire(o.idlePollMillis(), TimeUnit.MILLISECONDS);
                    continue;
                }
                // Pipelined: the next batch is read and encoded while this one is on the wire and
                // being stored at the hub. It excludes this one's range; on any failure it is dropped.
                CompletableFuture<HttpResponse<String>> answer = post(b);
                PushBatch following = next(b);
                handle(b, await(answer));
                prepared = following;
            } catch (InterruptedException e) {
                return;
            } catch (Throttled t) {
                throttled.increment();
                LOG.info("sync: hub {} asked to wait {} s", o.hub(), t.seconds);
                sleepQuietly(t.seconds * 1000);
            } catch (RuntimeException | IOException e) {
                failed(e);
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

    private void failed(Exception e) {
        failures.increment();
        rederive = true;
        long now = System.currentTimeMillis();
        if (breaker.failures() == 0) {
            failingSinceMillis = now;
        }
        lastErrorMillis = now;
        lastError = describe(e);
        boolean opened = breaker.failure();
        if (opened && breaker.failures() == o.breakerFailures()) {
            LOG.warn(
                    "sync: circuit to {} opened after {} failures; next attempt in {} ms; last error: {}",
                    o.hub(),
                    breaker.failures(),
                    o.breakerOpenMillis(),
                    lastError);
        } else if (breaker.failures() == 1) {
            LOG.warn("sync: push to {} failed: {}; backing off", o.hub(), lastError);
        }
        link = opened ? Link.CIRCUIT_OPEN : Link.BACKING_OFF;
        if (!opened) {
            sleepQuietly(backoff.waitMillis(breaker.failures()));
        }
    }

    private void succeeded() {
        int ended = breaker.success();
        if (ended > 0) {
            LOG.info(
                    "sync: link to {} recovered after {} failures over {} ms",
                    o.hub(),
                    ended,
                    System.currentTimeMillis() - failingSinceMillis);
        }
        if (link != Link.CONNECTED) {
            // The link (re)opened: everything from here on is live and goes before the backlog.
            long next = log.lastSeq() + 1;
            for (Lane lane : Lane.values()) {
                liveFrom[lane.ordinal()] = next;
            }
        }
        link = Link.CONNECTED;
        lastSuccessMillis = System.currentTimeMillis();
    }

    /**
     * The next batch: lanes in priority order; within a lane the newest records first, then the
     * live region (since the link came up) forward, then the backlog forward, oldest first. A lane
     * alternates newest-first and forward batches so a steady stream of new records never starves
     * the older ones. Null if nothing is pending.
     */
    PushBatch next(PushBatch inFlight) {
        long top = log.lastSeq();
        for (Lane lane : Lane.values()) {
            AckedRanges r = cursors.get(lane);
            Pending pending = new Pending(r, inFlight != null && inFlight.lane() == lane ? inFlight : null);
            long live = liveFrom[lane.ordinal()];
            if (r.rangeCount() < OUT_OF_ORDER_RANGES_MAX) {
                int i = lane.ordinal();
                if (newestNext[i]) {
                    // The newest window: at most a batch's worth of sequence numbers below the top.
                    long window = Math.max(1, top - scale.apply(batchRecords, 1) + 1);
                    PushBatch b = read(lane, pending, pending.firstGap(window), Long.MAX_VALUE, false);
                    if (b != null) {
                        newestNext[i] = false;
                        return b;
                    }
                }
                newestNext[i] = true;
                PushBatch b = read(lane, pending, pending.firstGap(live), Long.MAX_VALUE, false);
                if (b != null) {
                    return b;
                }
            }
            long from = pending.firstGap(1);
            long limit = r.rangeCount() < OUT_OF_ORDER_RANGES_MAX ? live - 1 : Long.MAX_VALUE;
            if (from <= limit) {
                PushBatch b = read(lane, pending, from, limit, true);
                if (b != null) {
                    return b;
                }
            }
        }
        return null;
    }

    /**
     * Reads a batch of {@code lane} from {@code from}: its records up to {@code limit} that are not
     * acknowledged, bounded in records and bytes. Null if it would carry nothing worth sending. A
     * hole between acknowledged ranges that holds none of the lane's records (only other lanes'
     * sequence numbers) is always worth sending, empty: acknowledging it joins the two ranges, and
     * otherwise the lane's records beyond it may never be reached from this gap.
     */
    private PushBatch read(Lane lane, Pending r, long from, long limit, boolean sendEmpty) {
        long bound = Math.min(limit, log.lastSeq()); // every sequence up to here is assigned and visible
        if (from > bound) {
            return null;
        }
        ChronicleEventLog l = log.lane(lane);
        // The governor's smaller-batches action halves these while latency is over its target.
        int recordsMax = scale.apply(batchRecords, 1);
        long bytesMax = scale.apply(batchBytes, 1024);
        List<PushBatch.Record> out = new ArrayList<>();
        String lastStream = null;
        byte[] lastStreamBytes = null;
        long bytes = 0;
        long to = bound;
        boolean hole = false;
        if (l.lastSeq() >= from) {
            try (EventCursor c = l.cursorFromSeq(from)) {
                RecordView v = new RecordView();
                while (c.next(v)) {
                    long seq = v.seq();
                    if (seq > bound) {
                        break;
                    }
                    if (r.contains(seq)) {
                        to = seq - 1;
                        hole = out.isEmpty();
                        break;
                    }
                    if (out.size() >= recordsMax || (!out.isEmpty() && bytes + v.payloadLength() > bytesMax)) {
                        to = out.getLast().seq();
                        break;
                    }
                    if (lastStreamBytes == null || !v.streamEquals(lastStreamBytes)) {
                        lastStream = v.stream(); // batches are mostly one stream: decode it once
                        lastStreamBytes = lastStream.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    }
                    out.add(new PushBatch.Record(seq, v.hlc(), lastStream, v.payload()));
                    bytes += v.payloadLength();
                }
            }
        }
        if (to < from || (out.isEmpty() && !sendEmpty && !hole)) {
            return null;
        }
        return new PushBatch(o.node(), lane, from, to, out);
    }

    /** A lane's acknowledged ranges plus the range of the batch in flight (taken as sent). */
    private record Pending(AckedRanges acked, PushBatch inFlight) {
        boolean contains(long seq) {
            return acked.contains(seq) || (inFlight != null && seq >= inFlight.fromSeq() && seq <= inFlight.toSeq());
        }

        long firstGap(long from) {
            long g = acked.firstGap(from);
            while (inFlight != null && g >= inFlight.fromSeq() && g <= inFlight.toSeq()) {
                g = acked.firstGap(inFlight.toSeq() + 1);
            }
            return g;
        }
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
    private CompletableFuture<HttpResponse<String>> post(PushBatch b) throws InterruptedException, IOException {
        long raw = 0;
        for (PushBatch.Record rec : b.records()) {
            raw += rec.payload().length;
        }
        // A batch of one stream uses that stream's wire dictionary where one was trained: small
        // (live) batches barely compress without one. The hub gets the dictionary once, first.
        dev.outpost.compress.Dictionary dict = oneStreamDictionary(b);
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
        HttpRequest req = toHub("/v1/sync/push")
                .header("Content-Type", CONTENT_TYPE)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        wireBytes.add(body.length);
        return http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
    }

    /** The wire dictionary of the batch's only stream, or null (several streams, or none trained). */
    private dev.outpost.compress.Dictionary oneStreamDictionary(PushBatch b) {
        if (b.records().isEmpty() || !zstd) {
            return null;
        }
        String stream = b.records().getFirst().stream();
        for (PushBatch.Record r : b.records()) {
            if (!r.stream().equals(stream)) {
                return null;
            }
        }
        return catalog.latestDictionary(stream, Purpose.WIRE);
    }

    /** Sends {@code d} to the hub unless it already has it (as far as this run knows). */
    private void uploadDictionary(String stream, dev.outpost.compress.Dictionary d)
            throws IOException, InterruptedException {
        if (uploadedDictionaries.contains(d.id())) {
            return;
        }
        HttpRequest req = toHub("/v1/sync/dictionaries/" + Long.toHexString(d.id()) + "?stream=" + stream)
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(d.bytes()))
                .build();
        HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (resp.statusCode() != 200 && resp.statusCode() != 201) {
            throw new SyncException(
                    "upload dictionary " + Long.toHexString(d.id()),
                    o.hub().toString(),
                    "the hub answered " + resp.statusCode() + ": " + abbreviate(resp.body()),
                    resp.statusCode(),
                    null);
        }
        uploadedDictionaries.add(d.id());
        LOG.info("sync: wire dictionary {} of stream {} uploaded to {}", Long.toHexString(d.id()), stream, o.hub());
    }

    /** A request to the hub, with this node's credentials and the request timeout. */
    private HttpRequest.Builder toHub(String pathAndQuery) {
        return HttpRequest.newBuilder(o.hub().resolve(pathAndQuery))
                .timeout(Duration.ofMillis(o.requestTimeoutMillis()))
                .header("Authorization", "Bearer " + o.token())
                .header(NODE_HEADER, o.node());
    }

    private static HttpResponse<String> await(CompletableFuture<HttpResponse<String>> f)
            throws IOException, InterruptedException {
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(c);
        }
    }

    /** Applies the hub's answer to {@code b}: advances the cursor on an acknowledgement, else throws. */
    private void handle(PushBatch b, HttpResponse<String> resp) throws Throttled {
        int st = resp.statusCode();
        if (st == 200) {
            Matcher m = ACK.matcher(resp.body());
            if (!m.find() || Long.parseLong(m.group(1)) != b.fromSeq() || Long.parseLong(m.group(2)) != b.toSeq()) {
                throw new SyncException(
                        "push",
                        o.hub().toString(),
                        "the hub's acknowledgement does not match the batch: " + abbreviate(resp.body()),
                        0,
                        null);
            }
            AckedRanges r = cursors.get(b.lane());
            if (!r.add(b.fromSeq(), b.toSeq())) {
                rederive = true; // bound reached: the next batches go in order (see next())
            }
            catalog.putSyncCursor(cursorKey, b.lane().id(), r);
            tallies.get(b.lane()).acknowledged(snapshot(b.lane()), b.records());
            batches.increment();
            records.add(b.records().size());
            for (PushBatch.Record rec : b.records()) {
                payloadBytes.add(rec.payload().length);
            }
            if (batchRecords < o.batchRecordsMax()) {
                batchRecords = Math.min(o.batchRecordsMax(), batchRecords * 2);
                batchBytes = Math.min(o.batchBytesMax(), batchBytes * 2);
            }
            succeeded();
            return;
        }
        if (st == 429 || st == 503) {
            throw new Throttled(retryAfterSeconds(resp));
        }
        if (st == 413) {
            batchRecords = Math.max(1, batchRecords / 2);
            batchBytes = Math.max(1024, batchBytes / 2);
        }
        if (st == 409) {
            rederive = true;
        }
        if (st == 422) {
            uploadedDictionaries.clear(); // the hub lost a dictionary: send them again
        }
        throw new SyncException(
                "push " + b.records().size() + " records of lane " + b.lane().id(),
                o.hub().toString(),
                st == 401 || st == 403
                        ? "the hub refused this node's credentials (sync.token, node.id): " + abbreviate(resp.body())
                        : "the hub answered " + st + ": " + abbreviate(resp.body()),
                st,
                null);
    }

    private static final Pattern ACK = Pattern.compile("\"from\":(\\d+),\"to\":(\\d+)");

    /** Replaces the cursors with what the hub says it holds (it is authoritative). */
    private void rederive() throws IOException, InterruptedException, Throttled {
        for (Lane lane : Lane.values()) {
            HttpRequest req = toHub("/v1/sync/cursor?lane=" + lane.id()).GET().build();
            HttpResponse<byte[]> resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
            if (resp.statusCode() == 429 || resp.statusCode() == 503) {
                throw new Throttled(retryAfterSeconds(resp));
            }
            if (resp.statusCode() != 200) {
                throw new SyncException(
                        "read cursor of lane " + lane.id(),
                        o.hub().toString(),
                        "the hub answered " + resp.statusCode() + ": "
                                + abbreviate(new String(resp.body(), java.nio.charset.StandardCharsets.UTF_8)),
                        resp.statusCode(),
                        null);
            }
            AckedRanges remote = AckedRanges.decode(resp.body(), null);
            AckedRanges local = cursors.get(lane);
            if (!remote.equals(local)) {
                LOG.info("sync: lane {} cursor re-derived from the hub: {} (was {})", lane.id(), remote, local);
                cursors.put(lane, remote);
                catalog.putSyncCursor(cursorKey, lane.id(), remote);
                tallies.get(lane).replace(snapshot(lane));
            }
        }
    }

    private static long retryAfterSeconds(HttpResponse<?> resp) {
        String h = resp.headers().firstValue("Retry-After").orElse("1");
        try {
            return Math.min(RETRY_AFTER_SECONDS_MAX, Math.max(0, Long.parseLong(h.strip())));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** A copy of the lane's cursor for other threads (the sync thread goes on changing its own). */
    private AckedRanges snapshot(Lane lane) {
        return AckedRanges.decode(cursors.get(lane).encode(), null);
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }

    private void sleep(long millis) throws InterruptedException {
        Thread.sleep(Math.max(1, millis));
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

    public String lastError() {
        return lastError;
    }

    public URI hub() {
        return o.hub();
    }

    public int consecutiveFailures() {
        return breaker.failures();
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
        http.close();
    }
}

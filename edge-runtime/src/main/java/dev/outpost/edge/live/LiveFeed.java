package dev.outpost.edge.live;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.ingest.IngestOutcome;
import dev.outpost.edge.ingest.IngestStage;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.edge.state.StateService;
import dev.outpost.store.EventLog;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live subscriptions to the event log: each subscriber gets the history from where it asked, then every event as it is
 * acknowledged, in seq order, exactly once per subscription.
 *
 * <p>Design note. One thread (the feed) does all the work, so subscribers need no locks: it follows the log up to
 * what is acknowledged ({@link #acknowledged} wakes it; with {@code os} durability everything appended is), reads each
 * new run of events once ({@link Round}) and offers it to every live subscriber; in between it serves subscribers still
 * catching up, one bounded round each per turn and only while their buffer has room, and moves one to the live set
 * once its cursor reaches the feed's position. Since the feed's position only advances after a round was offered to
 * every live subscriber, and a catching-up subscriber joins only when its cursor is at or past that position, a
 * subscriber never misses an event and never gets one twice (its cursor also guards: see {@link Subscriber}). Writes
 * to connections never block the feed: a subscriber that cannot keep up is skipped or cut ({@code live.overflow}).
 * Invariants: at most {@code live.subscribers_max} subscriptions are held; the feed reads at most {@link
 * #ROUND_RECORDS_MAX} records per round, and a subscriber gets what fits in its buffer; nothing past the acknowledged head is ever sent; time comes from the clock
 * passed in.
 */
public final class LiveFeed implements IngestStage, AutoCloseable {
    /** Most records one round reads. */
    static final int ROUND_RECORDS_MAX = 1_024;
    /** About the most payload bytes one round reads. */
    static final int ROUND_BYTES_MAX = 512 * 1024;
    /** Longest the feed sleeps without a wake-up: the heartbeat's resolution and the follow delay of alerts. */
    static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private static final Logger LOG = LoggerFactory.getLogger(LiveFeed.class);

    /** A subscription as its transport holds it. */
    public interface Subscription {
        /** The connection is gone: the feed lets the subscriber go. Idempotent. */
        void cancel();
    }

    /**
     * What the feeds of one kind share: the limits, the subscriber count (live.subscribers_max holds across them) and
     * the counters. The agent has one feed over its log; a hub adds one per node log it tails (FleetTail).
     */
    public static final class Pool {
        private final Subscriber.Limits limits;
        /** The limits in force: {@link #limits}, or half of them while the governor's memory action is on. */
        private final AtomicReference<Subscriber.Limits> inForce = new AtomicReference<>();

        private final int subscribersMax;
        private final long lagMax;
        private final long heartbeatNanos;
        private final boolean appendIsAcknowledged;
        private final LiveCounters counters;
        private final AtomicInteger held = new AtomicInteger();

        /** Registers the pool's metrics as {@code prefix}_subscribers, {@code prefix}_messages_total, ... */
        public Pool(OutpostConfig config, Metrics metrics, String prefix) {
            OutpostConfig.Live c = config.live();
            this.limits = new Subscriber.Limits(
                    c.bufferMessagesMax(),
                    c.bufferBytesMax(),
                    c.overflow().equals("disconnect") ? Subscriber.Overflow.DISCONNECT : Subscriber.Overflow.SKIP);
            this.inForce.set(limits);
            this.subscribersMax = config.liveSubscribersLimit();
            if (subscribersMax < c.subscribersMax()) {
                LOG.info(
                        "live subscribers: at most {} (live.subscribers_max {} is more than budget.connections less"
                                + " budget.probe_connections, or than a quarter of budget.memory holds in full"
                                + " buffers)",
                        subscribersMax,
                        c.subscribersMax());
            }
            this.lagMax = c.lagEventsMax();
            this.heartbeatNanos = TimeUnit.MILLISECONDS.toNanos(c.heartbeatMillis());
            this.appendIsAcknowledged = !config.log().durability().equals("fsync");
            this.counters = new LiveCounters(metrics, prefix);
            metrics.gauge(prefix + "_subscribers", "Live subscriptions held.", held::get);
        }

        /** Takes a subscription slot; false (counted) when live.subscribers_max are held. */
        boolean take() {
            if (held.incrementAndGet() > subscribersMax) {
                held.decrementAndGet();
                counters.refused.increment();
                return false;
            }
            return true;
        }

        void release(int n) {
            held.addAndGet(-n);
        }

        /**
         * The governor's memory action (shrink-caches): while {@code shrunk}, every subscriber's buffer in memory is
         * half its configured size (what does not fit waits in the log). Any thread.
         */
        public void shrinkBuffers(boolean shrunk) {
            inForce.set(
                    shrunk
                            ? new Subscriber.Limits(
                                    Math.max(1, limits.messagesMax() / 2),
                                    Math.max(1, limits.bytesMax() / 2),
                                    limits.overflow())
                            : limits);
        }

        /** The messages a subscriber's buffer holds now (the governor may have halved it). */
        public int bufferMessagesMax() {
            return inForce.get().messagesMax();
        }

        /** How many subscriptions are held. */
        public int subscribers() {
            return held.get();
        }

        /** True when live.subscribers_max subscriptions are held. */
        public boolean full() {
            return held.get() >= subscribersMax;
        }
    }

    private final EventLog log;
    private final Pool pool;
    private final LongSupplier nanos;
    private final AtomicLong acked = new AtomicLong();
    private final ConcurrentLinkedQueue<Subscriber> arrivals = new ConcurrentLinkedQueue<>();
    private final List<Subscriber> live = new ArrayList<>();
    private final List<Subscriber> catchingUp = new ArrayList<>();
    private final RecentRounds recent = new RecentRounds();
    private final ConcurrentLinkedQueue<StateWatcher> watchArrivals = new ConcurrentLinkedQueue<>();
    private final List<StateWatcher> watchers = new ArrayList<>();
    private final StateService state;
    private final Thread thread;
    private volatile boolean running = true;
    private long position;
    private long heartbeatScanNanos;

    /** The agent's feed over its own log ({@code state} serves state watches). */
    public LiveFeed(EventLog log, StateService state, OutpostConfig config, Metrics metrics, LongSupplier nanos) {
        this(log, state, new Pool(config, metrics, "outpost_live"), nanos, "outpost-live-feed");
    }

    /** A feed over {@code log} in {@code pool}; {@code state} null: no state watches. */
    public LiveFeed(EventLog log, StateService state, Pool pool, LongSupplier nanos, String threadName) {
        this.log = log;
        this.state = state;
        this.pool = pool;
        this.nanos = nanos;
        this.position = log.lastSeq();
        this.acked.set(position);
        this.thread = Thread.ofPlatform().name(threadName).daemon().unstarted(this::run);
    }

    /** The pool this feed is in. */
    public Pool pool() {
        return pool;
    }

    /** Events were appended and are acknowledged (a hub stored a push): reads up to the log's last seq. */
    public void appended() {
        acked.accumulateAndGet(log.lastSeq(), Math::max);
        LockSupport.unpark(thread);
    }

    public void start() {
        thread.start();
    }

    @Override
    public IngestOutcome.Rejection check(Batch batch) {
        return null;
    }

    @Override
    public void acknowledged(Batch batch, IngestOutcome.Accepted accepted) {
        long last = 0;
        for (long seq : accepted.seqs()) {
            last = Math.max(last, seq);
        }
        acked.accumulateAndGet(last, Math::max);
        LockSupport.unpark(thread);
    }

    /**
     * Subscribes; null when {@code live.subscribers_max} are held. TailRefusal for a start the log cannot serve.
     * Callable from any thread.
     */
    public Subscription subscribe(TailFilter filter, TailStart start, Framing framing, Outlet outlet) {
        long after = afterSeq(start);
        if (!pool.take()) {
            return null;
        }
        Subscriber s = new Subscriber(
                outlet, filter, framing, pool.inForce::get, after, pool.counters, this::wake, nanos.getAsLong());
        arrivals.add(s);
        wake();
        return () -> {
            s.markClosed();
            wake();
        };
    }

    /**
     * Watches a state namespace: a snapshot, then each change as a JSON Patch ({@link StateWatcher}); null when {@code
     * live.subscribers_max} are held. Callable from any thread.
     */
    public Subscription watch(String namespace, StateOutlet outlet) {
        if (state == null) {
            throw new IllegalStateException("this feed serves no state watches");
        }
        if (!pool.take()) {
            return null;
        }
        StateWatcher w = new StateWatcher(namespace, outlet, state, pool.limits.messagesMax());
        watchArrivals.add(w);
        wake();
        return () -> {
            w.markClosed();
            wake();
        };
    }

    /** How many subscriptions are held (in this feed's pool). */
    public int subscribers() {
        return pool.subscribers();
    }

    /** The messages a subscriber's buffer holds now (the governor may have halved it). */
    public int bufferMessagesMax() {
        return pool.bufferMessagesMax();
    }

    /** Checks that the log can serve {@code start}; TailRefusal if not. */
    public void check(TailStart start) {
        afterSeq(start);
    }

    /** True when {@code live.subscribers_max} subscriptions are held. */
    public boolean full() {
        return pool.full();
    }

    private long afterSeq(TailStart start) {
        return switch (start) {
            case TailStart.After a -> {
                if (a.seq() < 0 || a.seq() > log.lastSeq()) {
                    throw new TailRefusal(
                            "Last-Event-ID",
                            a.seq() + " is not an event id of this agent (its log is at seq " + log.lastSeq() + ")");
                }
                yield a.seq();
            }
            case TailStart.AtSeq s -> Math.max(0, s.seq() - 1);
            case TailStart.AtTime t -> log.seqAtOrAfterTime(t.hlc()) - 1;
            case TailStart.Now n -> head();
        };
    }

    private long head() {
        return pool.appendIsAcknowledged ? Math.max(acked.get(), log.lastSeq()) : acked.get();
    }

    private void wake() {
        LockSupport.unpark(thread);
    }

    /** One turn of the feed's work; true if it did any. The feed's thread only (tests drive it without one). */
    boolean turn() {
        boolean worked = admitArrivals();
        worked |= followLive();
        worked |= catchUp();
        worked |= serveWatchers();
        heartbeats();
        return worked;
    }

    private void run() {
        while (running) {
            try {
                if (!turn()) {
                    LockSupport.parkNanos(this, POLL_NANOS);
                }
            } catch (RuntimeException e) {
                // Contained: a failing read must not end every subscription; the next turn tries again.
                LOG.error("live feed: a turn failed", e);
                LockSupport.parkNanos(this, POLL_NANOS);
            }
        }
        closeAll("the agent is stopping");
    }

    private boolean admitArrivals() {
        boolean any = false;
        for (Subscriber s; (s = arrivals.poll()) != null; ) {
            catchingUp.add(s);
            any = true;
        }
        for (StateWatcher w; (w = watchArrivals.poll()) != null; ) {
            watchers.add(w);
            any = true;
        }
        return any;
    }

    /** Offers what was acknowledged since the last round to every live subscriber. */
    private boolean followLive() {
        long limit = head();
        if (position >= limit) {
            return false;
        }
        if (live.isEmpty() && watchers.isEmpty() && catchingUp.isEmpty()) {
            // Nobody to send to; a newcomer catches up from the log itself. (With subscribers catching up, the feed
            // reads on: they are served from the recent rounds rather than each reading the log.)
            position = limit;
            recent.clear();
            return false;
        }
        Round round = Round.read(log, position + 1, limit, ROUND_RECORDS_MAX, ROUND_BYTES_MAX);
        long now = nanos.getAsLong();
        for (Iterator<Subscriber> it = live.iterator(); it.hasNext(); ) {
            Subscriber s = it.next();
            if (s.closed()) {
                it.remove();
                pool.release(1);
            } else if (s.deliver(round, now) == Subscriber.Taken.FULL) {
                it.remove(); // it reads on from the log as its buffer drains
                catchingUp.add(s);
            }
        }
        for (StateWatcher w : watchers) {
            if (!w.closed() && !w.snapshotOwed() && w.cursor() == position) {
                w.deliver(round);
            }
        }
        position = round.lastExamined();
        recent.add(round); // kept for subscribers a little behind (released when it leaves the window)
        return true;
    }

    /** Sends owed snapshots, and gives each watcher behind the feed one bounded round from the log. */
    private boolean serveWatchers() {
        boolean worked = false;
        for (Iterator<StateWatcher> it = watchers.iterator(); it.hasNext(); ) {
            StateWatcher w = it.next();
            boolean owed = w.snapshotOwed();
            if (w.closed() || !w.snapshotIfRoom()) {
                it.remove();
                pool.release(1);
                continue;
            }
            worked |= owed && !w.snapshotOwed();
            if (!w.snapshotOwed() && w.cursor() < position) {
                Round round = Round.read(log, w.cursor() + 1, position, ROUND_RECORDS_MAX, ROUND_BYTES_MAX);
                w.deliver(round);
                worked = true;
            }
        }
        return worked;
    }

    /** Gives each subscriber still behind the feed one bounded round from the log, if its buffer has room. */
    private boolean catchUp() {
        boolean worked = false;
        long now = nanos.getAsLong();
        for (Iterator<Subscriber> it = catchingUp.iterator(); it.hasNext(); ) {
            Subscriber s = it.next();
            if (s.closed()) {
                it.remove();
                pool.release(1);
                continue;
            }
            if (position - s.cursor() > pool.lagMax && !s.fellBehind(position)) {
                it.remove();
                pool.release(1);
                continue;
            }
            if (s.cursor() < position && s.hasRoom()) {
                serve(s, now);
                worked = true;
            }
            if (s.cursor() >= position) {
                it.remove();
                s.goLive();
                live.add(s);
            }
        }
        return worked;
    }

    /** One bounded helping for a subscriber behind the feed: from the recent rounds when they hold it, else the log. */
    private void serve(Subscriber s, long now) {
        if (recent.covers(s.cursor())) {
            recent.serve(s, now);
            return;
        }
        s.deleted(log.firstSeq());
        // Sized by what this subscriber can take: a read for one should not fetch what it cannot send.
        Round round = Round.read(
                log,
                s.cursor() + 1,
                position,
                Math.min(ROUND_RECORDS_MAX, s.freeMessages()),
                Math.min(ROUND_BYTES_MAX, s.freeBytes()));
        s.deliver(round, now);
        round.release();
    }

    private void heartbeats() {
        long now = nanos.getAsLong();
        if (now - heartbeatScanNanos < POLL_NANOS) {
            return;
        }
        heartbeatScanNanos = now;
        for (Subscriber s : live) {
            s.tick(now, pool.heartbeatNanos);
        }
        for (Subscriber s : catchingUp) {
            s.tick(now, pool.heartbeatNanos);
        }
    }

    private void closeAll(String reason) {
        admitArrivals();
        for (Subscriber s : live) {
            s.close(reason);
        }
        for (Subscriber s : catchingUp) {
            s.close(reason);
        }
        for (StateWatcher w : watchers) {
            w.close(reason);
        }
        pool.release(live.size() + catchingUp.size() + watchers.size());
        recent.clear();
        live.clear();
        catchingUp.clear();
        watchers.clear();
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

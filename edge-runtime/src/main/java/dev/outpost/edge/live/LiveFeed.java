package dev.outpost.edge.live;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.ingest.Doorbell;
import dev.outpost.edge.ingest.IngestOutcome;
import dev.outpost.edge.ingest.IngestStage;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.edge.state.StateService;
import dev.outpost.store.EventLog;
import dev.outpost.store.LogFields;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
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
    static final int ROUND_BYTES_MAX = 128 * 1024;
    /** Longest the feed sleeps without a wake-up: the heartbeat's resolution and the follow delay of alerts. */
    static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /**
     * How long the feed lets acknowledged writes gather after a turn before it waits for the next ({@link Doorbell}):
     * at most this is added to a delivery, and the feed wakes at most once per period however many writes come.
     */
    static final long SETTLE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private static final Logger LOG = LoggerFactory.getLogger(LiveFeed.class);

    /** A subscription as its transport holds it. */
    public interface Subscription {
        /** The connection is gone: the feed lets the subscriber go. Idempotent. */
        void cancel();
    }

    private final EventLog log;
    /** See {@link Round#clean}. */
    private final long cleanAfterSeq;

    private final FeedPool pool;
    private final LongSupplier nanos;
    private final AtomicLong acked = new AtomicLong();
    /** Acknowledged writes (ingest requests, pushes), for the send budget's idea of busy. */
    private final LongAdder writes = new LongAdder(); // added to by every event loop: no shared line to fight over

    private final ConcurrentLinkedQueue<Subscriber> arrivals = new ConcurrentLinkedQueue<>();
    private final List<Subscriber> live = new ArrayList<>();
    private final List<Subscriber> catchingUp = new ArrayList<>();
    private final RecentRounds recent = new RecentRounds();
    private final SendBudget budget;
    private final ConcurrentLinkedQueue<StateWatcher> watchArrivals = new ConcurrentLinkedQueue<>();
    private final List<StateWatcher> watchers = new ArrayList<>();
    private final StateService state;
    private final Thread thread;
    /** Rung by acknowledged writes, arrivals, departures and drained buffers; the feed waits on it. */
    private final Doorbell doorbell = new Doorbell(SETTLE_NANOS);

    private volatile boolean running = true;
    private long position;
    private long heartbeatScanNanos;
    /** Reads the rounds at the head (feed thread only). */
    private final HeadReader headReader;

    /** The agent's feed over its own log ({@code state} serves state watches). */
    public LiveFeed(EventLog log, StateService state, OutpostConfig config, Metrics metrics, LongSupplier nanos) {
        this(log, state, new FeedPool(config, metrics, "outpost_live"), nanos, "outpost-live-feed", log.lastSeq());
        FramedMemory.process().register(metrics, "outpost_live");
    }

    /** A feed over {@code log} (a hub's copy of a node's) in {@code pool}; {@code state} null: no state watches. */
    public LiveFeed(EventLog log, StateService state, FeedPool pool, LongSupplier nanos, String threadName) {
        this(log, state, pool, nanos, threadName, Long.MAX_VALUE);
    }

    /** {@code cleanAfterSeq}: records above it are this process's own writes ({@link Round#clean}). */
    private LiveFeed(
            EventLog log,
            StateService state,
            FeedPool pool,
            LongSupplier nanos,
            String threadName,
            long cleanAfterSeq) {
        this.cleanAfterSeq = cleanAfterSeq;
        this.headReader = new HeadReader(log, cleanAfterSeq, ROUND_RECORDS_MAX, ROUND_BYTES_MAX);
        this.log = log;
        this.state = state;
        this.pool = pool;
        this.nanos = nanos;
        this.position = log.lastSeq();
        this.acked.set(position);
        this.budget = pool.sendBudget();
        this.thread = Thread.ofPlatform().name(threadName).daemon().unstarted(this::run);
    }

    /** The pool this feed is in. */
    public FeedPool pool() {
        return pool;
    }

    /** Events were appended and are acknowledged (a hub stored a push): reads up to the log's last seq. */
    public void appended() {
        acked.accumulateAndGet(log.lastSeq(), Math::max);
        writes.increment();
        doorbell.ring();
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
        if (!pool.appendIsAcknowledged) { // else the head is the log's own last seq: nothing to share per request
            long last = 0;
            for (long seq : accepted.seqs()) {
                last = Math.max(last, seq);
            }
            acked.accumulateAndGet(last, Math::max);
        }
        writes.increment();
        doorbell.ring();
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
        doorbell.ring();
    }

    /** One turn of the feed's work; true if it did any. The feed's thread only (tests drive it without one). */
    boolean turn() {
        doorbell.turnStarts();
        budget.observe(nanos.getAsLong(), head(), writes.sum());
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
                    rest();
                }
            } catch (RuntimeException e) {
                // Contained: a failing read must not end every subscription; the next turn tries again.
                LOG.atError()
                        .addKeyValue(
                                LogFields.ADVICE,
                                "nothing to do if it passes: the next turn retries; report it if" + " it repeats")
                        .setCause(e)
                        .log("live feed: a turn failed");
                LockSupport.parkNanos(this, POLL_NANOS);
            }
        }
        closeAll("the agent is stopping");
    }

    /**
     * Waits for work: until woken or {@link #POLL_NANOS}; while the send budget holds the feed back, until it allows
     * sending again (wake-ups by every acknowledged write would only spin).
     */
    private void rest() {
        long hold = budget.nanosUntilAllowed(POLL_NANOS);
        if (hold == 0) {
            doorbell.await(POLL_NANOS);
            return;
        }
        long until = System.nanoTime() + hold;
        for (long left = hold; running && left > 0; left = until - System.nanoTime()) {
            LockSupport.parkNanos(this, left);
        }
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
        if (!budget.allows()) {
            if (limit - position > pool.lagMax) {
                skipAhead(limit);
                return true;
            }
            return false;
        }
        Round round = headReader.read(position + 1, limit);
        long now = nanos.getAsLong();
        for (Iterator<Subscriber> it = live.iterator(); it.hasNext(); ) {
            Subscriber s = it.next();
            if (s.closed()) {
                it.remove();
                pool.release(1);
            } else if (!budget.allows() || s.deliver(round, now) == Subscriber.Taken.FULL) {
                it.remove(); // it reads on from the recent rounds or the log as its buffer drains (or budget allows)
                catchingUp.add(s);
            }
            budget.spent(s.takeSent());
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

    /**
     * Ingest is busy, the send budget is spent and the feed is more than live.lag_events_max behind: it moves to {@code
     * limit} without reading, so every subscriber is that far behind, and {@link #catchUp} skips each forward with a
     * gap message (or cuts it), as live.overflow says.
     */
    private void skipAhead(long limit) {
        catchingUp.addAll(live);
        live.clear();
        recent.clear();
        position = limit;
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
                Round round =
                        Round.read(log, w.cursor() + 1, position, ROUND_RECORDS_MAX, ROUND_BYTES_MAX, cleanAfterSeq);
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
            // While ingest is busy, a subscriber that was live and fell out of the recent rounds is behind too: reading
            // the log for each one is what the budget cannot pay for (a new one still gets its history from the log).
            boolean behind = position - s.cursor() > pool.lagMax
                    || budget.busy() && s.live() && s.cursor() < position && !recent.covers(s.cursor());
            if (behind && !s.fellBehind(position)) {
                it.remove();
                pool.release(1);
                continue;
            }
            if (s.cursor() < position && budget.allows() && s.hasRoom()) {
                serve(s, now);
                budget.spent(s.takeSent());
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
        if (!s.framingRoomy()) {
            recent.shedOldest(); // what pending writes do not hold, the window may: it gives way
        }
        if (recent.covers(s.cursor())) {
            recent.serve(s, now);
            return;
        }
        if (!s.framingRoomy()) {
            return; // a round read now could not be framed: framed rounds hold their memory limit
        }
        s.deleted(log.firstSeq());
        // Sized by what this subscriber can take: a read for one should not fetch what it cannot send.
        Round round = Round.read(
                log,
                s.cursor() + 1,
                position,
                Math.min(ROUND_RECORDS_MAX, s.freeMessages()),
                Math.min(ROUND_BYTES_MAX, s.freeBytes()),
                cleanAfterSeq);
        s.deliver(round, now);
        round.release();
    }

    private void heartbeats() {
        long now = nanos.getAsLong();
        if (now - heartbeatScanNanos < POLL_NANOS) {
            return;
        }
        heartbeatScanNanos = now;
        for (Iterator<Subscriber> it = live.iterator(); it.hasNext(); ) {
            Subscriber s = it.next();
            if (s.closed()) {
                // Let go here too, not only when the next round is offered: on an idle log no round comes, and the
                // slots of gone subscribers would refuse new ones (503) until some event arrived.
                it.remove();
                pool.release(1);
                continue;
            }
            s.tick(now, pool.heartbeatNanos, budget.allows());
            budget.spent(s.takeSent());
        }
        for (Subscriber s : catchingUp) {
            s.tick(now, pool.heartbeatNanos, budget.allows());
            budget.spent(s.takeSent());
        }
    }

    /** Ends every subscription and lets the recent rounds go (the feed stops; tests call it to end a run). */
    void closeAll(String reason) {
        admitArrivals();
        try {
            for (Subscriber s : live) {
                closeQuietly(() -> s.close(reason));
            }
            for (Subscriber s : catchingUp) {
                closeQuietly(() -> s.close(reason));
            }
            for (StateWatcher w : watchers) {
                closeQuietly(() -> w.close(reason));
            }
            pool.release(live.size() + catchingUp.size() + watchers.size());
        } finally {
            headReader.close(); // the log's reader is let go whatever the transports did
            recent.clear();
            live.clear();
            catchingUp.clear();
            watchers.clear();
        }
    }

    /** Ends one subscription; one whose event loop already stopped (the server closed first) does not stop the rest. */
    private static void closeQuietly(Runnable close) {
        try {
            close.run();
        } catch (java.util.concurrent.RejectedExecutionException loopGone) { // and the connection with it
        }
    }

    @Override
    public void close() {
        running = false;
        doorbell.ring();
        LockSupport.unpark(thread); // also while it settles
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

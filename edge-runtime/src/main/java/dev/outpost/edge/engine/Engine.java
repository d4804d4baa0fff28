package dev.outpost.edge.engine;

import dev.outpost.edge.ingest.Doorbell;
import dev.outpost.edge.ingest.IngestOutcome;
import dev.outpost.edge.ingest.IngestStage;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.store.AppendResult;
import dev.outpost.store.Catalog;
import dev.outpost.store.EngineRecords;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventDraft;
import dev.outpost.store.EventLog;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LogFields;
import dev.outpost.store.RecordView;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine: one thread that follows the event log in sequence order, applies the rules to each event, raising
 * alerts as events of the alert stream in the critical lane (so they reach the hub first), and folds each event into
 * the rollups of its stream ({@link RollupBook}, which keep their own position: see {@link
 * dev.outpost.edge.engine.rollup.Rollups}).
 *
 * <p>It plugs into the ingest pipeline as an {@link IngestStage}: {@link #check} keeps clients out of the alert stream
 * and {@link #acknowledged} wakes the engine when events are stored. It reads what it evaluates from the log, not
 * from the request, so that what it did survives a crash the way the events do.
 *
 * <p>Design note. Invariants:
 *
 * <ul>
 *   <li><b>In order, from a checkpoint.</b> The engine's {@code position} is the highest sequence number it has
 *       processed. It reads from {@code position + 1} in rounds of at most {@link #ROUND_EVENTS_MAX} events; a round's
 *       alerts are appended as one group (all or nothing) and are durable before the position moves past the round.
 *       The position is checkpointed in the catalog with the cooldowns and the anomaly detectors ({@link EngineState};
 *       every {@link #CHECKPOINT_INTERVAL_MILLIS} while events flow, stretched when the detectors' state is large,
 *       and whenever {@link #ALERTS_UNCHECKPOINTED_MAX} alerts were raised since the last one).
 *   <li><b>Exactly one alert per (rule, source event) across crashes.</b> Decisions depend only on the events and the
 *       checkpointed state (cooldowns run on the events' ingest time, {@link Cooldowns}; detectors on the sequence of
 *       values, {@link Detectors}), so a replay from the
 *       checkpoint takes the same decisions. An alert's id is {@code rule@seq}; after a restart the engine first reads
 *       the log after its checkpoint and collects the ids of the alerts already there (at most the alerts of the
 *       rounds since the checkpoint, which is bounded), and does not raise those again. A kill -9 anywhere — between a
 *       source event's append and its alert's, between the alert's append and the checkpoint — neither loses nor
 *       duplicates an alert.
 *   <li><b>Re-derived after any error.</b> If a round fails (the log refuses the alerts: disk full, store failure),
 *       the engine goes back to its last checkpoint as after a restart, and retries after
 *       {@link #RETRY_WAIT_MILLIS}.
 *   <li><b>First start.</b> Rules apply to events stored from the engine's first start on: a data directory with no
 *       checkpoint starts at the log's end, and that position is checkpointed before anything else.
 *   <li><b>No rules, no reading.</b> With no rule and no rollup in force the engine moves its position to the log's
 *       end without reading: a rule applies to events stored after it is set (or that the engine had not reached
 *       yet). A rollup is different: a new one is backfilled from the start of the log, so a round reads from the
 *       lower of the rules' position and the rollups' fed position; rules see only events past their position.
 *   <li><b>Rollups flush</b> every {@link #CHECKPOINT_INTERVAL_MILLIS} (each rollup's rows with the seq they cover,
 *       in one SQLite transaction); after a crash the rollups are fed again from their lowest covered seq. After each
 *       flush the final windows are emitted to the high lane for the hub, at most {@link #EMIT_BUDGET_MILLIS} of work
 *       per flush; clients may not write to that stream either.
 *   <li><b>Ingest first.</b> The thread runs at a Linux nice value (engine.thread_nice, {@link ThreadNice}): when
 *       ingest and the engine both want every core, acknowledged writes come first and the engine falls behind
 *       ({@code outpost_engine_lag_events}), catching up when a core is free. Nothing it decides depends on when.
 *   <li>Events dropped by retention before the engine read them are counted
 *       ({@code outpost_engine_events_missed_total}), never waited for.
 * </ul>
 */
public final class Engine implements IngestStage, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

    /** Most events read in one round (one group of alerts, one position step). */
    static final int ROUND_EVENTS_MAX = 10_000;

    /** A round ends early once it raised this many alerts (bounds the group and the ids scanned after a crash). */
    static final int ROUND_ALERTS_MAX = 1_000;

    /** Longest time between checkpoints while events flow, milliseconds. */
    static final long CHECKPOINT_INTERVAL_MILLIS = 1_000;

    /** A checkpoint is taken once this many alerts were raised since the last one. */
    static final int ALERTS_UNCHECKPOINTED_MAX = 10_000;

    /** Longest wait for news when idle (a missed wake-up costs at most this), milliseconds. */
    static final long IDLE_WAIT_MILLIS = 1_000;

    /**
     * How long acknowledged writes gather after a round before the engine waits for the next ({@link Doorbell}): at
     * most this is added to a rule's reaction, and the engine wakes at most once per period however many writes come.
     */
    static final long SETTLE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /** Wait before a failed round is retried, milliseconds. */
    static final long RETRY_WAIT_MILLIS = 1_000;

    /** Longest time one flush spends emitting final rollup windows (the rest waits for the next flush), ms. */
    static final long EMIT_BUDGET_MILLIS = 200;

    /** The checkpoint's name in the catalog. */
    static final String CHECKPOINT = "engine.alerts";

    private final EventLog log;
    private final Catalog catalog;
    private final RuleBook rules;
    private final RollupBook rollups;
    private final String alertStream;
    private final byte[] alertStreamUtf8;
    private final LongSupplier clockMillis;
    private final Cooldowns cooldowns = new Cooldowns();
    private final Detectors detectors;
    private final EngineState state;
    private final Alerting alerting;
    private final RecordView view = new RecordView();
    private final Thread thread;
    /** Rung by acknowledged writes; the engine waits on it when idle. */
    private final Doorbell doorbell = new Doorbell(SETTLE_NANOS);

    private volatile boolean running = true;
    private volatile long position;
    private volatile long events;
    private volatile long missed;
    private volatile long failedRounds;
    private RuleSet ruleSet;
    private Evaluator evaluator;
    private long rollupsFed; // highest seq fed to the rollups in this run
    private long rollupsGeneration = -1;
    private long sharedGeneration = -1; // the rollups' generation the evaluator reads their fields for
    private long flushedAtMillis;
    private Set<String> alreadyRaised = Set.of();
    private long alreadyRaisedUntil;
    private long checkpointedAtMillis;
    private long checkpointed = -1;
    private int alertsSinceCheckpoint;
    private int threadNice;

    /**
     * @param alertStream the stream alerts are written to (engine.alert_stream); clients may not write to it
     * @param detectorGroupsMax (detector, group) entries the anomaly conditions keep (engine.detector_groups_max)
     * @param clockMillis wall clock, for checkpoint pacing only (decisions use the events' time)
     */
    public Engine(
            EventLog log,
            Catalog catalog,
            RuleBook rules,
            RollupBook rollups,
            String alertStream,
            int detectorGroupsMax,
            LongSupplier clockMillis,
            Metrics metrics) {
        this.log = log;
        this.detectors = new Detectors(detectorGroupsMax);
        this.state = new EngineState(cooldowns, detectors);
        this.catalog = catalog;
        this.rules = rules;
        this.rollups = rollups;
        this.alertStream = alertStream;
        this.alertStreamUtf8 = alertStream.getBytes(StandardCharsets.UTF_8);
        this.clockMillis = clockMillis;
        this.alerting = new Alerting(alertStream, cooldowns);
        this.thread = Thread.ofPlatform().name("outpost-engine").daemon().unstarted(this::run);
        registerMetrics(metrics);
    }

    private void registerMetrics(Metrics metrics) {
        metrics.gauge(
                "outpost_engine_position", "Highest log sequence number the engine has processed.", () -> position);
        metrics.gauge(
                "outpost_engine_lag_events",
                "Events stored but not yet processed by the engine (log last seq - engine position).",
                () -> Math.max(0, log.lastSeq() - position));
        metrics.counterFn("outpost_engine_events_total", "Events the engine processed.", () -> events);
        metrics.counterFn(
                "outpost_engine_cpu_milliseconds_total",
                "CPU time the engine's thread used (reading the log back, rules, detectors, rollups).",
                this::cpuMillis);
        metrics.counterFn(
                "outpost_engine_events_missed_total",
                "Events retention deleted before the engine processed them.",
                () -> missed);
        metrics.counterFn(
                "outpost_engine_rounds_failed_total",
                "Engine rounds that failed (alerts not appended); redone from the last checkpoint.",
                () -> failedRounds);
        metrics.counterFn("outpost_alerts_total", "Alerts raised.", alerting::raised);
        metrics.counterFn(
                "outpost_alerts_suppressed_total",
                "Alerts not raised because the rule's group was cooling down.",
                alerting::suppressed);
        metrics.counterFn(
                "outpost_alerts_cooldown_groups_evicted_total",
                "Cooldown entries forgotten to stay within " + Cooldowns.GROUPS_MAX + " (rule, group) pairs.",
                cooldowns::evicted);
        metrics.gauge(
                "outpost_engine_detector_groups",
                "(detector, group) entries the anomaly conditions hold.",
                detectors::size);
        metrics.counterFn(
                "outpost_engine_detector_groups_evicted_total",
                "Anomaly detector groups forgotten (least recently seen) to stay within engine.detector_groups_max.",
                detectors::evicted);
    }

    /** CPU milliseconds of the engine's thread so far (0 where the JVM cannot tell). */
    private long cpuMillis() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long nanos = threads.isThreadCpuTimeSupported() ? threads.getThreadCpuTime(thread.threadId()) : -1;
        return nanos < 0 ? 0 : nanos / 1_000_000;
    }

    /**
     * Sets the engine thread's nice value (engine.thread_nice; before {@link #start}): while ingest keeps every core
     * busy, acknowledged writes come first and the engine catches up when a core is free ({@link ThreadNice}).
     */
    public void threadNice(int nice) {
        if (nice < 0 || nice > ThreadNice.NICE_MAX) {
            throw new IllegalArgumentException("engine.thread_nice " + nice + " is outside 0-" + ThreadNice.NICE_MAX);
        }
        this.threadNice = nice;
    }

    /** Restores the last checkpoint and starts following the log. */
    public void start() {
        recover();
        thread.start();
    }

    /** The highest sequence number processed. */
    public long position() {
        return position;
    }

    /** The stream alerts are written to. */
    public String alertStream() {
        return alertStream;
    }

    @Override
    public IngestOutcome.Rejection check(Batch batch) {
        return ReservedStreams.check(batch, alertStream);
    }

    @Override
    public void acknowledged(Batch batch, IngestOutcome.Accepted accepted) {
        doorbell.ring();
    }

    /** Back to the last checkpoint: position, cooldowns, detectors, and the alerts already raised after it. */
    private void recover() {
        EngineRecords.Checkpoint cp = catalog.engine().checkpoint(CHECKPOINT);
        if (cp == null) {
            position = log.lastSeq();
            state.restore(new byte[0]);
            checkpoint();
            LOG.info("engine: first start; rules apply to events after seq {}", position);
        } else {
            position = cp.seq();
            checkpointed = cp.seq();
            state.restore(cp.state());
        }
        ruleSet = null; // the next round prunes the restored detectors to the rules in force
        alreadyRaised = raisedAfter(position);
        alertsSinceCheckpoint = 0;
        checkpointedAtMillis = clockMillis.getAsLong();
        if (!alreadyRaised.isEmpty()) {
            LOG.info(
                    "engine: resuming after seq {}; {} alerts raised after it before the restart are not raised again",
                    position,
                    alreadyRaised.size());
        }
    }

    /** The ids of the alerts in the log after {@code seq} (and the seq the scan reached). */
    private Set<String> raisedAfter(long seq) {
        Set<String> ids = new HashSet<>();
        RecordView v = new RecordView();
        long last = seq;
        try (EventCursor c = log.cursorFromSeq(seq + 1)) {
            while (c.next(v)) {
                last = v.seq();
                if (v.streamEquals(alertStreamUtf8) && v.eventId() != null) {
                    ids.add(v.eventId());
                }
            }
        }
        alreadyRaisedUntil = last;
        return ids;
    }

    private void run() {
        if (threadNice > 0) {
            ThreadNice.setForCurrentThread(threadNice)
                    .ifPresent(why -> LOG.atWarn()
                            .addKeyValue(LogFields.ADVICE, "grant CAP_SYS_NICE, or set engine.thread_nice: 0")
                            .log(
                                    "engine: thread priority not lowered (engine.thread_nice {}): {}; the engine competes"
                                            + " with ingest for the cores as an equal",
                                    threadNice,
                                    why));
        }
        while (running) {
            boolean busy;
            doorbell.turnStarts();
            try {
                busy = round();
            } catch (RuntimeException e) {
                failedRounds++;
                LOG.atError()
                        .addKeyValue(LogFields.ADVICE, "if it repeats at this seq, run outpost fsck and report it")
                        .setCause(e)
                        .log(
                                "engine: a round after seq {} failed; going back to the last checkpoint and retrying in {} ms",
                                position,
                                RETRY_WAIT_MILLIS);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(RETRY_WAIT_MILLIS));
                recoverQuietly();
                continue;
            }
            if (!busy) {
                checkpointIfDue();
                doorbell.await(TimeUnit.MILLISECONDS.toNanos(IDLE_WAIT_MILLIS));
            }
        }
    }

    private void recoverQuietly() {
        try {
            recover();
        } catch (RuntimeException e) {
            LOG.atError()
                    .addKeyValue(LogFields.ADVICE, "check the disk of catalog.db; the engine retries")
                    .setCause(e)
                    .log("engine: cannot read the last checkpoint; retrying");
        }
    }

    /** One round: returns false if there was nothing to read. */
    private boolean round() {
        RuleSet current = rules.current();
        if (current != ruleSet) {
            ruleSet = current;
            detectors.retain(current.detectorIds());
            evaluator = current.evaluator(detectors);
            sharedGeneration = -1;
        }
        boolean rulesOn = !ruleSet.specs().isEmpty();
        boolean rollupsOn = rollupsOn();
        if (rulesOn && rollupsOn && sharedGeneration != rollupsGeneration) {
            evaluator.alsoRead(rollups.rollups().paths()); // one pass over an event for its rules and rollups
            sharedGeneration = rollupsGeneration;
        }
        if (!rulesOn && !rollupsOn) {
            position = log.lastSeq(); // nothing to apply: do not read (and decompress) the log for nothing
            checkpointIfDue();
            return false;
        }
        long from = (rollupsOn ? Math.min(position, rollupsFed) : position) + 1;
        if (from > log.lastSeq()) {
            return false;
        }
        List<EventDraft> alerts = new ArrayList<>();
        long last = from - 1;
        int n = 0;
        try (EventCursor c = log.cursorFromSeq(from)) {
            while (n < ROUND_EVENTS_MAX && alerts.size() < ROUND_ALERTS_MAX && c.next(view)) {
                if (n == 0 && view.seq() > from && from > position) {
                    missed += view.seq() - from;
                }
                last = view.seq();
                n++;
                PathValues read = null;
                if (rulesOn && last > position && !view.streamEquals(alertStreamUtf8)) {
                    read = evaluate(alerts);
                }
                if (rollupsOn && last > rollupsFed) {
                    rollups.rollups()
                            .apply(
                                    last,
                                    HybridClock.millis(view.hlc()),
                                    view.stream(),
                                    view.payloadArray(),
                                    view.payloadOffset(),
                                    view.payloadLength(),
                                    read);
                }
            }
        }
        if (n == 0) {
            return false; // nothing readable yet past the position (records being published)
        }
        if (!alerts.isEmpty()) {
            AppendResult r = log.append(Lane.CRITICAL, alerts);
            r.durable().join();
            alertsSinceCheckpoint += alerts.size();
        }
        events += Math.max(0, last - position);
        position = Math.max(position, last);
        rollupsFed = rollupsOn ? Math.max(rollupsFed, last) : rollupsFed;
        if (last >= alreadyRaisedUntil && !alreadyRaised.isEmpty()) {
            alreadyRaised = Set.of();
        }
        checkpointIfDue();
        return true;
    }

    /** True if rollups are defined; after a change of the set, reads again from the lowest covered seq. */
    private boolean rollupsOn() {
        long g = rollups.generation();
        if (g != rollupsGeneration) {
            rollupsGeneration = g;
            rollupsFed = rollups.rollups().lowestCoveredSeq();
        }
        return rollups.rollups().anyDefined();
    }

    /** Applies the rules to the event in {@link #view}; returns the rollups' fields read in the same pass, or null. */
    private PathValues evaluate(List<EventDraft> alerts) {
        String stream = view.stream();
        if (!ruleSet.watches(stream)) {
            return null;
        }
        evaluator.evaluate(
                stream,
                view.payloadArray(),
                view.payloadOffset(),
                view.payloadLength(),
                f -> alerting.fired(f, view, alreadyRaised, alerts));
        return evaluator.alsoRead(stream);
    }

    private void checkpointIfDue() {
        long now = clockMillis.getAsLong();
        if (now - flushedAtMillis >= CHECKPOINT_INTERVAL_MILLIS) {
            rollups.rollups().flush(); // its own position, in the same transaction as its rows
            flushedAtMillis = now;
            emitFinalWindows();
        }
        boolean due = alertsSinceCheckpoint >= ALERTS_UNCHECKPOINTED_MAX
                || now - checkpointedAtMillis >= state.checkpointIntervalMillis(CHECKPOINT_INTERVAL_MILLIS);
        if (due && (position != checkpointed || state.changedSinceSnapshot())) {
            checkpoint();
            checkpointedAtMillis = now;
        }
    }

    /** Final rollup windows to the log (high lane) for the hub; a failure is retried at the next flush. */
    private void emitFinalWindows() {
        try {
            rollups.rollups()
                    .emitFinal(
                            drafts -> log.append(Lane.HIGH, drafts).durable().join(),
                            TimeUnit.MILLISECONDS.toNanos(EMIT_BUDGET_MILLIS));
        } catch (RuntimeException e) {
            LOG.atWarn()
                    .addKeyValue(LogFields.ADVICE, "if it repeats, check the disk of data/rollups.db")
                    .log("engine: final rollup windows not emitted ({}); retrying at the next flush", e.toString());
        }
    }

    private void checkpoint() {
        long at = position;
        catalog.engine().putCheckpoint(new EngineRecords.Checkpoint(CHECKPOINT, at, state.snapshot()));
        checkpointed = at;
        alertsSinceCheckpoint = 0;
    }

    /** Stops the thread and takes a last checkpoint. */
    @Override
    public void close() {
        running = false;
        doorbell.ring();
        LockSupport.unpark(thread); // also while it settles
        if (thread.isAlive()) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!thread.isAlive()) {
            try {
                checkpoint();
            } catch (RuntimeException e) {
                LOG.atWarn()
                        .addKeyValue(LogFields.ADVICE, "check the disk of catalog.db; alerts stay exactly-once")
                        .log(
                                "engine: last checkpoint not stored ({}); the next start replays from the one before",
                                e.getMessage());
            }
        }
    }
}

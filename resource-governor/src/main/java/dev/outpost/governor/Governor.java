package dev.outpost.governor;

import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resource governor: one {@link Budget}, pressure per {@link Dimension}, a {@link Level}, and registered
 * {@link Action}s that shed load (BRIEF §6, issue #5).
 *
 * <p>Design note. Invariants:
 *
 * <ul>
 *   <li><b>Own thread.</b> Samples are scheduled on the {@link Ticker} (in production one daemon thread,
 *       "outpost-governor"), each at the interval of the level it found. Actions are only ever called from those
 *       samples. {@link #sampleNow()} measures on the caller's thread (probes are cheap) but never calls actions
 *       there: when the level changed it re-arms the governor's thread at once, and that sample calls them.
 *   <li><b>Bounded memory.</b> One latest snapshot, a ring of the last {@value #RECENT_ACTIONS} action events, one
 *       counter per level and per registered action. A superseded scheduled sample is a no-op when it fires.
 *   <li><b>Never throws out of a sample.</b> A probe that throws counts as unavailable; an action that throws is logged
 *       and counted; anything else is logged; the next sample is always scheduled.
 *   <li><b>Level = worst dimension.</b> Pressure is usage / limit for each dimension with a probe, a limit (ingest rate
 *       0 = none) and a non-negative reading; the level is the highest {@link Level#of} among them (LOW if none).
 *   <li><b>Logged once, counted.</b> Each level change is logged in one line (WARN into HIGH or CRITICAL, INFO
 *       otherwise) and counted in {@link #transitions}; not logged again while the level stays.
 *   <li><b>Actions.</b> Called in registration order with the current level on every level change, and on every sample
 *       while the level is ELEVATED or above, so they can act repeatedly; an action whose {@link Action#everySample()}
 *       is true is called on every sample. An action that reports a detail is recorded
 *       as an {@link ActionEvent}, logged in one line and counted in {@link #actionRuns}; failures in
 *       {@link #actionFailures} (the first failure of a streak is logged with its stack trace, the rest at DEBUG).
 * </ul>
 */
public final class Governor implements AutoCloseable {
    /** Every dimension, in declaration order; {@code Dimension.values()} would copy the array on each call. */
    private static final Dimension[] ALL_DIMENSIONS = Dimension.values();

    static final int RECENT_ACTIONS = 100;

    private static final Logger LOG = LoggerFactory.getLogger(Governor.class);

    /** Where the governor's log lines go; tests capture them. */
    @FunctionalInterface
    interface LogSink {
        void log(org.slf4j.event.Level level, String message, Throwable cause);

        /** A line that says what to do: by default the advice ends the message. */
        default void advise(org.slf4j.event.Level level, String message, String advice, Throwable cause) {
            log(level, message + "; " + advice, cause);
        }
    }

    /**
     * The log field that carries a warning's advice: the name dev.outpost.store.LogFields.ADVICE gives it, which
     * this module cannot see (it depends on nothing of ours); LogFormatTest checks they agree.
     */
    public static final String ADVICE_FIELD = "outpost.advice";

    static final LogSink SLF4J = new LogSink() {
        @Override
        public void log(org.slf4j.event.Level level, String message, Throwable cause) {
            LOG.atLevel(level).setCause(cause).log(message);
        }

        @Override
        public void advise(org.slf4j.event.Level level, String message, String advice, Throwable cause) {
            LOG.atLevel(level).addKeyValue(ADVICE_FIELD, advice).setCause(cause).log(message);
        }
    };

    private final Budget budget;
    private final Map<Dimension, Probe> probes;
    private final LongSupplier clock;
    private final Ticker ticker;
    private final LogSink log;

    private final List<Action> actions = new CopyOnWriteArrayList<>();
    private final Map<String, LongAdder> runs = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();
    private final AtomicLongArray transitions = new AtomicLongArray(Level.values().length);

    private final Object lock = new Object();
    private final ArrayDeque<ActionEvent> recent = new ArrayDeque<>(); // guarded by lock
    private volatile Snapshot latest;
    private long armed; // guarded by lock: the generation of the one live scheduled sample
    private boolean started; // guarded by lock
    private boolean closed; // guarded by lock

    // Touched only by samples on the ticker, which run one at a time.
    private Level dispatched = Level.LOW;
    private final Set<String> failing = new HashSet<>();

    /** A governor on the real clock and its own daemon thread. */
    public Governor(Budget budget, Map<Dimension, Probe> probes) {
        this(budget, probes, System::currentTimeMillis, Ticker.daemon());
    }

    /**
     * @param probes one probe per governed dimension; dimensions without one are not governed
     * @param clockMillis the clock for snapshots and events, in milliseconds
     * @param ticker runs the samples; closed with the governor
     */
    public Governor(Budget budget, Map<Dimension, Probe> probes, LongSupplier clockMillis, Ticker ticker) {
        this(budget, probes, clockMillis, ticker, SLF4J);
    }

    Governor(Budget budget, Map<Dimension, Probe> probes, LongSupplier clockMillis, Ticker ticker, LogSink log) {
        this.budget = budget;
        this.probes = new EnumMap<>(Dimension.class);
        probes.forEach((dimension, probe) -> {
            if (probe != null) {
                this.probes.put(dimension, probe);
            }
        });
        this.clock = clockMillis;
        this.ticker = ticker;
        this.log = log;
        this.latest = new Snapshot(clockMillis.getAsLong(), Level.LOW, Map.of(), Level.LOW.sampleIntervalMillis());
    }

    /** Registers an action; names must be unique. Actions run in registration order. */
    public void register(Action action) {
        String name = action.name();
        if (runs.putIfAbsent(name, new LongAdder()) != null) {
            throw new IllegalArgumentException("an action named " + name + " is already registered");
        }
        failures.put(name, new LongAdder());
        actions.add(action);
    }

    /** The registered actions' names, in registration order. */
    public List<String> actionNames() {
        return actions.stream().map(Action::name).toList();
    }

    /** Schedules the first sample at once; later ones follow the level. Idempotent. */
    public void start() {
        synchronized (lock) {
            if (started || closed) {
                return;
            }
            started = true;
        }
        rearm(0);
    }

    /**
     * Takes a reading now, on the caller's thread (e.g. a writer whose disk usage jumped), updates the level and
     * returns the reading. If the level changed and the governor is started, the governor's thread samples again at
     * once and calls the actions there.
     */
    public Snapshot sampleNow() {
        Snapshot snapshot;
        boolean changed;
        synchronized (lock) {
            snapshot = measure();
            changed = apply(snapshot);
        }
        if (changed) {
            rearm(0);
        }
        return snapshot;
    }

    /**
     * Samples at once on the governor's own thread, calling the actions there as any sample does, then goes on at the
     * level's interval. Does nothing before {@link #start()} or after {@link #close()}.
     */
    public void wake() {
        rearm(0);
    }

    /** The latest sample (an empty LOW one before the first). */
    public Snapshot snapshot() {
        return latest;
    }

    /**
     * The governor's pressure over {@code dimensions} only, for a policy that only those concern (shedding writes
     * looks at memory, disk and ingest rate, not CPU): the latest sample's readings of them, except that those in
     * {@code readNow} are measured now through their probes (a dimension tracked on every write, such as disk, whose
     * last sample may be a minute old). The level is the worst of theirs by the same rule as the governor's own level,
     * so a policy never keeps a second notion of pressure. Runs on the caller's thread; publishes nothing, calls no
     * action. Dimensions without a probe or limit, or whose probe fails, are left out.
     */
    public Snapshot snapshotOf(Set<Dimension> dimensions, Set<Dimension> readNow) {
        Snapshot last = latest;
        var readings = new EnumMap<Dimension, Reading>(Dimension.class);
        Level level = Level.LOW;
        for (Dimension d : dimensions) {
            Reading r = last.readings().get(d);
            if (readNow.contains(d)) {
                Probe probe = probes.get(d);
                long limit = budget.limit(d);
                long usage = probe == null ? -1 : read(probe);
                r = limit <= 0 || usage < 0 ? null : new Reading(d, usage, limit, (double) usage / limit);
            }
            if (r == null) {
                continue;
            }
            readings.put(d, r);
            Level of = Level.of(r.pressure());
            if (of.compareTo(level) > 0) {
                level = of;
            }
        }
        return new Snapshot(last.atMillis(), level, readings, last.intervalMillis());
    }

    /**
     * The level of {@link #snapshotOf(Set, Set)} over the same dimensions, without building the snapshot: what a
     * policy asks on every request (shedding asks it per ingest request), so it allocates nothing.
     */
    public Level levelOf(Set<Dimension> dimensions, Set<Dimension> readNow) {
        Map<Dimension, Reading> last = latest.readings();
        Level level = Level.LOW;
        for (Dimension d : ALL_DIMENSIONS) {
            if (!dimensions.contains(d)) {
                continue;
            }
            double pressure;
            if (readNow.contains(d)) {
                Probe probe = probes.get(d);
                long limit = budget.limit(d);
                long usage = probe == null ? -1 : read(probe);
                if (limit <= 0 || usage < 0) {
                    continue;
                }
                pressure = (double) usage / limit;
            } else {
                Reading r = last.get(d);
                if (r == null) {
                    continue;
                }
                pressure = r.pressure();
            }
            Level of = Level.of(pressure);
            if (of.compareTo(level) > 0) {
                level = of;
            }
        }
        return level;
    }

    /** The current level. */
    public Level level() {
        return latest.level();
    }

    /** The last {@value #RECENT_ACTIONS} action events, oldest first. */
    public List<ActionEvent> recentActions() {
        synchronized (lock) {
            return List.copyOf(recent);
        }
    }

    /** How many times the level changed to {@code to}. */
    public long transitions(Level to) {
        return transitions.get(to.ordinal());
    }

    /** How many times the named action reported doing something (0 if unknown). */
    public long actionRuns(String name) {
        LongAdder runs = this.runs.get(name);
        return runs == null ? 0 : runs.sum();
    }

    /** How many times the named action threw (0 if unknown). */
    public long actionFailures(String name) {
        LongAdder failures = this.failures.get(name);
        return failures == null ? 0 : failures.sum();
    }

    /** Stops sampling and closes the ticker. */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
        }
        ticker.close();
    }

    private void rearm(long delayMillis) {
        long generation;
        synchronized (lock) {
            if (!started || closed) {
                return;
            }
            generation = ++armed;
        }
        try {
            ticker.schedule(() -> tick(generation), delayMillis);
        } catch (RuntimeException e) {
            log.advise(
                    org.slf4j.event.Level.WARN,
                    "Governor could not schedule its next sample",
                    "the budget is not watched until the next sample is scheduled; restart the agent if this repeats",
                    e);
        }
    }

    private void tick(long generation) {
        synchronized (lock) {
            if (closed || generation != armed) {
                return; // superseded by a re-arm
            }
        }
        long next = latest.intervalMillis();
        try {
            Snapshot snapshot;
            synchronized (lock) {
                snapshot = measure();
                apply(snapshot);
            }
            next = snapshot.intervalMillis();
            dispatch(snapshot);
        } catch (RuntimeException e) {
            log.advise(
                    org.slf4j.event.Level.ERROR,
                    "Governor sample failed",
                    "nothing to do if it passes: the next sample retries; report it with the stack trace if it repeats",
                    e);
        } finally {
            rearmAfter(generation, next);
        }
    }

    /**
     * Schedules the sample after {@code generation}'s, unless something re-armed while it ran (a {@link #wake()} or a
     * level change seen by {@link #sampleNow()}): that sample is already on its way, and superseding it would lose it.
     */
    private void rearmAfter(long generation, long delayMillis) {
        synchronized (lock) {
            if (armed != generation) {
                return;
            }
        }
        rearm(delayMillis);
    }

    /** Reads every probe. Called with the lock held. */
    private Snapshot measure() {
        var readings = new EnumMap<Dimension, Reading>(Dimension.class);
        Level level = Level.LOW;
        for (var entry : probes.entrySet()) {
            long limit = budget.limit(entry.getKey());
            long usage = read(entry.getValue());
            if (limit <= 0 || usage < 0) {
                continue;
            }
            var reading = new Reading(entry.getKey(), usage, limit, (double) usage / limit);
            readings.put(entry.getKey(), reading);
            Level of = Level.of(reading.pressure());
            if (of.compareTo(level) > 0) {
                level = of;
            }
        }
        return new Snapshot(clock.getAsLong(), level, readings, level.sampleIntervalMillis());
    }

    private static long read(Probe probe) {
        try {
            return probe.usage();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** Publishes a snapshot; logs and counts a level change. Called with the lock held. */
    private boolean apply(Snapshot snapshot) {
        Level from = latest.level();
        latest = snapshot;
        Level to = snapshot.level();
        if (to == from) {
            return false;
        }
        transitions.incrementAndGet(to.ordinal());
        java.util.Optional<Reading> top =
                snapshot.readings().values().stream().max((a, b) -> Double.compare(a.pressure(), b.pressure()));
        String worst = top.map(r -> String.format(
                        Locale.ROOT,
                        "%s at %.1f%% (%d of %d)",
                        r.dimension(),
                        100 * r.pressure(),
                        r.usage(),
                        r.limit()))
                .orElse("nothing measured");
        String message = "Governor level " + from + " -> " + to + ": " + worst + "; sampling every "
                + snapshot.intervalMillis() + " ms";
        if (to.compareTo(Level.HIGH) >= 0) {
            String budgetKey = top.map(r -> "budget." + r.dimension().name().toLowerCase(Locale.ROOT))
                    .orElse("the budget");
            log.advise(
                    org.slf4j.event.Level.WARN,
                    message,
                    "writes are shed by priority and data retired until the pressure falls: raise " + budgetKey
                            + " or lower the load; GET /v1/governor shows each dimension and the actions taken",
                    null);
        } else {
            log.log(org.slf4j.event.Level.INFO, message, null);
        }
        return true;
    }

    /**
     * Calls the actions on a level change, and on every sample at ELEVATED or above; those that ask, on every sample.
     * On the ticker only.
     */
    private void dispatch(Snapshot snapshot) {
        Level level = snapshot.level();
        boolean changed = level != dispatched;
        dispatched = level;
        boolean all = changed || level.compareTo(Level.ELEVATED) >= 0;
        for (Action action : actions) {
            if (!all && !action.everySample()) {
                continue;
            }
            String name = action.name();
            String detail;
            try {
                detail = action.onLevel(level, snapshot);
            } catch (RuntimeException | Error e) {
                if (e instanceof VirtualMachineError fatal) {
                    throw fatal;
                }
                failures.get(name).increment();
                boolean first = failing.add(name);
                log.advise(
                        first ? org.slf4j.event.Level.WARN : org.slf4j.event.Level.DEBUG,
                        "Governor action " + name + " failed at " + level + ": " + e,
                        "the other actions go on and this one is tried at the next sample; report it with the stack"
                                + " trace if it repeats",
                        first ? e : null);
                continue;
            }
            failing.remove(name);
            if (detail != null) {
                runs.get(name).increment();
                var event = new ActionEvent(clock.getAsLong(), name, level, detail);
                synchronized (lock) {
                    if (recent.size() == RECENT_ACTIONS) {
                        recent.removeFirst();
                    }
                    recent.addLast(event);
                }
                log.log(org.slf4j.event.Level.INFO, "Governor action " + name + " at " + level + ": " + detail, null);
            }
        }
    }
}

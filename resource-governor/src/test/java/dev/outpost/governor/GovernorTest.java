package dev.outpost.governor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class GovernorTest {
    /** Every limit is 100 (CPU: 0.1 core = 100 milli-cores), so usage is a percentage. */
    static final Budget BUDGET = new Budget(100, 0.1, 100, 100, 0);

    final AtomicLong clock = new AtomicLong(1_000);
    final FakeTicker ticker = new FakeTicker();
    final List<String> logs = new ArrayList<>();
    final Map<Dimension, AtomicLong> usage = new EnumMap<>(Dimension.class);

    Governor governor(Dimension... dimensions) {
        Map<Dimension, Probe> probes = new EnumMap<>(Dimension.class);
        for (Dimension d : dimensions) {
            AtomicLong value = usage.computeIfAbsent(d, k -> new AtomicLong());
            probes.put(d, value::get);
        }
        return new Governor(
                BUDGET, probes, clock::get, ticker, (level, message, cause) -> logs.add(level + " " + message));
    }

    void set(Dimension d, long value) {
        usage.get(d).set(value);
    }

    @Test
    void levelsAtExactBoundaries() {
        assertEquals(Level.LOW, Level.of(0.0));
        assertEquals(Level.LOW, Level.of(Math.nextDown(0.50)));
        assertEquals(Level.MEDIUM, Level.of(0.50));
        assertEquals(Level.MEDIUM, Level.of(Math.nextDown(0.70)));
        assertEquals(Level.ELEVATED, Level.of(0.70));
        assertEquals(Level.ELEVATED, Level.of(Math.nextDown(0.85)));
        assertEquals(Level.HIGH, Level.of(0.85));
        assertEquals(Level.HIGH, Level.of(Math.nextDown(0.95)));
        assertEquals(Level.CRITICAL, Level.of(0.95));
        assertEquals(Level.CRITICAL, Level.of(3.0));
        assertEquals(Level.LOW, Level.of(Double.NaN));
        // usage / limit lands exactly on the boundaries too
        var g = governor(Dimension.MEMORY);
        long[] at = {49, 50, 69, 70, 84, 85, 94, 95, 100};
        Level[] expected = {
            Level.LOW,
            Level.MEDIUM,
            Level.MEDIUM,
            Level.ELEVATED,
            Level.ELEVATED,
            Level.HIGH,
            Level.HIGH,
            Level.CRITICAL,
            Level.CRITICAL
        };
        for (int i = 0; i < at.length; i++) {
            set(Dimension.MEMORY, at[i]);
            assertEquals(expected[i], g.sampleNow().level(), "usage " + at[i]);
        }
    }

    /** A policy's view: only its dimensions, the live ones read now, the level by the governor's rule. */
    @Test
    void snapshotOfSomeDimensionsReadsTheLiveOnesNow() {
        var g = governor(Dimension.MEMORY, Dimension.CPU, Dimension.DISK);
        set(Dimension.MEMORY, 60);
        set(Dimension.CPU, 99);
        set(Dimension.DISK, 10);
        assertEquals(Level.CRITICAL, g.sampleNow().level(), "CPU is the worst dimension");
        set(Dimension.DISK, 90); // moved since the sample
        var memoryAndDisk = java.util.EnumSet.of(Dimension.MEMORY, Dimension.DISK);
        Snapshot sampled = g.snapshotOf(memoryAndDisk, java.util.Set.of());
        assertEquals(Level.MEDIUM, sampled.level(), "CPU is left out; disk as last sampled");
        assertEquals(
                java.util.Set.of(Dimension.MEMORY, Dimension.DISK),
                sampled.readings().keySet());
        Snapshot live = g.snapshotOf(memoryAndDisk, java.util.Set.of(Dimension.DISK));
        assertEquals(Level.HIGH, live.level(), "disk read now");
        assertEquals(90, live.readings().get(Dimension.DISK).usage());
        assertEquals(Level.CRITICAL, g.level(), "the governor's own level is untouched");
        assertEquals(
                Level.LOW,
                g.snapshotOf(java.util.Set.of(Dimension.INGEST_RATE), java.util.Set.of(Dimension.INGEST_RATE))
                        .level(),
                "an ungoverned dimension counts for nothing");
        // levelOf is the snapshot's level without the snapshot, for every combination of dimensions read now.
        for (var readNow : java.util.List.<java.util.Set<Dimension>>of(
                java.util.Set.of(), java.util.Set.of(Dimension.DISK), memoryAndDisk)) {
            for (int disk : new int[] {10, 75, 90, 100}) {
                set(Dimension.DISK, disk);
                assertEquals(
                        g.snapshotOf(memoryAndDisk, readNow).level(),
                        g.levelOf(memoryAndDisk, readNow),
                        "disk " + disk + ", read now " + readNow);
            }
        }
    }

    @Test
    void intervalFollowsTheLevel() {
        var g = governor(Dimension.CPU);
        g.start();
        g.start(); // idempotent
        assertEquals(List.of(0L), ticker.delays);
        for (long cpu : new long[] {10, 60, 75, 90, 99, 99, 10}) {
            set(Dimension.CPU, cpu);
            ticker.runNext();
            assertEquals(1, ticker.pending());
            assertEquals(g.level().sampleIntervalMillis(), g.snapshot().intervalMillis());
        }
        assertEquals(List.of(0L, 60_000L, 15_000L, 5_000L, 2_000L, 500L, 500L, 60_000L), ticker.delays);
        assertEquals(
                List.of(60_000L, 15_000L, 5_000L, 2_000L, 500L),
                List.of(Level.values()).stream()
                        .map(Level::sampleIntervalMillis)
                        .toList());
        g.close();
        assertTrue(ticker.closed);
        ticker.runNext(); // a sample after close does nothing
        assertEquals(0, ticker.pending());
    }

    @Test
    void worstDimensionWins() {
        var g = new Governor(
                new Budget(100, 0.1, 100, 100, 0),
                Map.of(
                        Dimension.MEMORY, () -> 10,
                        Dimension.DISK, () -> 90,
                        Dimension.CPU, () -> 60,
                        Dimension.CONNECTIONS, () -> -1, // unavailable
                        Dimension.INGEST_RATE, () -> 1_000_000), // no ingest limit: not governed
                clock::get,
                ticker);
        Snapshot s = g.sampleNow();
        assertEquals(Level.HIGH, s.level());
        assertEquals(
                List.of(Dimension.MEMORY, Dimension.CPU, Dimension.DISK),
                List.copyOf(s.readings().keySet()));
        assertEquals(new Reading(Dimension.DISK, 90, 100, 0.9), s.readings().get(Dimension.DISK));
        assertEquals(1_000, s.atMillis());
        assertEquals(2_000, s.intervalMillis());
        assertEquals(s, g.snapshot());
    }

    @Test
    void transitionsAreCountedAndLoggedOncePerChange() {
        var g = governor(Dimension.MEMORY, Dimension.DISK);
        g.start();
        for (long disk : new long[] {10, 10, 60, 60, 60, 90, 90, 10}) {
            set(Dimension.DISK, disk);
            ticker.runNext();
        }
        assertEquals(
                List.of(
                        "INFO Governor level LOW -> MEDIUM: DISK at 60.0% (60 of 100); sampling every 15000 ms",
                        "WARN Governor level MEDIUM -> HIGH: DISK at 90.0% (90 of 100); sampling every 2000 ms; writes are shed"
                                + " by priority and data retired until the pressure falls: raise budget.disk or lower"
                                + " the load; GET /v1/governor shows each dimension and the actions taken",
                        "INFO Governor level HIGH -> LOW: DISK at 10.0% (10 of 100); sampling every 60000 ms"),
                logs);
        assertEquals(1, g.transitions(Level.MEDIUM));
        assertEquals(1, g.transitions(Level.HIGH));
        assertEquals(1, g.transitions(Level.LOW));
        assertEquals(0, g.transitions(Level.CRITICAL));
    }

    @Test
    void actionsAreCalledOnChangesAndRepeatedlyWhenElevatedAndFailuresAreContained() {
        var g = governor(Dimension.MEMORY);
        List<Level> calls = new ArrayList<>();
        g.register(action("shrink-caches", (level, s) -> {
            calls.add(level);
            return level.compareTo(Level.ELEVATED) >= 0
                    ? "shrank caches at " + s.readings().get(Dimension.MEMORY).usage()
                    : null;
        }));
        AtomicInteger thrown = new AtomicInteger();
        g.register(action("broken", (level, s) -> {
            thrown.incrementAndGet();
            throw new IllegalStateException("boom");
        }));
        assertThrows(IllegalArgumentException.class, () -> g.register(action("broken", (l, s) -> null)));
        g.start();
        for (long memory : new long[] {10, 10, 60, 60, 80, 80, 80, 10}) {
            set(Dimension.MEMORY, memory);
            clock.addAndGet(1_000);
            ticker.runNext();
        }
        // LOW (no change, not called), MEDIUM once, ELEVATED on each of 3 samples, LOW once
        assertEquals(List.of(Level.MEDIUM, Level.ELEVATED, Level.ELEVATED, Level.ELEVATED, Level.LOW), calls);
        assertEquals(3, g.actionRuns("shrink-caches"));
        assertEquals(0, g.actionFailures("shrink-caches"));
        assertEquals(5, thrown.get());
        assertEquals(5, g.actionFailures("broken"));
        assertEquals(0, g.actionRuns("broken"));
        assertEquals(0, g.actionRuns("unknown"));
        assertEquals(1, ticker.pending()); // the governor keeps sampling
        assertEquals(
                List.of(
                        new ActionEvent(6_000, "shrink-caches", Level.ELEVATED, "shrank caches at 80"),
                        new ActionEvent(7_000, "shrink-caches", Level.ELEVATED, "shrank caches at 80"),
                        new ActionEvent(8_000, "shrink-caches", Level.ELEVATED, "shrank caches at 80")),
                g.recentActions());
        // each reported action logged once; the failure streak logged with WARN once, then DEBUG
        assertEquals(
                3,
                logs.stream()
                        .filter(l -> l.startsWith("INFO Governor action shrink-caches"))
                        .count());
        assertEquals(
                1,
                logs.stream()
                        .filter(l -> l.startsWith("WARN Governor action broken failed"))
                        .count());
        assertEquals(
                4,
                logs.stream()
                        .filter(l -> l.startsWith("DEBUG Governor action broken failed"))
                        .count());
    }

    /** An action that asks for every sample is called at LOW and MEDIUM without a level change; others are not. */
    @Test
    void everySampleActionsAreCalledWhateverTheLevel() {
        var g = governor(Dimension.CPU);
        List<Level> onChange = new ArrayList<>();
        List<Level> every = new ArrayList<>();
        g.register(action("codec", (level, s) -> {
            onChange.add(level);
            return null;
        }));
        g.register(new Action() {
            @Override
            public String name() {
                return "lower-concurrency";
            }

            @Override
            public String onLevel(Level level, Snapshot s) {
                every.add(level);
                return s.readings().get(Dimension.CPU).usage() < 60 ? "restored at " + level : null;
            }

            @Override
            public boolean everySample() {
                return true;
            }
        });
        assertEquals(List.of("codec", "lower-concurrency"), g.actionNames());
        g.start();
        for (long cpu : new long[] {10, 10, 65, 55, 55}) {
            set(Dimension.CPU, cpu);
            ticker.runNext();
        }
        assertEquals(List.of(Level.MEDIUM), onChange, "only the change LOW -> MEDIUM");
        assertEquals(List.of(Level.LOW, Level.LOW, Level.MEDIUM, Level.MEDIUM, Level.MEDIUM), every);
        assertEquals(4, g.actionRuns("lower-concurrency"));
        assertEquals("restored at MEDIUM", g.recentActions().getLast().detail());
    }

    /** wake() samples at once on the governor's thread (superseding the scheduled sample), not on the caller's. */
    @Test
    void wakeSamplesAtOnceOnTheTicker() {
        var g = governor(Dimension.MEMORY);
        List<Level> calls = new ArrayList<>();
        g.register(new Action() {
            @Override
            public String name() {
                return "smaller-batches";
            }

            @Override
            public String onLevel(Level level, Snapshot s) {
                calls.add(level);
                return null;
            }

            @Override
            public boolean everySample() {
                return true;
            }
        });
        g.wake(); // not started: nothing
        assertEquals(0, ticker.pending());
        g.start();
        ticker.runNext();
        assertEquals(List.of(0L, 60_000L), ticker.delays);
        g.wake();
        assertEquals(List.of(Level.LOW), calls, "nothing on the caller's thread");
        assertEquals(List.of(0L, 60_000L, 0L), ticker.delays);
        ticker.runNext(); // the superseded 60 s sample
        assertEquals(1, calls.size());
        ticker.runNext();
        assertEquals(List.of(Level.LOW, Level.LOW), calls);
        assertEquals(60_000L, ticker.lastDelay());
        g.close();
        g.wake();
        assertEquals(1, ticker.pending());
    }

    /** A wake (or a level change seen by sampleNow) while a sample runs is not superseded by that sample's re-arm. */
    @Test
    void aWakeDuringASampleIsNotLost() {
        var g = governor(Dimension.MEMORY);
        List<Level> calls = new ArrayList<>();
        g.register(new Action() {
            @Override
            public String name() {
                return "wakes-once";
            }

            @Override
            public String onLevel(Level level, Snapshot s) {
                calls.add(level);
                if (calls.size() == 1) {
                    g.wake(); // as another thread would, while this sample runs
                }
                return null;
            }

            @Override
            public boolean everySample() {
                return true;
            }
        });
        g.start();
        ticker.runNext();
        assertEquals(List.of(0L, 0L), ticker.delays, "only the wake's sample is scheduled");
        ticker.runNext();
        assertEquals(2, calls.size(), "the woken sample ran");
        assertEquals(List.of(0L, 0L, 60_000L), ticker.delays);
        assertEquals(1, ticker.pending());
    }

    @Test
    void recentActionsAreBounded() {
        var g = governor(Dimension.CONNECTIONS);
        AtomicInteger n = new AtomicInteger();
        g.register(action("refuse-low-priority", (level, s) -> "refused #" + n.incrementAndGet()));
        set(Dimension.CONNECTIONS, 99);
        g.start();
        for (int i = 0; i < 250; i++) {
            ticker.runNext();
        }
        List<ActionEvent> recent = g.recentActions();
        assertEquals(Governor.RECENT_ACTIONS, recent.size());
        assertEquals("refused #151", recent.getFirst().detail());
        assertEquals("refused #250", recent.getLast().detail());
        assertEquals(250, g.actionRuns("refuse-low-priority"));
    }

    @Test
    void sampleNowUpdatesTheLevelAndRearmsTheGovernorThread() {
        var g = governor(Dimension.DISK);
        List<Level> calls = new ArrayList<>();
        g.register(action("retire-synced", (level, s) -> {
            calls.add(level);
            return null;
        }));
        assertEquals(Level.LOW, g.level());
        assertTrue(g.snapshot().readings().isEmpty());
        g.start();
        ticker.runNext(); // LOW: next sample in 60 s
        set(Dimension.DISK, 97);
        assertEquals(Level.CRITICAL, g.sampleNow().level()); // on this thread: level now, no actions here
        assertEquals(Level.CRITICAL, g.level());
        assertEquals(List.of(), calls);
        assertEquals(1, g.transitions(Level.CRITICAL));
        assertEquals(List.of(0L, 60_000L, 0L), ticker.delays);
        ticker.runNext(); // the superseded 60 s sample: a no-op
        assertEquals(List.of(), calls);
        ticker.runNext(); // the re-armed sample calls the actions and follows the level
        assertEquals(List.of(Level.CRITICAL), calls);
        assertEquals(500L, ticker.lastDelay());
        assertEquals(1, ticker.pending());
        g.sampleNow(); // no change: nothing re-armed
        assertEquals(1, ticker.pending());
    }

    @Test
    void aThrowingProbeIsUnavailable() {
        var g = new Governor(
                BUDGET,
                Map.of(Dimension.MEMORY, () -> {
                    throw new IllegalStateException("no /proc");
                }),
                clock::get,
                ticker);
        g.start();
        ticker.runNext();
        assertEquals(Level.LOW, g.level());
        assertTrue(g.snapshot().readings().isEmpty());
        assertEquals(1, ticker.pending());
    }

    @Test
    void realTickerSamplesOnItsOwnDaemonThread() throws Exception {
        var thread = new CompletableFuture<Thread>();
        try (var g = new Governor(BUDGET, Map.of(Dimension.MEMORY, () -> 90))) {
            g.register(action("probe-thread", (level, s) -> {
                thread.complete(Thread.currentThread());
                return null;
            }));
            g.start();
            Thread t = thread.get(10, TimeUnit.SECONDS);
            assertEquals("outpost-governor", t.getName());
            assertTrue(t.isDaemon());
            assertEquals(Level.HIGH, g.level());
        }
    }

    @Test
    void budgetIsValidated() {
        assertThrows(IllegalArgumentException.class, () -> new Budget(0, 1, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Budget(1, 0, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Budget(1, Double.NaN, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Budget(1, 1, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Budget(1, 1, 1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Budget(1, 1, 1, 1, -1));
        var b = new Budget(512L << 20, 2, 1L << 30, 1000, 20_000);
        assertEquals(2000, b.limit(Dimension.CPU));
        assertEquals(20_000, b.limit(Dimension.INGEST_RATE));
    }

    interface OnLevel {
        String apply(Level level, Snapshot snapshot);
    }

    static Action action(String name, OnLevel onLevel) {
        return new Action() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String onLevel(Level level, Snapshot snapshot) {
                return onLevel.apply(level, snapshot);
            }
        };
    }
}

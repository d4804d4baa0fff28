package dev.outpost.edge.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The send budget on a simulated clock: the write-time share while ingest is busy, and none while it is quiet. */
class SendBudgetTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    /** A feed that hands the loops work whenever the budget allows; each hand-over costs the loops 2 ms, seen later. */
    private static final class Run {
        final long[] loopNanos = {0};
        final SendBudget budget;
        long head;
        long sends;
        long sendCostNanos = 2 * MS;

        Run(long bytesPerSecond, int cpuPercent) {
            budget = new SendBudget(bytesPerSecond, cpuPercent, 2, () -> loopNanos[0]);
        }

        /** {@code millis} steps of 1 ms with {@code eventsPerMilli} acknowledged each. */
        void steps(long from, int millis, int eventsPerMilli) {
            for (int i = 0; i < millis; i++) {
                head += eventsPerMilli;
                budget.observe((from + i) * MS, head, head / 100);
                if (budget.allows()) {
                    sends++;
                    budget.spent(1_000);
                    loopNanos[0] += sendCostNanos; // the loops write what they were handed (seen at the next turn)
                }
            }
        }
    }

    @Test
    void whileIngestIsBusyWritingTakesAtMostItsShareOfTheCores() {
        Run r = new Run(0, 10); // no byte limit; 10 % of 2 cores: 200 ms of writing a second
        r.steps(0, 200, 100); // 100,000 events a second: busy once a window (100 ms) has shown it
        assertTrue(r.budget.busy());
        long before = r.loopNanos[0];
        r.steps(200, 10_000, 100); // 10 s more
        long written = r.loopNanos[0] - before;
        // 10 s at 200 ms/s, at most a tenth of a second's allowance saved, one hand-over seen after the last turn
        assertTrue(written <= 10 * 200 * MS + 20 * MS + 2 * MS, "write time " + written / MS + " ms");
        assertTrue(written >= 9 * 200 * MS, "the share is used, not starved: " + written / MS + " ms");
        assertFalse(r.budget.allows() && r.budget.nanosUntilAllowed(50 * MS) != 0);
    }

    @Test
    void heldBackTheFeedIsToldHowLongToRest() {
        Run r = new Run(0, 10);
        r.steps(0, 200, 100);
        r.loopNanos[0] += 100 * MS; // the loops took 100 ms writing what they were handed
        r.budget.observe(200 * MS, r.head + 100, (r.head + 100) / 100);
        assertFalse(r.budget.allows());
        long rest = r.budget.nanosUntilAllowed(TimeUnit.SECONDS.toNanos(10));
        // about 100 ms of debt (less what it had) earned back at 200 ms a second: roughly half a second
        assertTrue(rest > 300 * MS && rest <= 600 * MS, "rest " + rest / MS + " ms");
        assertEquals(50 * MS, r.budget.nanosUntilAllowed(50 * MS), "capped by the caller");
    }

    @Test
    void quietIngestIsNotLimitedAndZeroMeansNoLimit() {
        Run quiet = new Run(0, 10);
        quiet.sendCostNanos = MS / 4; // an eighth of two cores
        quiet.steps(0, 5_000, 10); // 10,000 events a second: not busy
        assertEquals(5_000, quiet.sends, "every turn may send");
        Run unlimited = new Run(0, 0);
        unlimited.steps(0, 5_000, 100); // busy, but no limit set
        assertFalse(unlimited.budget.busy());
        assertEquals(5_000, unlimited.sends);
    }

    @Test
    void subscribersTakingMostOfTheLoopsWhileIngestTrickles() {
        // 1,000 events and 10 requests a second: not busy by its rates; the writing takes all of both cores.
        Run r = new Run(0, 10);
        r.steps(0, 300, 1);
        assertTrue(r.budget.busy(), "busy: the loops are the subscribers'");
        long before = r.loopNanos[0];
        r.steps(300, 10_000, 1);
        long written = r.loopNanos[0] - before;
        // Unheld, 20 s of writing in 10 s (both cores); held to the share, with a window unheld after each hold
        assertTrue(written < 5_000 * MS, "held most of the time: " + written / MS + " ms");
    }

    @Test
    void aPacedStreamWhoseWritesTakeLessThanHalfTheCoresIsNotHeldBack() {
        Run r = new Run(0, 10);
        r.sendCostNanos = MS / 2; // a quarter of two cores, at 2,000 events and 20 requests a second
        r.steps(0, 10_000, 2);
        assertFalse(r.budget.busy());
        assertEquals(10_000, r.sends, "every turn may send");
    }

    @Test
    void theByteLimitStillHoldsBesideTheTimeShare() {
        Run r = new Run(100_000, 100); // 100 KB a second; time share generous
        r.steps(0, 200, 100);
        long before = r.sends;
        r.steps(200, 10_000, 100);
        long sends = r.sends - before;
        // each send is 1,000 bytes: about 100 a second over 10 s, plus at most a tenth of a second's worth saved
        assertTrue(sends <= 1_000 + 10 + 1 && sends >= 900, "sends " + sends);
    }

    /**
     * Ingest the subscribers hold back (it arrives fast only while the feed is held, as a client that sends as soon as
     * it is answered does when subscribers take the cores): below the busy rates, so nothing would ever hold the
     * subscribers back — until a probe holds the feed, sees ingest rise, and makes it busy; then the byte limit keeps
     * ingest fast.
     */
    @Test
    void aProbeFindsIngestHeldBackByTheSubscribersAndHoldsThemBack() {
        long[] loopNanos = {0};
        SendBudget budget = new SendBudget(10_000_000, 0, 2, () -> loopNanos[0]).withCpuLoad(() -> 1.0);
        long head = 0;
        long heldSteps = 0;
        long eventsLastFiveSeconds = 0;
        for (int ms = 0; ms < 20_000; ms++) {
            budget.observe(ms * MS, head, head / 100);
            boolean allowed = budget.allows();
            if (allowed) {
                budget.spent(1_000_000); // a megabyte of subscriber writes: the cores are theirs
                loopNanos[0] += 3 * MS / 2; // three quarters of two cores
            } else {
                heldSteps++;
            }
            int events = allowed ? 2 : 200; // 2,000 events/s while they are fed, 200,000/s while not
            head += events;
            if (ms >= 15_000) {
                eventsLastFiveSeconds += events;
            }
            if (ms < (int) (SendBudget.PROBE_AFTER_NANOS * 3 / 4 / MS)) { // most windows of it together first
                assertTrue(allowed, "unheld before the first probe, at " + ms + " ms");
            }
        }
        assertTrue(budget.probesFound() >= 1, "probes " + budget.probes());
        assertTrue(budget.busy());
        assertTrue(eventsLastFiveSeconds > 5 * 150_000, "ingest kept fast: " + eventsLastFiveSeconds / 5 + " events/s");
        assertTrue(heldSteps > 15_000, "held " + heldSteps + " ms");
    }

    /**
     * A paced stream beside a fan-out that takes the cores: probes find nothing, come ever more rarely, and hold the
     * feed a few short pauses in all; ingest is never busy.
     */
    @Test
    void aPacedStreamLosesOnlyShortPausesToProbes() {
        long[] loopNanos = {0};
        SendBudget budget = new SendBudget(10_000_000, 0, 2, () -> loopNanos[0]).withCpuLoad(() -> 0.97);
        long head = 0;
        long heldSteps = 0;
        for (int ms = 0; ms < 120_000; ms++) {
            head += 2; // 2,000 events/s, 20 requests/s, whatever the feed does
            budget.observe(ms * MS, head, head / 100);
            if (budget.allows()) {
                budget.spent(1_000_000);
                loopNanos[0] += 3 * MS / 2; // a fan-out that needs the cores (a slow box)
            } else {
                heldSteps++;
            }
            assertFalse(budget.busy(), "busy at " + ms + " ms");
        }
        // probes after 1.5, then 4, 8, 16, 32, 60 s of ingest and sends together: at most 6 in 120 s
        assertTrue(budget.probes() >= 4 && budget.probes() <= 6, "probes " + budget.probes());
        assertEquals(0, budget.probesFound());
        long probeMs = SendBudget.PROBE_NANOS / MS;
        assertTrue(heldSteps <= budget.probes() * (probeMs + 1), "held " + heldSteps + " ms");
    }

    /**
     * Where the fan-out leaves CPU idle, nothing pauses it; where the machine's use is unknown, the loops' write time
     * (under half the cores) tells the same.
     */
    @Test
    void noProbeWhereCpuIsLeftIdle() {
        long[] loopNanos = {0};
        SendBudget budget = new SendBudget(10_000_000, 0, 2, () -> loopNanos[0]);
        SendBudget idle = new SendBudget(10_000_000, 0, 2, () -> 0).withCpuLoad(() -> 0.6);
        long head = 0;
        for (int ms = 0; ms < 30_000; ms++) {
            head += 2;
            budget.observe(ms * MS, head, head / 100);
            assertTrue(budget.allows());
            budget.spent(1_000_000);
            loopNanos[0] += MS / 2; // a quarter of two cores
            idle.observe(ms * MS, head, head / 100);
            assertTrue(idle.allows());
            idle.spent(1_000_000);
        }
        assertEquals(0, budget.probes());
        assertEquals(0, idle.probes());
    }

    @Test
    void noProbeWithoutIngestOrWithoutALimit() {
        long[] loopNanos = {0};
        SendBudget quiet = new SendBudget(10_000_000, 0, 2, () -> loopNanos[0]);
        SendBudget unlimited = new SendBudget(0, 0, 2, () -> loopNanos[0]);
        long head = 0;
        for (int ms = 0; ms < 30_000; ms++) {
            loopNanos[0] += 2 * MS; // the loops full
            quiet.observe(ms * MS, 0, 0); // sends, no ingest
            quiet.spent(1_000);
            head += 2;
            unlimited.observe(ms * MS, head, head / 100);
            unlimited.spent(1_000);
            assertTrue(quiet.allows() && unlimited.allows());
        }
        assertEquals(0, quiet.probes());
        assertEquals(0, unlimited.probes());
    }
}

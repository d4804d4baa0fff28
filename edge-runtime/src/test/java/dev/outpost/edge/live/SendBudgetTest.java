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
}

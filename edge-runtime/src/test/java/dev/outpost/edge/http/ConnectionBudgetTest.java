package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.http.ConnectionBudget.Slot;
import dev.outpost.edge.http.ConnectionBudget.Tier;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Admission within budget.connections: tiers, eviction of the longest-idle, busy ones kept. */
class ConnectionBudgetTest {
    private final AtomicInteger limit = new AtomicInteger(4);
    private final AtomicInteger open = new AtomicInteger();
    /** budget.connections 4, of which 1 for probes: 3 general. */
    private final ConnectionBudget budget = new ConnectionBudget(4, 1, limit, open);
    /** The connections closed by eviction, in order. */
    private final List<String> closed = new ArrayList<>();

    private static final long MS = 1_000_000;

    /** Admits a connection at {@code millis}; its event loop has polled it once right away. */
    private Slot admit(String name, long millis) {
        Slot s = budget.admit(millis * MS, () -> closed.add(name), true);
        if (s != null) {
            s.settle();
        }
        return s;
    }

    @Test
    void generalFirstThenProbesShare() {
        Slot a = admit("a", 1);
        Slot b = admit("b", 2);
        Slot c = admit("c", 3);
        assertTrue(a.busy() && b.busy() && c.busy());
        Slot d = admit("d", 4);
        assertEquals(
                List.of(Tier.GENERAL, Tier.GENERAL, Tier.GENERAL, Tier.PROBES),
                List.of(a.tier, b.tier, c.tier, d.tier));
        assertEquals(4, open.get());
        assertEquals(1, budget.probesOpen());
        assertTrue(d.busy());
        assertNull(admit("e", 5), "every connection has a request in flight: no room");
        assertFalse(budget.worthWaiting());
        assertEquals(List.of(), closed, "busy connections are never evicted");
        budget.release(b);
        assertEquals(3, open.get());
        assertEquals(Tier.GENERAL, admit("f", 6).tier, "a closed connection's slot is free again");
    }

    @Test
    void aFullGeneralTierEvictsItsLongestIdleConnection() {
        Slot a = admit("a", 10);
        Slot b = admit("b", 20);
        Slot c = admit("c", 30);
        b.busy();
        a.busy();
        a.awaiting(40 * MS); // a request came and went: a has been idle since 40, c since 30
        Slot d = admit("d", 100);
        assertNotNull(d);
        assertEquals(Tier.GENERAL, d.tier, "an idle general connection yields before the probes' share is used");
        assertEquals(List.of("c"), closed);
        assertFalse(c.busy(), "an evicted connection starts no request");
        assertEquals(3, open.get());
        budget.release(c); // its channel closes later: released once only
        assertEquals(3, open.get());
        assertEquals(1, budget.evictions());
    }

    @Test
    void theProbesShareEvictsItsOwnIdleConnectionsWhenGeneralIsBusy() {
        for (int i = 0; i < 3; i++) {
            assertTrue(admit("g" + i, i).busy());
        }
        Slot p = admit("p", 5);
        assertEquals(Tier.PROBES, p.tier);
        Slot q = admit("q", 50);
        assertEquals(Tier.PROBES, q.tier, "the idle probe connection made room");
        assertEquals(List.of("p"), closed);
        assertEquals(1, budget.probesOpen());
        assertEquals(4, open.get());
    }

    @Test
    void aLoweredLimitEvictsNothingThatWouldNotMakeRoom() {
        admit("a", 1);
        admit("b", 2);
        admit("c", 3);
        limit.set(2); // the governor lowers the limit under CPU pressure: open ones are kept
        assertTrue(budget.lowered());
        Slot d = admit("d", 40);
        assertEquals(Tier.PROBES, d.tier);
        assertEquals(List.of(), closed, "evicting one of 3 idle general connections would not get under 2");
        Slot e = admit("e", 80);
        assertEquals(Tier.PROBES, e.tier);
        assertEquals(List.of("d"), closed);
        limit.set(4);
        assertEquals(3, budget.generalLimit(), "the probes' share is kept out of the general limit");
    }

    @Test
    void aConnectionNotYetPolledOrOnlyJustAnsweredDoesNotYield() {
        ConnectionBudget one = new ConnectionBudget(1, 0, new AtomicInteger(1), new AtomicInteger());
        Slot a = one.admit(0, () -> closed.add("a"), true);
        assertNull(one.admit(50 * MS, () -> closed.add("b"), true), "its event loop has not polled it yet");
        assertTrue(one.worthWaiting(), "it will be able to yield");
        a.settle(); // polled: nothing came with it
        Slot b = one.admit(50 * MS, () -> closed.add("b"), true);
        assertNotNull(b, "a new connection its loop polled yields at once");
        b.settle();
        assertTrue(b.busy());
        b.awaiting(100 * MS);
        assertNull(one.admit(110 * MS, () -> closed.add("c"), true), "its next request may be on its way");
        assertTrue(one.worthWaiting());
        assertNotNull(one.admit(120 * MS, () -> closed.add("c"), true));
        assertEquals(List.of("a", "b"), closed);
    }

    @Test
    void aConnectionThatWaitedLongEnoughForGeneralTakesTheProbesShare() {
        for (int i = 0; i < 3; i++) {
            Slot g = admit("g" + i, 0);
            g.busy();
            g.awaiting(100 * MS); // kept alive, answered only just now
        }
        assertNull(admit("p", 105), "a general one yields in a moment: wait for it");
        Slot p = budget.admit(105 * MS, () -> closed.add("p"), false);
        assertEquals(Tier.PROBES, p.tier, "no longer waiting for general: the probes' share");
        assertEquals(List.of(), closed);
    }

    @Test
    void noProbesShareMeansGeneralOnly() {
        ConnectionBudget none = new ConnectionBudget(1, 0, new AtomicInteger(1), new AtomicInteger());
        Slot a = none.admit(1, () -> closed.add("a"), true);
        assertTrue(a.busy());
        assertNull(none.admit(2, () -> closed.add("b"), true));
    }
}

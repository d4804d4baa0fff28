package dev.outpost.edge.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.sync.TestFleet;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hub's admission of pushes: slots (hub.push_concurrency_max) and the memory the pushes in hand may hold together
 * (budget.memory / 8, a push taken to hold four times its body), on a real hub.
 */
class HubAdmissionTest {
    @TempDir
    Path dir;

    @Test
    void pushesInHandAreBoundedBySlotsAndByTheirBodiesMemory() throws Exception {
        try (TestFleet fleet = new TestFleet(dir)) {
            Hub hub = fleet.hub("  push_concurrency_max: 3\n").agent().hub();
            long share = 16L * 1024 * 1024 * 1024 / Hub.PUSH_MEMORY_SHARE; // the test agents' budget.memory: 16GiB
            long quarter = share / Hub.PUSH_MEMORY_PER_BODY_BYTE / 4;
            int a = hub.admit(quarter);
            int b = hub.admit(quarter);
            assertTrue(a > 0 && b > 0, "two pushes of a quarter of the share each");
            int c = hub.admit(share); // bigger than the whole share: would take all of it, half is held
            assertEquals(-1, c, "refused: the memory of the pushes in hand");
            int d = hub.admit(1024);
            assertTrue(d > 0, "a small push still fits");
            assertEquals(-1, hub.admit(1024), "refused: the three slots are taken");
            hub.release(a);
            hub.release(b);
            hub.release(d);
            int e = hub.admit(share * 10);
            assertTrue(e > 0, "a push larger than the whole share gets through an idle hub");
            assertEquals(-1, hub.admit(1), "and holds all of it meanwhile");
            hub.release(e);
            assertTrue(hub.admit(1) > 0);
        }
    }
}

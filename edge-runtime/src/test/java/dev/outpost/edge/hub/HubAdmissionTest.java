package dev.outpost.edge.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.sync.TestFleet;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hub's admission of pushes: slots (hub.push_concurrency_max) and the memory the pushes in hand may hold together
 * (budget.memory / 8, a push taken to hold its body and three times the record section it declares), on a real hub.
 */
class HubAdmissionTest {
    @TempDir
    Path dir;

    /** What admit takes for a raw push of {@code bytes}: its body, and a section of the same size. */
    static int raw(Hub hub, long bytes) {
        return hub.admit(bytes, bytes);
    }

    @Test
    void pushesInHandAreBoundedBySlotsAndByTheirMemory() throws Exception {
        try (TestFleet fleet = new TestFleet(dir)) {
            Hub hub = fleet.hub("  push_concurrency_max: 3\n").agent().hub();
            long share = 16L * 1024 * 1024 * 1024 / Hub.PUSH_MEMORY_SHARE; // the test agents' budget.memory: 16GiB
            long quarter = share / (1 + Hub.PUSH_MEMORY_PER_DECODED_BYTE) / 4;
            int a = raw(hub, quarter);
            int b = raw(hub, quarter);
            assertTrue(a > 0 && b > 0, "two pushes of a quarter of the share each");
            int c = raw(hub, share); // bigger than the whole share: would take all of it, half is held
            assertEquals(-1, c, "refused: the memory of the pushes in hand");
            assertEquals(
                    -1,
                    hub.admit(1024, share / Hub.PUSH_MEMORY_PER_DECODED_BYTE / 2 + 1024),
                    "refused: a small body declaring a section of half the share is charged for the section");
            int d = raw(hub, 1024);
            assertTrue(d > 0, "a small push still fits");
            assertEquals(-1, raw(hub, 1024), "refused: the three slots are taken");
            hub.release(a);
            hub.release(b);
            hub.release(d);
            int e = raw(hub, share * 10);
            assertTrue(e > 0, "a push larger than the whole share gets through an idle hub");
            assertEquals(-1, raw(hub, 1), "and holds all of it meanwhile");
            hub.release(e);
            assertTrue(raw(hub, 1) > 0);
        }
    }
}

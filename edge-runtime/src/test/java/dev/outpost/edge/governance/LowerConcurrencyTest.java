package dev.outpost.edge.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.governor.Dimension;
import dev.outpost.governor.Level;
import dev.outpost.governor.Reading;
import dev.outpost.governor.Snapshot;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LowerConcurrencyTest {
    static Snapshot cpu(double pressure) {
        long limit = 2000;
        long usage = Math.round(pressure * limit);
        return new Snapshot(
                0,
                Level.of(pressure),
                Map.of(Dimension.CPU, new Reading(Dimension.CPU, usage, limit, (double) usage / limit)),
                Level.of(pressure).sampleIntervalMillis());
    }

    @Test
    void loweredLimitIsHalfTheBudgetButNotUnderTheFloor() {
        assertEquals(500, LowerConcurrency.loweredConnections(1000));
        assertEquals(LowerConcurrency.CONNECTIONS_FLOOR, LowerConcurrency.loweredConnections(20));
        assertEquals(LowerConcurrency.CONNECTIONS_FLOOR, LowerConcurrency.loweredConnections(32));
        assertEquals(10, LowerConcurrency.loweredConnections(10), "a budget under the floor is not lowered");
        assertEquals(1, LowerConcurrency.loweredConnections(1));
    }

    /** Lowered at 70 % CPU, kept down to 60 % (hysteresis), restored under it; each change reported once. */
    @Test
    void lowersAtSeventyAndRestoresUnderSixty() {
        AtomicInteger limit = new AtomicInteger(1000);
        var a = new LowerConcurrency(limit, 1000);
        assertNull(a.onLevel(Level.MEDIUM, cpu(0.69)));
        assertEquals(1000, limit.get());
        String lowered = a.onLevel(Level.ELEVATED, cpu(0.70));
        assertTrue(lowered.contains("up to 500"), lowered);
        assertEquals(500, limit.get());
        assertNull(a.onLevel(Level.HIGH, cpu(0.90)), "no change, no report");
        assertNull(a.onLevel(Level.MEDIUM, cpu(0.65)), "hysteresis: still lowered");
        assertNull(a.onLevel(Level.MEDIUM, cpu(0.60)));
        assertEquals(500, limit.get());
        assertNull(
                a.onLevel(Level.MEDIUM, new Snapshot(0, Level.MEDIUM, Map.of(), 15_000)),
                "CPU not measured: left as is");
        String restored = a.onLevel(Level.MEDIUM, cpu(0.59));
        assertTrue(restored.contains("1000 again"), restored);
        assertEquals(1000, limit.get());
        assertNull(a.onLevel(Level.LOW, cpu(0.10)));
    }
}

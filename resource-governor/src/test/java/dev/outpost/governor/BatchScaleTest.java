package dev.outpost.governor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BatchScaleTest {
    @Test
    void batchScaleHalvesAndRestoresStepwiseWithinItsFloor() {
        var b = new BatchScale();
        assertEquals(1000, b.apply(1000, 100));
        assertTrue(b.halve());
        assertEquals(500, b.apply(1000, 100));
        assertEquals(50, b.apply(50, 100), "a configured size under the floor is left alone");
        for (int i = 1; i < BatchScale.HALVINGS_MAX; i++) {
            assertTrue(b.halve());
        }
        assertFalse(b.halve());
        assertEquals(BatchScale.HALVINGS_MAX, b.halvings());
        assertEquals(100, b.apply(1000, 100), "1000/16 is under the floor");
        assertEquals(6250, b.apply(100_000, 100));
        assertTrue(b.restoreStep());
        assertEquals(12_500, b.apply(100_000, 100));
        while (b.restoreStep()) {
            // back to full size, one step at a time
        }
        assertEquals(0, b.halvings());
        assertEquals(100_000, b.apply(100_000, 100));
    }
}

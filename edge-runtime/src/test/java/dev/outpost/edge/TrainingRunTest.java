package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The AOT training run walks the real API of a real agent and says so by its exit code. */
class TrainingRunTest {
    @Test
    void theTrainingRunGoesThroughTheApiAndSucceeds() {
        assertEquals(0, TrainingRun.run(), "a request of the walk answered other than expected (see stderr)");
    }
}

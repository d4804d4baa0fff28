package dev.outpost.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The breaker on a fake clock: it opens only when failures persist over its window. */
class CircuitBreakerTest {
    final AtomicLong now = new AtomicLong(1_000_000);
    final CircuitBreaker breaker = new CircuitBreaker(5, 10_000, 15_000, now::get);

    /** A hub starting next to its edge refuses connections fast: many failures in one second do not open it. */
    @Test
    void manyQuickFailuresWithinTheWindowKeepItClosed() {
        for (int i = 0; i < 50; i++) {
            assertFalse(breaker.failure(), "failure " + (i + 1) + " at +" + (i * 20) + " ms");
            now.addAndGet(20);
        }
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
        assertEquals(0, breaker.waitMillis(), "the next attempt is not held back");
        assertEquals(50, breaker.failures());
        assertEquals(1000, breaker.failingForMillis());
        assertEquals(50, breaker.success(), "the hub came up: one success ends the run");
        assertEquals(0, breaker.timesOpened());
    }

    @Test
    void failuresPersistingOverTheWindowOpenItThenOneProbeDecides() {
        assertFalse(breaker.failure());
        now.addAndGet(9_999);
        for (int i = 0; i < 4; i++) {
            assertFalse(breaker.failure(), "within the window, whatever the count");
        }
        now.addAndGet(1);
        assertTrue(breaker.failure(), "5 failures over 10 s: the hub is down, not starting");
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertEquals(15_000, breaker.waitMillis());
        now.addAndGet(14_999);
        assertEquals(1, breaker.waitMillis());
        now.addAndGet(1);
        assertEquals(CircuitBreaker.State.HALF_OPEN, breaker.state());
        assertEquals(0, breaker.waitMillis());
        assertTrue(breaker.failure(), "a failed probe opens it again at once");
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        now.addAndGet(15_000);
        assertEquals(7, breaker.success());
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
        assertEquals(2, breaker.timesOpened());
        assertFalse(breaker.failure(), "a new run starts its own window");
    }

    @Test
    void theWindowAloneDoesNotOpenItBelowTheCount() {
        breaker.failure();
        now.addAndGet(3_600_000);
        for (int i = 0; i < 3; i++) {
            assertFalse(breaker.failure(), "a few failures an hour apart");
        }
        assertTrue(breaker.failure(), "the fifth, long after the window");
    }

    @Test
    void aZeroWindowLetsTheCountAloneDecideAndBadSettingsAreRefused() {
        CircuitBreaker countOnly = new CircuitBreaker(2, 0, 100, now::get);
        assertFalse(countOnly.failure());
        assertTrue(countOnly.failure());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new CircuitBreaker(0, 0, 100, now::get));
        assertTrue(e.getMessage().contains("failuresToOpen 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CircuitBreaker(1, -1, 100, now::get));
    }
}

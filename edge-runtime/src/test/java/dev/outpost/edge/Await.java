package dev.outpost.edge;

import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * The suite's one way to wait: Awaitility, checking at once and then every {@link #POLL}, up to a
 * bound. Tests wait for the condition they need (a body, a metric, a counter), never for a time.
 */
public final class Await {
    /** How often a condition is checked again. */
    public static final Duration POLL = Duration.ofMillis(20);

    private Await() {}

    /** Awaits at most {@code max}. */
    public static ConditionFactory atMost(Duration max) {
        return Awaitility.await()
                .pollDelay(Duration.ZERO)
                .pollInterval(POLL)
                .pollInSameThread()
                .atMost(max);
    }

    /** Awaits at most {@code millis} milliseconds. */
    public static ConditionFactory atMostMillis(long millis) {
        return atMost(Duration.ofMillis(millis));
    }
}

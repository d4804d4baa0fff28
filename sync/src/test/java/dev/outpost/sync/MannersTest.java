package dev.outpost.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Backoff, circuit breaker and bandwidth cap on fake clocks. */
class MannersTest {
    @Test
    void backoffDoublesUpToTheCapWithFullJitter() {
        Backoff b = new Backoff(100, 5000, new Random(42));
        assertEquals(100, b.ceilingMillis(1));
        assertEquals(200, b.ceilingMillis(2));
        assertEquals(3200, b.ceilingMillis(6));
        assertEquals(5000, b.ceilingMillis(7));
        assertEquals(5000, b.ceilingMillis(1000), "no overflow");
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < 10_000; i++) {
            long w = b.waitMillis(10);
            assertTrue(w >= 0 && w <= 5000);
            min = Math.min(min, w);
            max = Math.max(max, w);
        }
        assertTrue(min < 100 && max > 4900, "full jitter spreads over [0, cap]: " + min + ".." + max);
    }

    @Test
    void everyProcessDrawsItsOwnJitter() throws Exception {
        // Two processes build their backoff as Pusher and Puller do (on one thread, used on a sync thread of their
        // own): a generator that starts alike in every process would give every edge of a fleet the same waits.
        assertNotEquals(waitsOfAChildProcess(), waitsOfAChildProcess());
    }

    private static String waitsOfAChildProcess() throws Exception {
        Process p = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        BackoffDraws.class.getName())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals(16, out.lines().count(), out);
        return out;
    }

    /** A child process's draws: a backoff built on the main thread, drawn from on a thread of its own. */
    static final class BackoffDraws {
        public static void main(String[] args) throws InterruptedException {
            Backoff backoff = new Backoff(100, 60_000);
            Thread t = new Thread(() -> {
                for (int i = 0; i < 16; i++) {
                    System.out.println(backoff.waitMillis(10) + " " + backoff.retryAfterMillis(5));
                }
            });
            t.start();
            t.join();
        }
    }

    @Test
    void retryAfterIsNeverShortenedAndIsSpreadUpToAsMuchAgain() {
        Backoff b = new Backoff(100, 5000, new Random(7));
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < 10_000; i++) {
            long w = b.retryAfterMillis(3);
            assertTrue(w >= 3000 && w <= 6000, "in [3 s, 6 s]: " + w);
            min = Math.min(min, w);
            max = Math.max(max, w);
        }
        assertTrue(min < 3100 && max > 5900, "spread over the whole range: " + min + ".." + max);
        for (int i = 0; i < 1000; i++) {
            long now = b.retryAfterMillis(0);
            assertTrue(now >= 0 && now <= Backoff.RETRY_AFTER_SPREAD_MIN_MILLIS, "Retry-After 0: " + now);
        }
    }

    @Test
    void breakerOpensAfterFailuresThenHalfOpensAndCloses() {
        AtomicLong now = new AtomicLong(1000);
        CircuitBreaker c = new CircuitBreaker(3, 0, 10_000, now::get); // no window: the count alone
        assertFalse(c.failure());
        assertFalse(c.failure());
        assertEquals(CircuitBreaker.State.CLOSED, c.state());
        assertTrue(c.failure());
        assertEquals(CircuitBreaker.State.OPEN, c.state());
        assertEquals(10_000, c.waitMillis());
        now.addAndGet(9_999);
        assertEquals(CircuitBreaker.State.OPEN, c.state());
        now.addAndGet(1);
        assertEquals(CircuitBreaker.State.HALF_OPEN, c.state());
        assertEquals(0, c.waitMillis());
        assertTrue(c.failure(), "a failed probe opens it again");
        assertEquals(CircuitBreaker.State.OPEN, c.state());
        now.addAndGet(10_000);
        assertEquals(4, c.success(), "the success ends four failures");
        assertEquals(CircuitBreaker.State.CLOSED, c.state());
        assertEquals(2, c.timesOpened());
    }

    @Test
    void bandwidthCapPacesBytesPerSecond() {
        AtomicLong nanos = new AtomicLong();
        Bandwidth bw = new Bandwidth(1000, nanos::get);
        assertEquals(0, bw.waitMillisFor(1000), "a full bucket to start");
        assertEquals(500, bw.waitMillisFor(500));
        nanos.addAndGet(500_000_000L);
        assertEquals(0, bw.waitMillisFor(500));
        // Over 10 simulated seconds of a greedy sender, about 10,000 bytes go out (plus the first bucket).
        long sent = 0;
        long end = nanos.get() + 10_000_000_000L;
        while (nanos.get() < end) {
            long w = bw.waitMillisFor(100);
            if (w == 0) {
                sent += 100;
            } else {
                nanos.addAndGet(w * 1_000_000L);
            }
        }
        assertTrue(sent >= 9_900 && sent <= 11_100, "sent " + sent);
        assertEquals(0, new Bandwidth(0, nanos::get).waitMillisFor(1L << 40), "0 means no cap");
        // A batch larger than a second's worth waits for its bytes to accrue, then goes whole.
        Bandwidth slow = new Bandwidth(10, nanos::get);
        assertEquals(4000, slow.waitMillisFor(50));
        nanos.addAndGet(4_000_000_000L);
        assertEquals(0, slow.waitMillisFor(50));
    }
}

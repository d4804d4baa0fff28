package dev.outpost.edge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The doorbell between the event loops that acknowledge writes and the threads that follow them: no ring is lost
 * (a lost one would leave the consumer parked for an hour, and the test's timeout fails it), and a busy consumer is not
 * woken once per ring.
 */
class DoorbellTest {
    /** Far longer than any test here may take: a consumer parked this long missed a ring. */
    private static final long FOREVER_NANOS = TimeUnit.HOURS.toNanos(1);

    @Test
    @Timeout(30)
    void aRingBeforeTheWaitIsNotLost() {
        Doorbell bell = new Doorbell(0);
        bell.turnStarts();
        bell.ring();
        bell.await(FOREVER_NANOS); // returns at once: rung since the turn started
    }

    @Test
    @Timeout(30)
    void aRingWakesAParkedConsumer() throws Exception {
        Doorbell bell = new Doorbell(TimeUnit.MILLISECONDS.toNanos(1));
        CountDownLatch turned = new CountDownLatch(1);
        CountDownLatch woke = new CountDownLatch(1);
        Thread consumer = Thread.ofPlatform().start(() -> {
            bell.turnStarts();
            turned.countDown();
            bell.await(FOREVER_NANOS);
            woke.countDown();
        });
        turned.await();
        // Ring until it wakes: a ring that comes before it parks is taken as "rung" and it never parks.
        while (!woke.await(10, TimeUnit.MILLISECONDS)) {
            bell.ring();
        }
        consumer.join();
    }

    /**
     * Two producers publish 200,000 increments and ring after each; the consumer takes what it sees per turn and waits
     * when it has seen everything published so far. It must see the last increment (no lost ring) in far fewer turns
     * than there were rings (rings while it is busy or settling cost no wake-up).
     */
    @Test
    @Timeout(60)
    void noRingIsLostAndABusyConsumerIsNotWokenPerRing() throws Exception {
        Doorbell bell = new Doorbell(TimeUnit.MICROSECONDS.toNanos(200));
        AtomicLong published = new AtomicLong();
        int perProducer = 100_000;
        long total = 2L * perProducer;
        AtomicLong turns = new AtomicLong();
        Thread consumer = Thread.ofPlatform().start(() -> {
            long seen = 0;
            while (seen < total) {
                bell.turnStarts();
                turns.incrementAndGet();
                long now = published.get();
                if (now == seen) {
                    bell.await(FOREVER_NANOS);
                }
                seen = now;
            }
        });
        Thread[] producers = new Thread[2];
        for (int p = 0; p < producers.length; p++) {
            producers[p] = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perProducer; i++) {
                    published.incrementAndGet();
                    bell.ring();
                    if (i % 1_000 == 0) {
                        Thread.yield(); // let the consumer catch up and park now and then
                    }
                }
            });
        }
        for (Thread t : producers) {
            t.join();
        }
        consumer.join();
        assertEquals(total, published.get());
        assertTrue(turns.get() < total / 10, turns.get() + " turns for " + total + " rings");
    }

    @Test
    void aNegativeSettlePeriodIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Doorbell(-1));
    }
}

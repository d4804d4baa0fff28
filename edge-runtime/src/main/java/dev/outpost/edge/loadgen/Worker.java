package dev.outpost.edge.loadgen;

import java.io.IOException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * One connection's send loop: sends pre-built requests round the pool until the measurement window
 * ends, the run stops (--max-requests, or the generator aborts it) or the thread is interrupted;
 * counts only responses completed inside the window, and errors by when they happened.
 */
final class Worker implements Runnable {
    /** The run's measurement window, stop flag and counts, shared by the workers. */
    static final class Shared {
        /** Distinct error kinds kept; more kinds still count as errors, unnamed. */
        static final int ERROR_KINDS_MAX = 64;

        final Options options;
        final long measureStart;
        final long measureEnd;
        /** The window on the wall clock (the agent's ingest_time is on it): what subscribers count by. */
        final long measureStartMillis;

        final long measureEndMillis;
        final AtomicLong measured = new AtomicLong();
        final AtomicLong maxReachedAt = new AtomicLong();
        final ConcurrentHashMap<String, LongAdder> errorKinds = new ConcurrentHashMap<>();
        volatile boolean stop;

        Shared(Options o, long start) {
            this.options = o;
            this.measureStart = start + (long) (o.warmupSeconds() * 1e9);
            this.measureEnd = measureStart + (long) (o.durationSeconds() * 1e9);
            long wallMinusNanoMillis = System.currentTimeMillis() - System.nanoTime() / 1_000_000;
            this.measureStartMillis = wallMinusNanoMillis + measureStart / 1_000_000;
            this.measureEndMillis = wallMinusNanoMillis + measureEnd / 1_000_000;
        }

        void errorKind(String kind) {
            if (errorKinds.size() < ERROR_KINDS_MAX || errorKinds.containsKey(kind)) {
                errorKinds.computeIfAbsent(kind, k -> new LongAdder()).increment();
            }
        }
    }

    private static final long RECONNECT_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final Shared shared;
    private final HttpConnection.Target address;
    private final byte[][] pool;
    private final CountDownLatch done;
    private int next;
    private volatile HttpConnection conn;
    Thread thread;

    final LatencyHistogram latency = new LatencyHistogram();
    long requests;
    long errors;
    long warmupErrors;

    Worker(Shared shared, HttpConnection.Target address, byte[][] pool, int first, CountDownLatch done) {
        this.shared = shared;
        this.address = address;
        this.pool = pool;
        this.next = first;
        this.done = done;
    }

    @Override
    public void run() {
        try {
            loop();
        } catch (RuntimeException e) {
            error("bug: " + e, System.nanoTime());
        } finally {
            HttpConnection c = conn;
            if (c != null) {
                c.close();
            }
            done.countDown();
        }
    }

    private void loop() {
        final Options options = shared.options;
        final long max = shared.options.maxRequests();
        // --rate R: each of N connections sends one request every N / R seconds (steady, not bursty).
        final long pacingNanos =
                options.ratePerSecond() > 0 ? (long) (options.connections() * 1e9 / options.ratePerSecond()) : 0;
        long nextAt = System.nanoTime();
        while (!shared.stop && System.nanoTime() < shared.measureEnd) {
            if (pacingNanos > 0) {
                long wait = nextAt - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                nextAt += pacingNanos;
            }
            HttpConnection c = connection();
            if (c == null) {
                continue;
            }
            byte[] request = pool[next];
            next = next + 1 == pool.length ? 0 : next + 1;
            long t0 = System.nanoTime();
            int status;
            try {
                status = c.exchange(request);
            } catch (IOException e) {
                c.close();
                conn = null;
                if (!shared.stop) {
                    error("io: " + e.getClass().getSimpleName(), System.nanoTime());
                    pause();
                }
                continue;
            }
            long t1 = System.nanoTime();
            if (c.closeAfter) {
                c.close();
                conn = null;
            }
            if (t1 >= shared.measureEnd) {
                break;
            }
            if (!options.expected(status)) {
                error("status " + status, t1);
                continue;
            }
            if (t1 < shared.measureStart) {
                continue;
            }
            if (max > 0) {
                long n = shared.measured.incrementAndGet();
                if (n > max) {
                    shared.stop = true;
                    break;
                }
                if (n == max) {
                    shared.maxReachedAt.compareAndSet(0, t1);
                    shared.stop = true;
                }
            }
            requests++;
            latency.record(t1 - t0);
        }
    }

    /** The open connection, or a new one; null (error counted, paused) if connecting failed. */
    private HttpConnection connection() {
        HttpConnection c = conn;
        if (c == null) {
            try {
                c = new HttpConnection(address);
                conn = c;
            } catch (IOException e) {
                if (!shared.stop) {
                    error("connect: " + e.getClass().getSimpleName(), System.nanoTime());
                    pause();
                }
                return null;
            }
        }
        return c;
    }

    private void error(String kind, long at) {
        if (at >= shared.measureEnd) {
            return;
        }
        if (at < shared.measureStart) {
            warmupErrors++;
        } else {
            errors++;
        }
        shared.errorKind(kind);
    }

    private void pause() {
        long until = Math.min(System.nanoTime() + RECONNECT_PAUSE_NANOS, shared.measureEnd);
        long left;
        while (!shared.stop && (left = until - System.nanoTime()) > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                shared.stop = true;
            }
        }
    }

    /** Unblocks a worker stuck in I/O. */
    void abort() {
        HttpConnection c = conn;
        if (c != null) {
            c.close();
        }
        Thread t = thread;
        if (t != null) {
            t.interrupt();
        }
    }
}

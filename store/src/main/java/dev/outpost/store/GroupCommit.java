package dev.outpost.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit for durability {@code fsync}: appenders enqueue a waiter after their excerpt is
 * complete; one committer thread takes every waiter queued so far, fsyncs the cycle files they
 * touched, and completes them together.
 *
 * <p>Invariants: a waiter completes only after an fsync that <em>started</em> after the waiter was
 * enqueued, so its bytes are on disk; at most one fsync runs at a time; a waiter therefore waits at
 * most for the fsync in progress, {@code delayMicros}, and its own fsync. A failed fsync fails every
 * waiter of that round (their requests get an error, never an acknowledgement). A cycle file that
 * retention deleted between the append and the fsync is not an error: its records were dropped by
 * policy and counted there, so there is nothing left to make durable; any other missing file is.
 */
final class GroupCommit implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);

    private final IntFunction<Path> cycleFile;
    private final java.util.function.IntPredicate deletedByRetention;
    private final long delayMicros;
    private final LogCounters counters;
    private final Thread thread;
    private final Map<Integer, FileChannel> channels = new HashMap<>();
    /**
     * Completes waiters off the committer thread: completing a future runs the HTTP response work
     * chained on it, and the next fsync must not wait for that.
     */
    private final java.util.concurrent.ExecutorService acknowledger =
            java.util.concurrent.Executors.newSingleThreadExecutor(
                    r -> Thread.ofPlatform().name("outpost-ack").daemon().unstarted(r));

    private final Object lock = new Object();
    private List<CompletableFuture<Void>> waiting = new ArrayList<>();
    private Set<Integer> dirtyCycles = new HashSet<>();
    private boolean closed;

    /** The lane this commits (named in log lines), or null. */
    private final String lane;

    GroupCommit(
            IntFunction<Path> cycleFile,
            java.util.function.IntPredicate deletedByRetention,
            long delayMicros,
            LogCounters counters,
            String lane) {
        this.lane = lane;
        this.cycleFile = cycleFile;
        this.deletedByRetention = deletedByRetention;
        this.delayMicros = delayMicros;
        this.counters = counters;
        this.thread = Thread.ofPlatform().name("outpost-group-commit").daemon().unstarted(this::run);
        thread.start();
    }

    /** Called after an excerpt in {@code cycle} is complete; the future completes once it is on disk. */
    CompletableFuture<Void> enqueue(int cycle) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (lock) {
            if (closed) {
                f.completeExceptionally(new IllegalStateException("event log is closed"));
                return f;
            }
            waiting.add(f);
            dirtyCycles.add(cycle);
            lock.notifyAll();
        }
        return f;
    }

    private void run() {
        while (true) {
            List<CompletableFuture<Void>> batch;
            Set<Integer> cycles;
            synchronized (lock) {
                while (waiting.isEmpty() && !closed) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                if (waiting.isEmpty() && closed) {
                    break;
                }
            }
            if (delayMicros > 0) {
                // Gather more appends into this fsync; bounded by the documented maximum wait.
                try {
                    TimeUnit.MICROSECONDS.sleep(delayMicros);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            synchronized (lock) {
                batch = waiting;
                cycles = dirtyCycles;
                waiting = new ArrayList<>();
                dirtyCycles = new HashSet<>();
            }
            closeDeleted();
            try {
                for (int c : cycles) {
                    FileChannel ch;
                    try {
                        ch = channel(c);
                    } catch (java.nio.file.NoSuchFileException gone) {
                        if (!deletedByRetention.test(c)) {
                            throw gone;
                        }
                        LogFields.with(LOG.atInfo(), LogFields.LANE, lane)
                                .log(
                                        "cycle {} was deleted by retention before its fsync: its records are counted"
                                                + " as dropped there, nothing left to sync",
                                        c);
                        continue;
                    }
                    ch.force(false);
                }
                counters.fsyncs.increment();
                acknowledger.execute(() -> batch.forEach(f -> f.complete(null)));
            } catch (IOException | RuntimeException e) {
                LogFields.with(LOG.atError(), LogFields.LANE, lane)
                        .addKeyValue(
                                LogFields.ADVICE,
                                "check the data directory's disk (space, I/O errors); the events were not acknowledged and may be retried")
                        .setCause(e)
                        .log("fsync of the event log failed; {} waiting appends get an error", batch.size());
                StoreException se = new StoreException(
                        "fsync event log cycles " + cycles,
                        null,
                        "check the disk (space, I/O errors); the events were not acknowledged and may be retried",
                        e);
                acknowledger.execute(() -> batch.forEach(f -> f.completeExceptionally(se)));
            }
        }
        channels.values().forEach(ch -> {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing a channel we only used to fsync: nothing left to lose
            }
        });
    }

    /** Closes channels of cycles retention deleted: an open channel would keep their disk space. */
    private void closeDeleted() {
        channels.entrySet().removeIf(e -> {
            if (!deletedByRetention.test(e.getKey())) {
                return false;
            }
            try {
                e.getValue().close();
            } catch (IOException ignored) {
                // the file is deleted: nothing of it is left to lose
            }
            return true;
        });
    }

    private FileChannel channel(int cycle) throws IOException {
        FileChannel ch = channels.get(cycle);
        if (ch == null) {
            Path file = cycleFile.apply(cycle);
            ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            channels.put(cycle, ch);
            // A new cycle file: make its directory entry durable too.
            try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                dir.force(true);
            } catch (IOException e) {
                LOG.debug("fsync of directory {} not supported", file.getParent(), e);
            }
            if (channels.size() > 4) {
                // Keep only recent cycles open; older ones are never written again.
                int oldest = channels.keySet().stream().min(Integer::compare).orElseThrow();
                channels.remove(oldest).close();
            }
        }
        return ch;
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        try {
            thread.join(10_000);
            acknowledger.shutdown();
            acknowledger.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

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
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
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
 *
 * <p>Delivery (issue #14 point 3). A waiter may name where it wants to be completed (its {@link
 * Executor}, e.g. the event loop of the connection that appended). After an fsync, the round's
 * waiters are completed by <em>one task per executor</em>, in the order they were enqueued, and
 * the waiters that named none by one task on the {@code outpost-ack} thread: no hand-off per
 * waiter, and the committer never runs what is chained on a future. Each waiter completes exactly
 * once; a waiter whose executor refuses the task (shut down) is completed on {@code outpost-ack}.
 * So an executor sees one {@code execute} per round and can act once per round around it (the
 * fast path flushes each connection once).
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

    /** One appender waiting for the fsync: completed on {@code where}, or on outpost-ack if null. */
    private record Waiter(CompletableFuture<Void> done, Executor where, int records) {}

    private final Object lock = new Object();
    private List<Waiter> waiting = new ArrayList<>();
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
        return enqueue(cycle, null, 1);
    }

    /**
     * As {@link #enqueue(int)}, the future completed on {@code where} (by one task per fsync round for all of its
     * waiters), or on the outpost-ack thread if null.
     */
    CompletableFuture<Void> enqueue(int cycle, Executor where) {
        return enqueue(cycle, where, 1);
    }

    /** As {@link #enqueue(int, Executor)} for an append of {@code records} records (counted when fsynced). */
    CompletableFuture<Void> enqueue(int cycle, Executor where, int records) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (lock) {
            if (closed) {
                f.completeExceptionally(new IllegalStateException("event log is closed"));
                return f;
            }
            boolean idle = waiting.isEmpty();
            waiting.add(new Waiter(f, where, records));
            dirtyCycles.add(cycle);
            if (idle) {
                lock.notifyAll(); // the committer waits only while nothing is queued
            }
        }
        return f;
    }

    private void run() {
        while (true) {
            List<Waiter> batch;
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
                counters.fsyncedAppends.add(batch.size());
                long records = 0;
                for (Waiter w : batch) {
                    records += w.records();
                }
                counters.fsyncedRecords.add(records);
                deliver(batch, null);
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
                deliver(batch, se);
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

    /**
     * Completes one round's waiters ({@code error} null: durable): one task per executor they named, in their order,
     * and one on outpost-ack for the rest.
     */
    private void deliver(List<Waiter> batch, Throwable error) {
        List<Executor> wheres = new ArrayList<>(4);
        List<List<CompletableFuture<Void>>> groups = new ArrayList<>(4);
        List<CompletableFuture<Void>> unplaced = new ArrayList<>();
        for (Waiter w : batch) {
            if (w.where == null) {
                unplaced.add(w.done);
                continue;
            }
            int i = indexOf(wheres, w.where);
            if (i < 0) {
                i = wheres.size();
                wheres.add(w.where);
                groups.add(new ArrayList<>());
            }
            groups.get(i).add(w.done);
        }
        for (int i = 0; i < wheres.size(); i++) {
            List<CompletableFuture<Void>> group = groups.get(i);
            Runnable task = () -> completeAll(group, error);
            try {
                wheres.get(i).execute(task);
            } catch (RejectedExecutionException shutDown) {
                unplaced.addAll(group); // its loop is gone: the futures still complete, once, here
            }
        }
        if (!unplaced.isEmpty()) {
            acknowledger.execute(() -> completeAll(unplaced, error));
        }
    }

    /** By identity: a handful of executors (event loops) per round, so a scan beats a map. */
    private static int indexOf(List<Executor> wheres, Executor where) {
        for (int i = 0; i < wheres.size(); i++) {
            if (wheres.get(i) == where) {
                return i;
            }
        }
        return -1;
    }

    private static void completeAll(List<CompletableFuture<Void>> futures, Throwable error) {
        for (CompletableFuture<Void> f : futures) {
            if (error == null) {
                f.complete(null);
            } else {
                f.completeExceptionally(error);
            }
        }
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

package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit on real files: a cycle retention deleted is not an fsync failure; a lost file is; a round's waiters are
 * completed by one task per executor they named, each once, in order, and only after their fsync.
 */
class GroupCommitTest {
    @TempDir
    Path dir;

    @Test
    void aCycleDeletedByRetentionIsNotAnErrorAMissingFileIs() throws Exception {
        Path live = Files.writeString(dir.resolve("7.cq4"), "x");
        Set<Integer> deleted = Set.of(5);
        LogCounters counters = new LogCounters();
        try (GroupCommit g = new GroupCommit(c -> dir.resolve(c + ".cq4"), deleted::contains, 0, counters, null)) {
            g.enqueue(7).get(5, TimeUnit.SECONDS);
            assertEquals(1, counters.fsyncs.sum());

            CompletableFuture<Void> retired = g.enqueue(5); // no file: retention deleted it
            retired.get(5, TimeUnit.SECONDS);

            CompletableFuture<Void> lost = g.enqueue(6); // no file, and retention did not delete it
            ExecutionException e = assertThrows(ExecutionException.class, () -> lost.get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof StoreException, e.toString());
            assertTrue(Files.exists(live));
        }
    }

    /** An executor (like an event loop) that counts the tasks it is given and runs them on its one thread. */
    static final class Loop implements Executor, AutoCloseable {
        final AtomicInteger tasks = new AtomicInteger();
        final ExecutorService thread;
        final String name;

        Loop(String name) {
            this.name = name;
            this.thread = Executors.newSingleThreadExecutor(r -> new Thread(r, name));
        }

        @Override
        public void execute(Runnable task) {
            tasks.incrementAndGet();
            thread.execute(task);
        }

        @Override
        public void close() {
            thread.shutdownNow();
        }
    }

    /** Where and when one waiter was completed. */
    record Completion(int waiter, String thread, long fsyncsThen) {}

    @Test
    void aRoundIsDeliveredByOneTaskPerExecutorEachWaiterOnceInOrderAfterItsFsync() throws Exception {
        Files.writeString(dir.resolve("1.cq4"), "x");
        Files.writeString(dir.resolve("2.cq4"), "y");
        CountDownLatch inFirstFsync = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        LogCounters counters = new LogCounters();
        List<Completion> completions = new CopyOnWriteArrayList<>();
        try (Loop a = new Loop("loop-a");
                Loop b = new Loop("loop-b");
                GroupCommit g = new GroupCommit(
                        c -> {
                            if (c == 1) { // the first round's fsync holds until every later waiter is queued
                                inFirstFsync.countDown();
                                awaitQuietly(release);
                            }
                            return dir.resolve(c + ".cq4");
                        },
                        c -> false,
                        0,
                        counters,
                        null)) {
            CompletableFuture<Void> first = g.enqueue(1, a);
            assertTrue(inFirstFsync.await(5, TimeUnit.SECONDS));
            List<CompletableFuture<Void>> round = new ArrayList<>();
            Executor[] wheres = {a, b, null};
            for (int i = 0; i < 30; i++) {
                int n = i;
                CompletableFuture<Void> f = g.enqueue(2, wheres[i % 3]);
                // what is chained on a waiter runs where it completes (the awaited stage is this one)
                round.add(f.thenRun(() ->
                        completions.add(new Completion(n, Thread.currentThread().getName(), counters.fsyncs.sum()))));
            }
            assertTrue(round.stream().noneMatch(CompletableFuture::isDone), "nothing completes before its fsync");
            assertEquals(0, counters.fsyncs.sum());
            assertTrue(!first.isDone(), "the first waiter's fsync has not run yet");
            release.countDown();
            CompletableFuture.allOf(round.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
            first.get(5, TimeUnit.SECONDS);

            assertEquals(2, counters.fsyncs.sum(), "two rounds: the held one, then all 30 waiters together");
            assertEquals(31, counters.fsyncedAppends.sum());
            assertEquals(2, a.tasks.get(), "loop a: one task for the first round, one for the second");
            assertEquals(1, b.tasks.get(), "loop b: one task for its ten waiters");
            assertEquals(30, completions.size(), "each waiter completed exactly once: " + completions);
            List<Integer> onA = new ArrayList<>();
            List<Integer> onB = new ArrayList<>();
            for (Completion c : completions) {
                assertEquals(2, c.fsyncsThen(), "completed only after its round's fsync: " + c);
                String expected = c.waiter() % 3 == 0 ? "loop-a" : c.waiter() % 3 == 1 ? "loop-b" : "outpost-ack";
                assertEquals(expected, c.thread(), "completed where it asked: " + c);
                (c.waiter() % 3 == 0 ? onA : c.waiter() % 3 == 1 ? onB : new ArrayList<Integer>()).add(c.waiter());
            }
            assertEquals(onA.stream().sorted().toList(), onA, "in the order they were queued");
            assertEquals(onB.stream().sorted().toList(), onB, "in the order they were queued");
        }
    }

    @Test
    void aWaiterWhoseExecutorRefusesIsStillCompletedOnceAndAFailedFsyncFailsThemAll() throws Exception {
        Files.writeString(dir.resolve("3.cq4"), "x");
        Executor shutDown = task -> {
            throw new RejectedExecutionException("loop shut down");
        };
        LogCounters counters = new LogCounters();
        try (GroupCommit g = new GroupCommit(c -> dir.resolve(c + ".cq4"), c -> false, 0, counters, null)) {
            AtomicInteger runs = new AtomicInteger();
            CompletableFuture<Void> f = g.enqueue(3, shutDown);
            // await the dependent action itself: get() on f may return before f's completing thread has run it
            f.thenRun(runs::incrementAndGet).get(5, TimeUnit.SECONDS);
            assertEquals(1, runs.get());

            try (Loop a = new Loop("loop-a")) {
                CompletableFuture<Void> lost = g.enqueue(9, a); // no such file: the fsync fails
                ExecutionException e = assertThrows(ExecutionException.class, () -> lost.get(5, TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof StoreException, e.toString());
                assertEquals(1, a.tasks.get(), "the failure is delivered where the waiter asked, by one task");
            }
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package dev.outpost.governor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** Records every delay and runs the scheduled tasks only when told to, in order. */
final class FakeTicker implements Ticker {
    final List<Long> delays = new ArrayList<>();
    private final ArrayDeque<Runnable> pending = new ArrayDeque<>();
    boolean closed;

    @Override
    public void schedule(Runnable task, long delayMillis) {
        delays.add(delayMillis);
        pending.addLast(task);
    }

    /** Runs the oldest pending task. */
    void runNext() {
        Runnable task = pending.pollFirst();
        if (task == null) {
            throw new AssertionError("nothing scheduled");
        }
        task.run();
    }

    int pending() {
        return pending.size();
    }

    long lastDelay() {
        return delays.getLast();
    }

    @Override
    public void close() {
        closed = true;
    }
}

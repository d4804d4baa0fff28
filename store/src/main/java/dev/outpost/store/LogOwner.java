package dev.outpost.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.TableStoreWriteLock;
import net.openhft.chronicle.queue.impl.table.AbstractTSQueueLock;
import net.openhft.chronicle.threads.Pauser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who writes a log's queue: an OS file lock on {@code <queue directory>/writer.lock}, held while a {@link
 * ChronicleEventLog} has the queue open, so that a write lock left by a process killed inside an append is released at
 * once on the next open.
 *
 * <p>Design note. Chronicle's write lock is a word in the queue's metadata file holding the writer's PID. A process
 * SIGKILLed inside {@code writingDocument()} leaves it set. Chronicle releases it on open only if {@code /proc/<pid>}
 * is gone; otherwise the first appender spins for the lock's timeout (15 s with the default 10 s {@code timeoutMS}),
 * then releases it if the PID has gone meanwhile, or refuses to open (UnrecoverableTimeoutException) if not. The PID
 * still looks alive after a kill -9 while the killed process is a zombie its parent has not reaped (a supervisor or
 * test harness that restarts at once, a container whose PID 1 does not reap), and whenever the PID is reused: in a
 * container the restarted agent often gets the very PID of the one killed, so the lock names a live process, itself.
 * An OS file lock has none of these problems: the kernel drops it when the holder's descriptors close, which happens
 * as a process dies, before it becomes a zombie. So holding it proves no other process has this queue open for
 * writing, and a Chronicle write lock found set then is stale whatever its PID says: it is released before any
 * appender or tailer touches the queue. If the lock cannot be had (another process, or another log in this process,
 * has the queue open), nothing is forced and Chronicle's own handling applies, as before. The half-written excerpt the
 * dead writer left (its header still marked incomplete) was never acknowledged; Chronicle's appender writes over it
 * once it holds the write lock, and readers stop before it until then. Invariant: a Chronicle write lock is forced
 * only while this process holds the directory's OS lock.
 */
final class LogOwner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogOwner.class);

    /** The lock file in the queue's directory (Chronicle ignores files without its suffixes). */
    static final String FILE = "writer.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private LogOwner(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the OS lock of the queue in {@code directory} if no one holds it. Never fails the open: without the lock
     * (held elsewhere, or the file cannot be opened) the log opens as it did before, with Chronicle's own recovery.
     */
    static LogOwner acquire(Path directory, String lane) {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(directory.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l = ch.tryLock();
            if (l != null) {
                return new LogOwner(ch, l);
            }
        } catch (IOException | OverlappingFileLockException e) {
            LogFields.with(LOG.atDebug(), LogFields.LANE, lane)
                    .setCause(e)
                    .log("could not take the writer lock of {}", directory);
        }
        closeQuietly(ch);
        LogFields.with(LOG.atInfo(), LogFields.LANE, lane)
                .log(
                        "the event log at {} is open in another process or log; its write lock is left to Chronicle",
                        directory);
        return new LogOwner(null, null);
    }

    /** Whether this process holds the directory's OS lock: no other process has the queue open for writing. */
    boolean sole() {
        return lock != null;
    }

    /**
     * If this process is the queue's sole writer, releases a Chronicle write lock left set by a process that died
     * holding it (whatever its PID looks like now). Call after the queue is built and before anything reads or
     * appends to it.
     */
    void releaseStaleWriteLock(SingleChronicleQueue queue, String lane) {
        if (!sole()) {
            return;
        }
        // Chronicle's own lock object on the queue's metadata (same key as the queue's appenders use); its timeout is
        // never used: this one only reads and clears the word.
        try (TableStoreWriteLock w = new TableStoreWriteLock(queue.metaStore(), Pauser::balanced, 0L)) {
            long holder = w.lockedBy();
            if (holder == AbstractTSQueueLock.UNLOCKED) {
                return;
            }
            w.forceUnlock();
            LogFields.with(LOG.atWarn(), LogFields.LANE, lane)
                    .addKeyValue(LogFields.ADVICE, "none: the unfinished append was never acknowledged and is dropped")
                    .log(
                            "the event log at {} was left locked by process {}, which died inside an append; lock released",
                            queue.file(),
                            (int) holder);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel); // releases the lock
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) {
            return;
        }
        try {
            ch.close();
        } catch (IOException e) {
            LOG.debug("closing the writer lock file failed", e);
        }
    }
}

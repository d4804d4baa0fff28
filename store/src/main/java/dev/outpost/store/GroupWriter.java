package dev.outpost.store;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the event log's groups, one excerpt each, all or nothing, and turns a full disk into a refusal.
 *
 * <p>Design note.
 * Chronicle writes through a shared mapping of a sparse file. On a full filesystem a store to a page that is not
 * allocated yet raises SIGBUS, which the JVM turns into an InternalError (not a RuntimeException), and closing the
 * DocumentContext after it would commit the half-written excerpt. So before the bytes of a group go into the
 * mapping, the pages they will land on (and room for what Chronicle writes after them: index arrays) are allocated
 * with an ordinary write of zeros past the end of the log: a full disk then answers ENOSPC as an IOException while
 * nothing of the group is in the queue yet, the excerpt is rolled back, and the append is refused with a
 * DiskFullException. Once space is freed the next append simply works. If a fault still happens inside Chronicle's
 * own writes (e.g. a new cycle file's header), the appender may be left mid-document: it is replaced by a new one,
 * and the log's tail tells whether the group was committed after all.
 * Invariants: called under the log's append lock only; a group is never committed in part.
 */
final class GroupWriter {
    private static final Logger LOG = LoggerFactory.getLogger(GroupWriter.class);

    /** Kept allocated past a group for what Chronicle writes after it (an index array: 32 KiB + header). */
    private static final long RESERVE_SLACK_BYTES = 256 << 10;

    /** Allocation step past the end of the log: one write of zeros per step on the hot path. */
    private static final long RESERVE_STEP_BYTES = 1 << 20;

    private final SingleChronicleQueue queue;
    private final Path directory;
    private final ExcerptAppender appender;
    /** See {@link #lastIndex}; under the log's append lock. */
    private long lastIndex = GroupIndex.NONE;
    /** The appender in use after a fault made {@link #appender} unusable. */
    private ExcerptAppender replacementAppender;

    private boolean appenderFaulted;
    private File reserveFile;
    private long reservedTo;
    private java.nio.ByteBuffer zeros;

    /** The lane this writes (named in log lines), or null. */
    private final String lane;

    GroupWriter(SingleChronicleQueue queue, Path directory, String lane) {
        this.lane = lane;
        this.queue = queue;
        this.directory = directory;
        this.appender = queue.createAppender();
        appender.singleThreadedCheckDisabled(true);
    }

    /**
     * Before an append that starts a new cycle file: Chronicle creates the file and writes its
     * header through the mapping itself, under its write lock, where a full disk faults (SIGBUS)
     * and leaves the lock held until Chronicle's timeout. So a missing cycle file is created only
     * if the filesystem has room for its header and first index; otherwise the append is refused
     * as disk full before Chronicle is touched.
     */
    void checkRoomForNewCycle(int writtenCycle) {
        if (queue.cycle() == writtenCycle) {
            return;
        }
        try {
            long usable = Files.getFileStore(directory).getUsableSpace();
            if (usable < ChronicleEventLog.NEW_CYCLE_ROOM_BYTES) {
                throw new DiskFullException(
                        "append to the event log",
                        directory,
                        new IOException("No space left on device: " + usable + " bytes usable, "
                                + ChronicleEventLog.NEW_CYCLE_ROOM_BYTES + " needed to start a new cycle file"));
            }
        } catch (IOException e) {
            // Cannot tell: let the write itself find out.
        }
    }

    /** The index of the group {@link #write} wrote last, or {@link GroupIndex#NONE} if it cannot tell. */
    long lastIndex() {
        return lastIndex;
    }

    /** Writes one group as one excerpt, all or nothing; returns its cycle. Under the log's append lock. */
    int write(byte[] out, int outLen) {
        ExcerptAppender a = writer(outLen);
        try {
            try (DocumentContext dc = a.writingDocument()) {
                try {
                    Bytes<?> b = dc.wire().bytes();
                    long pos = b.writePosition();
                    reserve(a.currentFile(), pos, pos + outLen + RESERVE_SLACK_BYTES);
                    b.write(out, 0, outLen);
                } catch (IOException | RuntimeException | InternalError e) {
                    dc.rollbackOnClose(); // never commit a partial group
                    throw e;
                }
            }
            lastIndex = a.lastIndexAppended();
            return a.cycle();
        } catch (IOException e) {
            throw refused(e, outLen);
        } catch (InternalError e) {
            // A fault inside Chronicle's own writes: what state the appender is in is unknown.
            appenderFaulted = true;
            LogFields.with(LOG.atWarn(), LogFields.LANE, lane)
                    .addKeyValue(
                            LogFields.ADVICE,
                            "check the data directory's disk (space, I/O errors); the agent replaces the appender and goes on")
                    .setCause(e)
                    .log("a write to the event log's mapped file faulted; the appender will be replaced");
            lastIndex = GroupIndex.NONE;
            int committedCycle = committedCycle(out);
            if (committedCycle != Integer.MIN_VALUE) {
                return committedCycle; // the excerpt was complete before the fault
            }
            throw refused(e, outLen);
        } catch (RuntimeException e) {
            throw refused(e, outLen);
        }
    }

    private StoreException refused(Throwable e, long outLen) {
        return diskFull(e, outLen + RESERVE_SLACK_BYTES)
                ? new DiskFullException("append to the event log", directory, e)
                : new StoreException(
                        "append to the event log",
                        directory,
                        "check the data directory's disk (space, I/O errors); nothing of this request was stored",
                        e);
    }

    /** The appender to write with; replaces a faulted one first. */
    private ExcerptAppender writer(long outLen) {
        if (appenderFaulted) {
            ExcerptAppender old = replacementAppender != null ? replacementAppender : appender;
            try {
                old.close();
            } catch (RuntimeException | InternalError e) {
                LOG.debug("closing the faulted appender failed", e);
            }
            try {
                ExcerptAppender fresh = queue.createAppender();
                fresh.singleThreadedCheckDisabled(true);
                replacementAppender = fresh;
                appenderFaulted = false;
                LogFields.with(LOG.atInfo(), LogFields.LANE, lane).log("event log appender replaced after a fault");
            } catch (RuntimeException | InternalError e) {
                throw refused(e, outLen);
            }
        }
        return replacementAppender != null ? replacementAppender : appender;
    }

    /**
     * Allocates the pages of the log file {@code file} up to offset {@code end} (and a step beyond)
     * by writing zeros, only at or after {@code writePos}: the current write position, past which
     * nothing is committed. Throws the filesystem's IOException (ENOSPC) if there is no room.
     */
    private void reserve(File file, long writePos, long end) throws IOException {
        if (end <= reservedTo && file.equals(reserveFile)) {
            return;
        }
        if (!file.equals(reserveFile)) {
            reserveFile = file;
            reservedTo = writePos;
        }
        if (zeros == null) {
            zeros = java.nio.ByteBuffer.allocateDirect(64 << 10);
        }
        long pos = Math.max(reservedTo, writePos);
        long to = end + RESERVE_STEP_BYTES;
        // Opened per step (once per MiB of log), so no descriptor outlives the log or its cycle.
        try (java.nio.channels.FileChannel ch =
                java.nio.channels.FileChannel.open(file.toPath(), StandardOpenOption.WRITE)) {
            while (pos < to) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), to - pos));
                pos += ch.write(zeros, pos);
                reservedTo = pos;
            }
        } catch (IOException e) {
            if (reservedTo < end) {
                throw e;
            }
            // The group and its slack fit; only the step beyond did not: the next append tries again.
        }
    }

    /**
     * After a fault: the cycle of the last excerpt if it is the group {@code out} (it was committed
     * before the fault), else {@link Integer#MIN_VALUE}.
     */
    private int committedCycle(byte[] out) {
        try (ExcerptTailer t = queue.createTailer()) {
            t.singleThreadedCheckDisabled(true);
            t.direction(TailerDirection.BACKWARD).toEnd();
            try (DocumentContext dc = t.readingDocument()) {
                if (!dc.isPresent()) {
                    return Integer.MIN_VALUE;
                }
                Bytes<?> b = dc.wire().bytes();
                int n = RecordCodec.GROUP_HEADER_BYTES;
                if (b.readRemaining() < n) {
                    return Integer.MIN_VALUE;
                }
                byte[] h = new byte[n];
                b.read(h, 0, n);
                return Arrays.equals(h, 0, n, out, 0, n) ? queue.rollCycle().toCycle(dc.index()) : Integer.MIN_VALUE;
            }
        } catch (RuntimeException | InternalError e) {
            LogFields.with(LOG.atWarn(), LogFields.LANE, lane)
                    .addKeyValue(
                            LogFields.ADVICE,
                            "check the data directory's disk (space, I/O errors); the write is refused and the client may retry it")
                    .setCause(e)
                    .log("could not read the event log's tail after a fault");
            return Integer.MIN_VALUE;
        }
    }

    /** True if {@code e} says the filesystem is full, or it has less than {@code needed} bytes free. */
    boolean diskFull(Throwable e, long needed) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (c instanceof IOException && m != null && (m.contains("No space left") || m.contains("quota"))) {
                return true;
            }
        }
        try {
            return Files.getFileStore(directory).getUsableSpace() < needed;
        } catch (IOException | RuntimeException ignored) {
            return false;
        }
    }

    /** Closes the appender in use (the log closes the queue). */
    void close() {
        (replacementAppender != null ? replacementAppender : appender).close();
    }
}

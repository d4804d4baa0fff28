package dev.outpost.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;

/**
 * A lane's newest cycle file that Chronicle created but never began to write: the process was killed (or lost power)
 * between creating the file and writing the store header at its start, as a lane's first write or an hourly roll
 * creates one.
 *
 * <p>Design note. Chronicle creates a cycle file at its full size, then writes its store header (marked incomplete
 * from its first byte on) before any excerpt. A file that is empty or all zeros therefore holds nothing at all (a
 * file whose first header is zero but with bytes set further on — a first page lost to a power cut — is not touched:
 * its excerpts' numbers were handed out). Left there, it makes Chronicle wait out its timeouts on the missing header, three
 * times over (finding the last index, winding a tailer, the first append): a restart after such a kill took over 30 s
 * (AlertCrashTest, a SIGKILL as the critical lane's first alert created its file). Invariants: only the newest cycle
 * file is looked at (files are created in order, one at a time, by the lane's one writer) and only while this process
 * owns the lane ({@link LogOwner}), before the queue is built; it is deleted only if every byte is zero — nothing
 * written, nothing acknowledged, so nothing is lost and nothing is quarantined.
 */
final class UnformattedCycle {
    /** Read at a time when checking that a file is all zeros. */
    static final int SCAN_BYTES = 64 << 10;

    private UnformattedCycle() {}

    /** Deletes {@code dir}'s newest cycle file if Chronicle never began to write it; returns it, if so. */
    static Optional<Path> removeNewest(Path dir) throws IOException {
        Optional<Path> newest = newest(dir);
        if (newest.isEmpty() || !unformatted(newest.get())) {
            return Optional.empty();
        }
        Files.delete(newest.get());
        return newest;
    }

    /** {@code dir}'s newest cycle file (cycle files' names sort in time order), if any. */
    static Optional<Path> newest(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(SingleChronicleQueue.SUFFIX))
                    .max(Comparator.comparing(f -> f.getFileName().toString()));
        }
    }

    /** As {@link #unformatted}, with a file that cannot be read taken as formatted (Chronicle then reports it). */
    static boolean unformattedQuietly(Path file) {
        try {
            return unformatted(file);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Whether {@code file} holds nothing: shorter than a header, or its first header is zero (not begun) and so is
     * every byte after it. The whole file is read only when the first header is zero (rare); a file with any byte
     * set (say, its first page lost to a power cut while later ones were written) is not this case and is left to
     * Chronicle.
     */
    static boolean unformatted(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(SCAN_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            long pos = 0;
            while (true) {
                buf.clear();
                int n = ch.read(buf, pos);
                if (n <= 0) {
                    return true;
                }
                for (int i = 0; i < n; i++) {
                    if (buf.get(i) != 0) {
                        return false;
                    }
                }
                pos += n;
            }
        }
    }
}

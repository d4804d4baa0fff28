package dev.outpost.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;

/**
 * The cycle files of one lane's queue: where each lies (for fsync, growth tracking and retention), and which ones
 * retention deleted lately (group commit tells a cycle retention deleted from a lost file by it). Split from {@link
 * ChronicleEventLog}, which owns one. Thread-safe: appenders, group commit and retention ask at once.
 */
final class CycleFiles {
    /** Most recently deleted cycles remembered, for group commit to tell retention from a lost file. */
    static final int DELETED_CYCLES_REMEMBERED = 64;

    private final Path directory;
    private final Map<Integer, Path> files = new ConcurrentHashMap<>();
    /** The cycles retention deleted most recently (at most {@link #DELETED_CYCLES_REMEMBERED}). */
    private final TreeSet<Integer> deleted = new TreeSet<>();

    CycleFiles(Path directory) {
        this.directory = directory;
    }

    /** Chronicle acquired (opened or created) the file of {@code cycle}. */
    void acquired(int cycle, Path file) {
        files.put(cycle, file);
    }

    /** Path of the cycle file for {@code cycle}; a StoreException if there is none. */
    Path file(int cycle, RollCycle rollCycle) {
        Path p = files.get(cycle);
        if (p != null) {
            return p;
        }
        // Chronicle names a cycle file by formatting the cycle's start time (UTC, epoch 0) with the
        // roll cycle's pattern; its StoreFileListener is not called for every acquisition.
        String name = DateTimeFormatter.ofPattern(rollCycle.format())
                        .withZone(ZoneOffset.UTC)
                        .format(Instant.ofEpochMilli((long) cycle * rollCycle.lengthInMillis()))
                + SingleChronicleQueue.SUFFIX;
        p = directory.resolve(name);
        if (!Files.exists(p)) {
            throw new StoreException(
                    "find cycle file " + name, directory, "the queue directory changed under the agent", null);
        }
        files.put(cycle, p);
        return p;
    }

    /** Retention deleted the file of {@code cycle}. */
    void deleted(int cycle) {
        files.remove(cycle);
        synchronized (deleted) {
            deleted.add(cycle);
            if (deleted.size() > DELETED_CYCLES_REMEMBERED) {
                deleted.pollFirst();
            }
        }
    }

    /** Whether retention deleted {@code cycle} (recently): its records are gone by policy, and counted. */
    boolean deletedByRetention(int cycle) {
        synchronized (deleted) {
            return deleted.contains(cycle);
        }
    }
}

package dev.outpost.governor;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.atomic.LongAdder;

/**
 * Bytes in the data directory: tracked on every write ({@link #add}) and reconciled with the filesystem now and then
 * ({@link #reconcile}). Use {@code diskUsage::bytes} as the DISK probe.
 */
public final class DiskUsage {
    static final int DEFAULT_MAX_FILES = 100_000;

    private final Path directory;
    private final int maxFiles;
    private final LongAdder tracked = new LongAdder();

    /** Tracks {@code directory}; a reconcile looks at no more than 100,000 files. */
    public DiskUsage(Path directory) {
        this(directory, DEFAULT_MAX_FILES);
    }

    /** Tracks {@code directory}; a reconcile looks at no more than {@code maxFiles} files. */
    public DiskUsage(Path directory, int maxFiles) {
        if (maxFiles <= 0) {
            throw new IllegalArgumentException("maxFiles must be positive: " + maxFiles);
        }
        this.directory = directory;
        this.maxFiles = maxFiles;
    }

    /** Records a write of {@code bytes} (negative for deletes and truncations). Cheap; call it on every write. */
    public void add(long bytes) {
        tracked.add(bytes);
    }

    /** The tracked size in bytes (never negative). */
    public long bytes() {
        return Math.max(0, tracked.sum());
    }

    /**
     * Walks the directory (at most maxFiles regular files, summing their sizes; files that disappear or cannot be read
     * are skipped; symbolic links are not followed) and resets the tracked value to the measured one. Writes recorded
     * while the walk runs are kept. If the walk hit the file bound, the tracked value is only ever raised. A missing
     * directory measures 0. Never throws.
     *
     * @return the tracked size afterwards
     */
    public synchronized long reconcile() {
        long before = tracked.sum();
        var walk = new Walk(maxFiles);
        try {
            Files.walkFileTree(directory, walk);
        } catch (IOException | RuntimeException e) {
            return bytes();
        }
        long measured = walk.truncated ? Math.max(before, walk.bytes) : walk.bytes;
        tracked.add(measured - before);
        return bytes();
    }

    private static final class Walk extends SimpleFileVisitor<Path> {
        private final int maxFiles;
        private long bytes;
        private int files;
        private boolean truncated;

        Walk(int maxFiles) {
            this.maxFiles = maxFiles;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            if (!attrs.isRegularFile()) {
                return FileVisitResult.CONTINUE;
            }
            bytes += attrs.size();
            if (++files >= maxFiles) {
                truncated = true;
                return FileVisitResult.TERMINATE;
            }
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException e) {
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException e) {
            return FileVisitResult.CONTINUE;
        }
    }
}

package dev.outpost.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The files of one state store in its directory: the map file of each generation, the temporary
 * file of a migration in progress, and a lock file that says whether the map was closed cleanly.
 *
 * <p>Design note. Invariants:
 *
 * <ul>
 *   <li>A map file appears under its final name ({@code <base>.g<generation>.e<entries>.cm3}) only
 *       once it is complete and on disk: it is written under {@code <final>.tmp}, closed, fsynced,
 *       renamed atomically, and the directory is fsynced. So the highest generation present is the
 *       current map; a {@code .tmp} file or a lower generation is what a crash mid-migration left,
 *       and is deleted on open. The legacy file ({@code <base>.cm3}, written before maps grew in
 *       steps) is generation 0 with unknown entries.
 *   <li>The lock file ({@code <base>.lock}) is held with an OS file lock while the store is open: one
 *       process at a time, which is what Chronicle's recovery requires. It reads {@code closed} only
 *       after the map was closed and its file fsynced, and is set to {@code open} (fsynced) before
 *       the map is touched: a map found any other way (killed, power cut, older version) is opened
 *       with Chronicle's recovery; a cleanly closed one never is, so a clean start logs no warning.
 * </ul>
 */
final class StateDirectory implements AutoCloseable {
    /** The lock file's content after a clean close. */
    static final String CLOSED = "closed\n";
    /** The lock file's content while the map is open (or was, when the process died). */
    static final String OPEN = "open\n";

    /** One generation's map file; {@code entries} is 0 for the legacy file (not recorded). */
    record MapFile(Path path, long generation, long entries) {
        boolean legacy() {
            return generation == 0;
        }
    }

    private final Path dir;
    private final String base;
    private final Path legacy;
    private final Path lockPath;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final boolean cleanlyClosed;

    private StateDirectory(Path legacy, Path lockPath, FileChannel lockChannel, FileLock lock, boolean cleanlyClosed) {
        this.legacy = legacy;
        this.lockPath = lockPath;
        this.dir = legacy.getParent();
        String name = legacy.getFileName().toString();
        this.base = name.endsWith(".cm3") ? name.substring(0, name.length() - 4) : name;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.cleanlyClosed = cleanlyClosed;
    }

    /**
     * Takes the lock of the store whose legacy file is {@code file} ({@code dir/state.cm3}: its
     * generations are named after it), reading whether the map was closed cleanly.
     *
     * @throws StoreException if another process (or another store in this one) holds it
     */
    static StateDirectory lock(Path file) {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        String name = abs.getFileName().toString();
        Path lockFile = dir.resolve((name.endsWith(".cm3") ? name.substring(0, name.length() - 4) : name) + ".lock");
        FileChannel ch = null;
        try {
            Files.createDirectories(dir);
            ch = FileChannel.open(
                    lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;
            }
            if (l == null) {
                throw new StoreException(
                        "lock the state store",
                        lockFile,
                        "another Outpost process (or another store in this one) has this data directory open;"
                                + " stop it first",
                        null);
            }
            ByteBuffer b = ByteBuffer.allocate(16);
            ch.read(b, 0);
            String content = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
            return new StateDirectory(abs, lockFile, ch, l, content.equals(CLOSED));
        } catch (IOException e) {
            closeQuietly(ch);
            throw new StoreException("lock the state store", lockFile, "check permissions of the data directory", e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /** The lock file. */
    Path lockPath() {
        return lockPath;
    }

    /** Whether the map was closed cleanly last time (false after a crash, for a new or a legacy store). */
    boolean cleanlyClosed() {
        return cleanlyClosed;
    }

    /** Marks the map open (fsynced) before it is touched: until {@link #markClosed}, a crash means recovery. */
    void markOpen() throws IOException {
        write(OPEN);
    }

    /** Marks the map closed cleanly; call only after the map is closed and its file fsynced. */
    void markClosed() throws IOException {
        write(CLOSED);
    }

    private void write(String content) throws IOException {
        lockChannel.truncate(0);
        lockChannel.write(ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII)), 0);
        lockChannel.force(true);
    }

    /**
     * The current map file (the highest generation), after deleting what an interrupted migration
     * left (temporary files, lower generations); null if there is none yet.
     */
    MapFile current() throws IOException {
        List<MapFile> found = new ArrayList<>();
        List<Path> temporary = new ArrayList<>();
        Pattern p = Pattern.compile(Pattern.quote(base) + "\\.g(\\d{1,18})\\.e(\\d{1,18})\\.cm3");
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (!n.startsWith(base + ".g")) {
                    continue;
                }
                Matcher m = p.matcher(n);
                if (m.matches()) {
                    found.add(new MapFile(f, Long.parseLong(m.group(1)), Long.parseLong(m.group(2))));
                } else if (n.endsWith(".cm3.tmp")
                        && p.matcher(n.substring(0, n.length() - 4)).matches()) {
                    temporary.add(f);
                }
            }
        }
        if (Files.exists(legacy)) {
            found.add(new MapFile(legacy, 0, 0));
        }
        MapFile newest = null;
        for (MapFile f : found) {
            if (newest == null || f.generation() > newest.generation()) {
                newest = f;
            }
        }
        boolean deleted = false;
        for (MapFile f : found) {
            if (f != newest) {
                deleted |= Files.deleteIfExists(f.path());
            }
        }
        for (Path t : temporary) {
            deleted |= Files.deleteIfExists(t);
        }
        if (deleted) {
            fsyncDirectory();
        }
        return newest;
    }

    /** The map file of the generation after {@code previous} (null: the first), sized for {@code entries}. */
    MapFile next(MapFile previous, long entries) {
        long g = previous == null ? 1 : previous.generation() + 1;
        return new MapFile(dir.resolve(base + ".g" + g + ".e" + entries + ".cm3"), g, entries);
    }

    /** Where {@code f} is written before {@link #publish}. */
    static Path temporary(MapFile f) {
        return f.path().resolveSibling(f.path().getFileName() + ".tmp");
    }

    /** Makes the closed, complete temporary file of {@code f} the current map: fsync, rename, fsync directory. */
    void publish(MapFile f) throws IOException {
        Path tmp = temporary(f);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, f.path(), StandardCopyOption.ATOMIC_MOVE);
        fsyncDirectory();
    }

    /** Deletes a map file no longer current (after a migration), and makes that durable. */
    void retire(MapFile f) throws IOException {
        Files.deleteIfExists(f.path());
        fsyncDirectory();
    }

    /** Fsyncs the map file {@code f} (its pages written through the mapping included). */
    static void fsync(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Whether {@code e} (creating or filling a map file) says the filesystem is full. */
    static boolean diskFull(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (m != null && (m.contains("No space left") || m.contains("Not enough space") || m.contains("quota"))) {
                return true;
            }
        }
        return false;
    }

    private void fsyncDirectory() throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Releases the lock (the content stays as last written). */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException | RuntimeException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(lockChannel);
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing held that the OS does not release
            }
        }
    }
}

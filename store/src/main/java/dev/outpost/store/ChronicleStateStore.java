package dev.outpost.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import net.openhft.chronicle.hash.impl.VanillaChronicleHash;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * State documents in a persisted Chronicle Map that grows in steps up to {@code state.documents_max}.
 *
 * <p>Design note. Chronicle Map allocates its whole file up front from {@code entries} and average
 * sizes, and throws {@code IllegalStateException} once it grows past about its max bloat factor. So
 * the first map is sized for {@link #INITIAL_ENTRIES} documents (under 1 MiB at the default
 * average size), and a write that would take the map past the entries it was sized for, or past
 * {@link StateMapSizing#BYTES_HEADROOM} of the bytes it was sized for, first migrates to a map of twice the
 * entries (at most {@link #capacity()}): never past its entries, so never near Chronicle's
 * exception. At capacity the write is refused with a typed {@link StateStoreFullException}. A
 * migration is crash-safe (see {@link StateDirectory}): the new map is written beside the old,
 * fsynced, renamed atomically, and only then does the old one go; a crash at any step leaves one
 * complete map, found on open. Writers wait for a migration; readers go on reading the old map
 * until the swap, which a read-write lock makes safe (a closed map is never read).
 *
 * <p>Invariants: every value carries a CRC32C and is never half-decoded (a corrupt one reads as
 * absent and is counted); ids are kept in an in-memory sorted index (bounded by capacity) so listing
 * by prefix is ordered and paged; the map is opened with Chronicle's recovery only if it was not
 * closed cleanly (killed mid-write, power cut), so a clean start logs no warning and a kill -9
 * leaves no lock behind; one process holds the store at a time. On open, a map four or more times
 * larger than its documents need (a file from before maps grew in steps, or after many deletes) is
 * copied to a smaller one.
 *
 * <p>Values are encoded by {@link StateValueCodec}. Keys are {@code namespace + '\0' + id}.
 */
public final class ChronicleStateStore implements StateStore {
    private static final Logger LOG = LoggerFactory.getLogger(ChronicleStateStore.class);

    /** Most history entries a value holds. */
    public static final int HISTORY_MAX = StateValueCodec.HISTORY_MAX;
    /** Separates namespace and id in a key (never valid in either). */
    static final char SEPARATOR = '\u0000';
    /** Documents the first map is sized for: 0.9 MiB of file at the default 512-byte average. */
    public static final long INITIAL_ENTRIES = 1024;
    /** A map at least this many times larger than its documents need is copied to a smaller one on open. */
    static final int SHRINK_FACTOR = 4;

    /** Bytes Chronicle adds to an entry beyond key and value: size prefixes, checksum, alignment. */
    static final int ENTRY_FRAMING_BYTES = 32;

    /**
     * One generation's map, its file, and the largest entry (key and value) it takes: Chronicle
     * stores an entry within one segment tier, so a small map takes only small documents.
     */
    private record Generation(StateDirectory.MapFile file, ChronicleMap<String, byte[]> map, long entryBytesMax) {
        Generation(StateDirectory.MapFile file, ChronicleMap<String, byte[]> map) {
            this(file, map, entryBytesMax(map));
        }

        // Chronicle's builder does not say how large an entry may be; the map's sizing fields do.
        private static long entryBytesMax(ChronicleMap<String, byte[]> map) {
            return map instanceof VanillaChronicleHash<?, ?, ?, ?> h
                    ? h.chunkSize * h.maxChunksPerEntry
                    : Long.MAX_VALUE;
        }
    }

    private final StateDirectory files;
    private final long capacity;
    private final int averageDocBytes;
    private final long initialEntries;
    private final StateMapSizing sizing;
    /** Test fault points: called with "copying", "copied", "published", "retired" during a migration. */
    private final Consumer<String> steps;
    /** The map in use; replaced (under the write lock of {@link #swap} and this object's monitor) by a migration. */
    private volatile Generation current;
    /** Readers hold its read lock while they touch the map; a migration takes the write lock to swap and close. */
    private final ReentrantReadWriteLock swap = new ReentrantReadWriteLock();

    private final boolean recovered;
    private final NavigableSet<String> keys = new ConcurrentSkipListSet<>();
    private final AtomicLong maxLogSeq = new AtomicLong();
    private final AtomicLong bytesHeld = new AtomicLong();
    private volatile LongConsumer fileBytesChanged = n -> {};
    /** Bytes of state files last reported to {@link #fileBytesChanged}; under the monitor. */
    private long fileBytesReported;

    private boolean closed;
    /** Set if a failed migration left a newer map file that could not be removed: writes are refused. */
    private StoreException broken;
    /** Values that failed their checksum on read. */
    public final LongAdder corrupt = new LongAdder();

    private ChronicleStateStore(
            StateDirectory files, long capacity, int averageDocBytes, long initialEntries, Consumer<String> steps) {
        this.files = files;
        this.capacity = capacity;
        this.averageDocBytes = averageDocBytes;
        this.initialEntries = Math.max(1, initialEntries);
        this.sizing = new StateMapSizing(capacity, averageDocBytes, this.initialEntries);
        this.steps = steps;
        StateDirectory.MapFile f;
        try {
            f = files.current();
            files.markOpen();
        } catch (IOException e) {
            throw new StoreException(
                    "open state store", files.lockPath(), "check permissions of the data directory", e);
        }
        if (f == null) {
            recovered = false;
            current = build(files.next(null, entriesFor(0, 0)), null);
        } else {
            recovered = !files.cleanlyClosed();
            if (f.legacy()) {
                f = new StateDirectory.MapFile(f.path(), 0, capacity); // sized from state.documents_max then
            }
            current = new Generation(f, openExisting(f));
        }
        fileBytesReported = current.file().path().toFile().length();
        try {
            load();
        } catch (RuntimeException e) {
            current.map().close();
            throw e;
        }
    }

    /**
     * Opens (creating or recovering) the store whose file is {@code file} (its directory holds the
     * map of each generation, named after it).
     *
     * @param capacity most documents (state.documents_max)
     * @param averageDocBytes expected average document size, for Chronicle's sizing
     */
    public static ChronicleStateStore open(Path file, long capacity, int averageDocBytes) {
        return open(file, capacity, averageDocBytes, INITIAL_ENTRIES, step -> {});
    }

    /** As {@link #open(Path, long, int)}, with the first map's entries and a fault point per migration step. */
    static ChronicleStateStore open(
            Path file, long capacity, int averageDocBytes, long initialEntries, Consumer<String> steps) {
        StateDirectory files = StateDirectory.lock(file);
        ChronicleStateStore s;
        try {
            s = new ChronicleStateStore(files, capacity, averageDocBytes, initialEntries, steps);
        } catch (RuntimeException e) {
            files.close();
            throw e;
        }
        s.resizeIfOversized();
        LOG.info(
                "state store open at {}: {} documents of {}, file sized for {} ({} KiB){} (max log seq {})",
                s.current.file().path(),
                s.keys.size(),
                capacity,
                s.current.file().entries(),
                s.fileBytes() >> 10,
                s.recovered ? ", recovered after an unclean stop" : "",
                s.maxLogSeq.get());
        return s;
    }

    /** Opens an existing map file; with Chronicle's recovery only if the store was not closed cleanly. */
    private ChronicleMap<String, byte[]> openExisting(StateDirectory.MapFile f) {
        ChronicleMapBuilder<String, byte[]> b = sizing.builder(f.entries());
        try {
            if (!recovered) {
                return b.createPersistedTo(f.path().toFile());
            }
            LOG.atWarn()
                    .addKeyValue(
                            LogFields.ADVICE,
                            "nothing to do now; stop the agent with SIGTERM (systemctl stop) rather than a kill so the"
                                    + " file is closed cleanly")
                    .log(
                            "state file {} was not closed cleanly (the agent was killed or lost power, or an older version"
                                    + " wrote it): opening it with Chronicle Map's recovery, which warns about exclusive access"
                                    + " (this process holds {})",
                            f.path(),
                            files.lockPath());
            return b.recoverPersistedTo(f.path().toFile(), true);
        } catch (IOException | RuntimeException e) {
            throw new StoreException(
                    "open state store",
                    f.path(),
                    "the file must be a state map written by Outpost with the same state.doc_bytes_avg",
                    e);
        }
    }

    /** Reads every entry into the key index, the bytes held and the highest log sequence. */
    private void load() {
        for (var e : current.map().entrySet()) {
            keys.add(e.getKey());
            bytesHeld.addAndGet(e.getValue().length + StateMapSizing.ENTRY_OVERHEAD_BYTES);
            StateDoc d = decode(e.getKey(), e.getValue());
            if (d != null) {
                maxLogSeq.accumulateAndGet(d.logSeq(), Math::max);
            }
        }
    }

    /** On open: a legacy map, or one at least {@link #SHRINK_FACTOR} times too large, is copied to a right-sized one. */
    private synchronized void resizeIfOversized() {
        long target = entriesFor(keys.size(), bytesHeld.get());
        StateDirectory.MapFile f = current.file();
        if (f.legacy() || f.entries() >= SHRINK_FACTOR * target) {
            try {
                migrate(target);
            } catch (StoreException e) {
                LOG.atWarn()
                        .addKeyValue(
                                LogFields.ADVICE,
                                "nothing to do: the file stays usable; check free space on the"
                                        + " data directory if it happens at every start")
                        .setCause(e)
                        .log("state file {} stays as it is: copying it to a smaller one failed", f.path());
            }
        }
    }

    private long entriesFor(long count, long bytes) {
        return sizing.entriesFor(count, bytes);
    }

    private long bytesFor(long entries) {
        return sizing.bytesFor(entries);
    }

    /**
     * Writes a map of {@code next}'s entries holding a copy of {@code from} (null: empty) under its
     * temporary name, closes and fsyncs it, renames it into place and opens it there (Chronicle
     * keeps using the path it opened: a map is never renamed while open). On failure nothing is left
     * of it and the previous map is unchanged and still current.
     */
    private Generation build(StateDirectory.MapFile next, ChronicleMap<String, byte[]> from) {
        Path tmp = StateDirectory.temporary(next);
        ChronicleMap<String, byte[]> m = null;
        long tmpBytes = 0;
        boolean published = false;
        try {
            Files.deleteIfExists(tmp);
            m = sizing.builder(next.entries()).createPersistedTo(tmp.toFile());
            tmpBytes = tmp.toFile().length();
            reportFileBytes(tmpBytes);
            if (from != null) {
                long n = 0;
                long half = keys.size() / 2;
                for (var e : from.entrySet()) {
                    m.put(e.getKey(), e.getValue());
                    if (++n == half) {
                        steps.accept("copying");
                    }
                }
            }
            m.close();
            m = null;
            if (from != null) {
                steps.accept("copied");
            }
            files.publish(next);
            published = true;
            if (from != null) {
                steps.accept("published");
            }
            return new Generation(
                    next,
                    sizing.builder(next.entries()).createPersistedTo(next.path().toFile()));
        } catch (IOException | RuntimeException e) {
            if (m != null) {
                try {
                    m.close();
                } catch (RuntimeException ignored) {
                    // the file goes anyway
                }
            }
            if (published) {
                // A published copy that cannot be opened goes too: the previous map (a lower
                // generation, so current again) holds the same documents.
                try {
                    files.retire(next);
                } catch (IOException gone) {
                    // Still there, it would win the next open over writes to the previous map.
                    broken = new StoreException(
                            "remove the state file " + next.path().getFileName() + " that could not be opened",
                            next.path(),
                            "restart the agent; state writes are refused until then",
                            gone);
                }
            }
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a leftover .tmp is deleted on the next open
            }
            reportFileBytes(-tmpBytes);
            throw StateDirectory.diskFull(e)
                    ? new DiskFullException("grow the state file to " + next.entries() + " documents", tmp, e)
                    : new StoreException(
                            "write the state file " + next.path().getFileName(),
                            tmp,
                            "check the data directory's disk; the previous state file is unchanged",
                            e);
        }
    }

    /** Copies every document to a map sized for {@code entries} and makes it current; under the monitor. */
    private void migrate(long entries) {
        long t0 = System.nanoTime();
        Generation old = current;
        Generation next = build(files.next(old.file(), entries), old.map());
        swap.writeLock().lock();
        try {
            current = next;
            old.map().close();
        } finally {
            swap.writeLock().unlock();
        }
        long oldBytes = fileBytesReported;
        fileBytesReported = next.file().path().toFile().length();
        try {
            files.retire(old.file());
            reportFileBytes(-oldBytes);
        } catch (IOException e) {
            LOG.atWarn()
                    .addKeyValue(
                            LogFields.ADVICE,
                            "nothing to do: the next start deletes it (or delete it while the" + " agent is stopped)")
                    .setCause(e)
                    .log(
                            "could not delete the previous state file {}; the next start deletes it",
                            old.file().path());
        }
        steps.accept("retired");
        LOG.info(
                "state file resized from {} to {} documents ({} to {} KiB) in {} ms: {} documents copied",
                old.file().legacy()
                        ? "(legacy) " + old.file().entries()
                        : old.file().entries(),
                entries,
                oldBytes >> 10,
                fileBytesReported >> 10,
                (System.nanoTime() - t0) / 1_000_000,
                keys.size());
    }

    private void reportFileBytes(long delta) {
        if (delta != 0) {
            fileBytesChanged.accept(delta);
        }
    }

    /** After a write: Chronicle may have grown the file (a segment's extra tier); report the change. Under the monitor. */
    private void noteFileSize() {
        long now = current.file().path().toFile().length();
        if (now != fileBytesReported && now > 0) {
            reportFileBytes(now - fileBytesReported);
            fileBytesReported = now;
        }
    }

    /**
     * Called with every change (bytes, negative when smaller) of the state files' total size: a
     * migration's new file, the old one deleted, Chronicle growing a map. For disk accounting; the
     * files present at open are not reported (measure them).
     */
    public void onFileBytesChanged(LongConsumer listener) {
        this.fileBytesChanged = listener;
    }

    /** Whether the map was opened with Chronicle's recovery (it was not closed cleanly last time). */
    public boolean recoveredOnOpen() {
        return recovered;
    }

    /** Documents the current map is sized for (it grows in steps up to {@link #capacity()}). */
    public long entries() {
        return current.file().entries();
    }

    static String key(String namespace, String id) {
        return namespace + SEPARATOR + id;
    }

    @Override
    public StateDoc get(String namespace, String id) {
        String k = key(namespace, id);
        byte[] v = read(k);
        return v == null ? null : decode(k, v);
    }

    /** The stored value of {@code k}, read under the swap's read lock (the map is never closed under it). */
    private byte[] read(String k) {
        swap.readLock().lock();
        try {
            if (closed) {
                throw new StoreException("read state", current.file().path(), "the agent is shutting down", null);
            }
            return current.map().get(k);
        } finally {
            swap.readLock().unlock();
        }
    }

    @Override
    public synchronized void put(StateDoc d) {
        String k = key(d.namespace(), d.id());
        byte[] v = StateValueCodec.encode(d);
        long delta = room(k, v.length);
        current.map().put(k, v);
        bytesHeld.addAndGet(delta);
        keys.add(k);
        maxLogSeq.accumulateAndGet(d.logSeq(), Math::max);
        noteFileSize();
    }

    @Override
    public synchronized boolean remove(String namespace, String id) {
        checkWritable();
        String k = key(namespace, id);
        byte[] old = current.map().remove(k);
        if (old == null) {
            return false;
        }
        keys.remove(k);
        bytesHeld.addAndGet(-(old.length + StateMapSizing.ENTRY_OVERHEAD_BYTES));
        return true;
    }

    @Override
    public List<StateDoc> tombstonesBefore(long hlc, int max) {
        List<StateDoc> out = new ArrayList<>();
        for (String k : keys) {
            if (out.size() >= max) {
                break;
            }
            byte[] v = read(k);
            StateDoc d = v == null ? null : StateValueCodec.decodeOrNull(k, v);
            if (d != null && d.deleted() && d.updatedAt() < hlc) {
                out.add(d);
            }
        }
        return out;
    }

    @Override
    public synchronized void checkRoom(StateDoc candidate) {
        room(key(candidate.namespace(), candidate.id()), StateValueCodec.encode(candidate).length);
    }

    /** Throws if writes cannot go on: the store is closed, or a failed migration left it unsure. Under the monitor. */
    private void checkWritable() {
        if (closed) {
            throw new StoreException("write state", current.file().path(), "the agent is shutting down", null);
        }
        if (broken != null) {
            throw broken;
        }
    }

    /**
     * The change in bytes held if {@code k} took a value of {@code valueBytes}; first migrates to a
     * larger map if the current one would pass its entries or bytes; throws if at capacity.
     */
    private long room(String k, int valueBytes) {
        checkWritable();
        byte[] old = current.map().get(k);
        long delta = valueBytes
                + StateMapSizing.ENTRY_OVERHEAD_BYTES
                - (old == null ? 0 : old.length + StateMapSizing.ENTRY_OVERHEAD_BYTES);
        if (old == null && keys.size() >= capacity) {
            throw new StateStoreFullException(current.file().path(), capacity);
        }
        long entryBytes = k.length() * 3L + valueBytes + ENTRY_FRAMING_BYTES; // UTF-8: at most 3 bytes a char
        while ((old == null && keys.size() >= current.file().entries())
                || (delta > 0
                        && bytesHeld.get() + delta > bytesFor(current.file().entries()))
                || entryBytes > current.entryBytesMax()) {
            if (current.file().entries() >= capacity) {
                throw entryBytes > current.entryBytesMax()
                        ? StateStoreFullException.tooLarge(current.file().path(), valueBytes, current.entryBytesMax())
                        : new StateStoreFullException(current.file().path(), capacity);
            }
            migrate(Math.min(capacity, 2 * current.file().entries()));
        }
        return delta;
    }

    @Override
    public List<StateDoc> list(String namespace, String prefix, String afterId, int limit) {
        String from = key(namespace, afterId != null ? afterId : prefix);
        String bound = key(namespace, prefix);
        List<StateDoc> out = new ArrayList<>();
        for (String k : keys.tailSet(from, afterId == null)) {
            if (!k.startsWith(bound) || out.size() >= limit) {
                break;
            }
            StateDoc d = get(namespace, k.substring(namespace.length() + 1));
            if (d != null) {
                out.add(d);
            }
        }
        return out;
    }

    @Override
    public long size() {
        return keys.size();
    }

    @Override
    public long capacity() {
        return capacity;
    }

    @Override
    public long maxLogSeq() {
        return maxLogSeq.get();
    }

    /** Bytes of values held (with per-entry overhead), against {@link #bytesMax()}. */
    public long bytesHeld() {
        return bytesHeld.get();
    }

    /** Most value bytes held before writes are refused (once the map has grown to capacity). */
    public long bytesMax() {
        return bytesFor(Math.max(capacity, current.file().entries()));
    }

    /** Bytes of the current map file (it grows in steps; counted against the disk budget). */
    public long fileBytes() {
        return current.file().path().toFile().length();
    }

    private StateDoc decode(String key, byte[] b) {
        StateDoc d = StateValueCodec.decodeOrNull(key, b);
        if (d == null) {
            corrupt.increment();
            LOG.atError()
                    .addKeyValue(
                            LogFields.ADVICE,
                            "write the document again (PUT /v1/state/...) or let the hub send it"
                                    + " again; check the disk if more follow")
                    .log(
                            "state document {} in {} is corrupt (checksum or format); it reads as absent",
                            key.replace(SEPARATOR, '/'),
                            current.file().path());
        }
        return d;
    }

    /**
     * Closes the map, fsyncs its file and only then marks the store closed cleanly, so the next open
     * needs no recovery; releases the directory's lock.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        swap.writeLock().lock();
        try {
            closed = true;
            current.map().close();
        } finally {
            swap.writeLock().unlock();
        }
        try {
            StateDirectory.fsync(current.file().path());
            files.markClosed();
        } catch (IOException e) {
            LOG.atWarn()
                    .addKeyValue(LogFields.ADVICE, "nothing to do: the next start recovers it")
                    .setCause(e)
                    .log(
                            "state file {} closed but not marked clean; the next start recovers it",
                            current.file().path());
        } finally {
            files.close();
        }
    }
}

package dev.outpost.store;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32C;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * State documents in a persisted Chronicle Map.
 *
 * <p>Design note. Chronicle Map allocates its whole file up front from {@code entries} and average
 * sizes, and throws {@code IllegalStateException} once it grows past about its max bloat factor;
 * this store never gets there: it refuses a write once {@link #capacity()} documents are held, or
 * once the bytes held would pass {@link #BYTES_HEADROOM} of what the map was sized for (a few large
 * documents can fill it before the count does), with a typed {@link StateStoreFullException}. Invariants: every value carries a CRC32C and is never
 * half-decoded (a corrupt one reads as absent and is counted); ids are kept in an in-memory sorted
 * index (bounded by capacity) so listing by prefix is ordered and paged; the map is opened with
 * Chronicle's recovery when the file exists, so a kill -9 mid-write cannot leave it locked.
 *
 * <p>Value format: magic 'S', format version 2, u64 version, i64 updatedAt, i64 logSeq, u8 flags
 * (1 = tombstone), u16 origin length + UTF-8, i32 doc length + bytes, u8 history count + that
 * many i64 log sequences (format 2 only), CRC32C of all before it. Format 1 (no history) is still
 * read. Keys are {@code namespace + '\0' + id}.
 */
public final class ChronicleStateStore implements StateStore {
    private static final Logger LOG = LoggerFactory.getLogger(ChronicleStateStore.class);

    /** First byte of every value. */
    static final byte MAGIC = 'S';
    /** Value format version written (1 is still read). */
    static final byte VERSION = 2;
    /** Most history entries a value holds. */
    public static final int HISTORY_MAX = 64;
    /** Separates namespace and id in a key (never valid in either). */
    static final char SEPARATOR = '\u0000';
    /** Chronicle's allowance over {@code entries}: head room kept below it by refusing at capacity. */
    static final double MAX_BLOAT_FACTOR = 2.0;
    /** Share of the sized byte volume (entries x average entry) the store fills before refusing. */
    static final double BYTES_HEADROOM = 1.5;
    /** Bytes an entry costs beyond its value: key, Chronicle's entry header, value header. */
    static final int ENTRY_OVERHEAD_BYTES = 48 + 64;

    private final Path file;
    private final long capacity;
    private final ChronicleMap<String, byte[]> map;
    private final NavigableSet<String> keys = new ConcurrentSkipListSet<>();
    private final AtomicLong maxLogSeq = new AtomicLong();
    private final AtomicLong bytesHeld = new AtomicLong();
    private final long bytesMax;
    /** Values that failed their checksum on read. */
    public final LongAdder corrupt = new LongAdder();

    private ChronicleStateStore(Path file, long capacity, int averageDocBytes, ChronicleMap<String, byte[]> map) {
        this.file = file;
        this.capacity = capacity;
        this.map = map;
        this.bytesMax = (long) (capacity * (double) (averageDocBytes + ENTRY_OVERHEAD_BYTES) * BYTES_HEADROOM);
    }

    /**
     * Opens (creating or recovering) the map at {@code file}.
     *
     * @param capacity most documents
     * @param averageDocBytes expected average document size, for Chronicle's sizing
     */
    public static ChronicleStateStore open(Path file, long capacity, int averageDocBytes) {
        ChronicleMapBuilder<String, byte[]> b = ChronicleMapBuilder.of(String.class, byte[].class)
                .name("outpost-state")
                .entries(capacity)
                .averageKeySize(48)
                .averageValueSize(averageDocBytes + 64)
                .maxBloatFactor(MAX_BLOAT_FACTOR);
        ChronicleMap<String, byte[]> m;
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            File f = file.toFile();
            m = f.exists() ? b.recoverPersistedTo(f, true) : b.createPersistedTo(f);
        } catch (IOException | RuntimeException e) {
            throw new StoreException(
                    "open state store",
                    file,
                    "the file must be a state map written by Outpost with the same state.* settings",
                    e);
        }
        ChronicleStateStore s = new ChronicleStateStore(file, capacity, averageDocBytes, m);
        for (var e : m.entrySet()) {
            s.keys.add(e.getKey());
            s.bytesHeld.addAndGet(e.getValue().length + ENTRY_OVERHEAD_BYTES);
            StateDoc d = s.decode(e.getKey(), e.getValue());
            if (d != null) {
                s.maxLogSeq.accumulateAndGet(d.logSeq(), Math::max);
            }
        }
        LOG.info(
                "state store open at {}: {} documents of {} (max log seq {})",
                file,
                s.keys.size(),
                capacity,
                s.maxLogSeq.get());
        return s;
    }

    static String key(String namespace, String id) {
        return namespace + SEPARATOR + id;
    }

    @Override
    public StateDoc get(String namespace, String id) {
        String k = key(namespace, id);
        byte[] v = map.get(k);
        return v == null ? null : decode(k, v);
    }

    @Override
    public synchronized void put(StateDoc d) {
        String k = key(d.namespace(), d.id());
        byte[] v = encode(d);
        long delta = room(k, v.length);
        map.put(k, v);
        bytesHeld.addAndGet(delta);
        keys.add(k);
        maxLogSeq.accumulateAndGet(d.logSeq(), Math::max);
    }

    @Override
    public synchronized boolean remove(String namespace, String id) {
        String k = key(namespace, id);
        byte[] old = map.remove(k);
        if (old == null) {
            return false;
        }
        keys.remove(k);
        bytesHeld.addAndGet(-(old.length + ENTRY_OVERHEAD_BYTES));
        return true;
    }

    @Override
    public List<StateDoc> tombstonesBefore(long hlc, int max) {
        List<StateDoc> out = new ArrayList<>();
        for (String k : keys) {
            if (out.size() >= max) {
                break;
            }
            byte[] v = map.get(k);
            StateDoc d = v == null ? null : decodeOrNull(k, v);
            if (d != null && d.deleted() && d.updatedAt() < hlc) {
                out.add(d);
            }
        }
        return out;
    }

    @Override
    public synchronized void checkRoom(StateDoc candidate) {
        room(key(candidate.namespace(), candidate.id()), encode(candidate).length);
    }

    /** The change in bytes held if {@code key} took a value of {@code valueBytes}; throws if no room. */
    private long room(String k, int valueBytes) {
        byte[] old = map.get(k);
        long delta = valueBytes + ENTRY_OVERHEAD_BYTES - (old == null ? 0 : old.length + ENTRY_OVERHEAD_BYTES);
        if ((old == null && keys.size() >= capacity) || (delta > 0 && bytesHeld.get() + delta > bytesMax)) {
            throw new StateStoreFullException(file, capacity);
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

    /** Most value bytes held before writes are refused. */
    public long bytesMax() {
        return bytesMax;
    }

    /** Bytes of the map file (allocated up front; counted against the disk budget). */
    public long fileBytes() {
        return file.toFile().length();
    }

    static byte[] encode(StateDoc d) {
        byte[] origin = d.origin().getBytes(StandardCharsets.UTF_8);
        byte[] doc = d.doc();
        long[] hist = d.history();
        assert hist.length <= HISTORY_MAX;
        int len = 2 + 8 + 8 + 8 + 1 + 2 + origin.length + 4 + doc.length + 1 + hist.length * 8 + 4;
        byte[] b = new byte[len];
        int p = 0;
        b[p++] = MAGIC;
        b[p++] = VERSION;
        RecordCodec.putLong(b, p, d.version());
        p += 8;
        RecordCodec.putLong(b, p, d.updatedAt());
        p += 8;
        RecordCodec.putLong(b, p, d.logSeq());
        p += 8;
        b[p++] = (byte) (d.deleted() ? 1 : 0);
        b[p++] = (byte) origin.length;
        b[p++] = (byte) (origin.length >>> 8);
        System.arraycopy(origin, 0, b, p, origin.length);
        p += origin.length;
        RecordCodec.putInt(b, p, doc.length);
        p += 4;
        System.arraycopy(doc, 0, b, p, doc.length);
        p += doc.length;
        b[p++] = (byte) hist.length;
        for (long h : hist) {
            RecordCodec.putLong(b, p, h);
            p += 8;
        }
        CRC32C crc = new CRC32C();
        crc.update(b, 0, p);
        RecordCodec.putInt(b, p, (int) crc.getValue());
        return b;
    }

    private StateDoc decode(String key, byte[] b) {
        StateDoc d = decodeOrNull(key, b);
        if (d == null) {
            corrupt.increment();
            LOG.error(
                    "state document {} in {} is corrupt (checksum or format); it reads as absent",
                    key.replace(SEPARATOR, '/'),
                    file);
        }
        return d;
    }

    static StateDoc decodeOrNull(String key, byte[] b) {
        if (b.length < 33 || b[0] != MAGIC || (b[1] != 1 && b[1] != VERSION)) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(b, 0, b.length - 4);
        if ((int) crc.getValue() != RecordCodec.getInt(b, b.length - 4)) {
            return null;
        }
        int p = 2;
        long version = RecordCodec.getLong(b, p);
        long updatedAt = RecordCodec.getLong(b, p + 8);
        long logSeq = RecordCodec.getLong(b, p + 16);
        p += 24;
        boolean deleted = b[p++] == 1;
        int ol = RecordCodec.getShort(b, p);
        p += 2;
        if (p + ol + 4 > b.length - 4) {
            return null;
        }
        String origin = new String(b, p, ol, StandardCharsets.UTF_8);
        p += ol;
        int dl = RecordCodec.getInt(b, p);
        p += 4;
        int end = b.length - 4;
        if (dl < 0 || p + dl > end) {
            return null;
        }
        byte[] doc = java.util.Arrays.copyOfRange(b, p, p + dl);
        p += dl;
        long[] history = new long[0];
        if (b[1] >= 2) {
            int hn = p < end ? b[p++] & 0xFF : -1;
            if (hn < 0 || p + hn * 8 != end) {
                return null;
            }
            history = new long[hn];
            for (int i = 0; i < hn; i++) {
                history[i] = RecordCodec.getLong(b, p + i * 8);
            }
        } else if (p != end) {
            return null;
        }
        int sep = key.indexOf(SEPARATOR);
        return new StateDoc(
                key.substring(0, sep),
                key.substring(sep + 1),
                version,
                updatedAt,
                origin,
                logSeq,
                deleted,
                doc,
                history);
    }

    @Override
    public void close() {
        map.close();
    }
}

package dev.outpost.store;

import dev.outpost.compress.Choice;
import dev.outpost.compress.Codec;
import dev.outpost.compress.CodecPolicy;
import dev.outpost.compress.FrameCodec;
import dev.outpost.compress.Pressure;
import dev.outpost.compress.Purpose;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.StoreFileListener;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event log on Chronicle Queue, written with the raw bytes API (no method writers: they
 * compile code at run time, which native-image cannot do).
 *
 * <p>Design note. One append call is one excerpt (a group, see {@link RecordCodec}), so a request
 * is stored all or nothing and kill -9 mid-append leaves no partial request. Invariants:
 *
 * <ul>
 *   <li>Appends are serialized by {@code appendLock}; sequence numbers increase and start at 1;
 *       ingest times (HLC) strictly increase. A log opened alone has consecutive numbers; a lane of
 *       a {@link LanedEventLog} shares the lock and the numbering with the other lanes, so its own
 *       numbers have gaps (the other lanes' records).
 *   <li>{@code lastSeq} is published only after the excerpt holding it is complete.
 *   <li>Groups' header keys (first sequence, first HLC) never decrease along the queue, so seeks
 *       binary-search groups reading one header per probe. A quarantined group may repeat a key
 *       range; readers skip it.
 *   <li>On open, corrupt groups at the tail are copied to the quarantine directory, recorded there,
 *       and skipped from then on; they never block startup. Corrupt records elsewhere are skipped
 *       by readers and counted.
 * </ul>
 */
public final class ChronicleEventLog implements EventLog {
    static {
        // Chronicle phones home to Google Analytics unless told not to (BRIEF §4). The artifact is
        // also excluded from the build; this is the second lock on the door.
        System.setProperty("chronicle.analytics.disable", "true");
    }

    private static final Logger LOG = LoggerFactory.getLogger(ChronicleEventLog.class);

    /**
     * Roll cycles a configuration may name: a cycle is the unit retention deletes. SECONDLY (one
     * file a second per lane) is for small disk budgets, where retention must free space in small
     * steps, and for tests.
     */
    public static final List<String> ROLL_CYCLES = List.of(
            "SECONDLY",
            "FIVE_MINUTELY",
            "TEN_MINUTELY",
            "TWENTY_MINUTELY",
            "HALF_HOURLY",
            "FAST_HOURLY",
            "TWO_HOURLY",
            "FOUR_HOURLY",
            "SIX_HOURLY",
            "FAST_DAILY");

    /** Name of the file in the quarantine directory that lists quarantined group indexes. */
    static final String QUARANTINE_LIST = "quarantined-groups.txt";

    private static final long NONE = Long.MIN_VALUE;

    private final LogOptions options;
    private final SingleChronicleQueue queue;
    private final ExcerptAppender appender;
    private final HybridClock clock;
    private final Shared shared;
    private final ReentrantLock appendLock;
    private final GrowableBuffer buf = new GrowableBuffer(64 * 1024);
    private final GrowableBuffer zbuf = new GrowableBuffer(64 * 1024);
    private volatile Pressure pressure = Pressure.NONE;
    private volatile java.util.function.LongConsumer bytesWritten = n -> {};
    private final LogCounters counters;
    private final Map<Integer, Path> cycleFiles = new ConcurrentHashMap<>();
    private final Map<Integer, long[]> cycleFirstKeys = new ConcurrentHashMap<>();
    private final Set<Long> quarantinedGroups = ConcurrentHashMap.newKeySet();
    private final GroupCommit groupCommit;
    private volatile long lastSeq;
    /** The cycle of the last append (a different current cycle means the next append creates a file). */
    private int writtenCycle = Integer.MIN_VALUE;

    /** Free bytes a new cycle file needs before Chronicle may create it (its header and first index). */
    static final long NEW_CYCLE_ROOM_BYTES = 1L << 20;

    /** The cycle whose file {@link #fileGrowth} last measured, its size then, and bytes since. */
    private int measuredCycle = Integer.MIN_VALUE;

    private long measuredBytes;
    private long writtenSinceMeasured;
    private volatile long firstSeq;
    private volatile boolean closed;
    /** A log opened alone says when it closes; a lane leaves that to its {@link LanedEventLog}. */
    private final boolean standalone;

    /**
     * What the lanes of one {@link LanedEventLog} share: one append lock (so sequence numbers are
     * assigned and published in order across lanes), the last sequence number written in any lane,
     * and the counters. A log opened alone has its own.
     */
    static final class Shared {
        final ReentrantLock appendLock = new ReentrantLock();
        final LogCounters counters = new LogCounters();
        /** Highest sequence number written in any lane; written under appendLock. */
        volatile long lastSeq;
    }

    private ChronicleEventLog(LogOptions options, HybridClock clock, Shared shared, boolean standalone) {
        this.options = options;
        this.standalone = standalone;
        this.clock = clock;
        this.shared = shared;
        this.appendLock = shared.appendLock;
        this.counters = shared.counters;
        Path dir = options.directory();
        try {
            Files.createDirectories(dir);
            Files.createDirectories(options.quarantineDirectory());
            loadQuarantineList();
        } catch (IOException e) {
            throw new StoreException(
                    "create log directories", dir, "check permissions and free space of the data directory", e);
        }
        RollCycle roll = options.rollCycle().equals("SECONDLY")
                ? net.openhft.chronicle.queue.rollcycles.TestRollCycles.TEST_SECONDLY
                : RollCycles.valueOf(options.rollCycle());
        try {
            this.queue = SingleChronicleQueueBuilder.single(dir.toFile())
                    .rollCycle(roll)
                    .timeProvider(clock::monotonicMillis) // cycles roll on the clock that stamps events
                    .blockSize(options.blockBytes())
                    .storeFileListener(new StoreFileListener() {
                        @Override
                        public boolean isActive() {
                            return true; // Chronicle calls an inactive listener for nothing
                        }

                        @Override
                        public void onAcquired(int cycle, File file) {
                            cycleFiles.put(cycle, file.toPath());
                        }

                        @Override
                        public void onReleased(int cycle, File file) {
                            // kept: group commit may still fsync a released cycle's last writes
                        }
                    })
                    .build();
        } catch (RuntimeException e) {
            throw new StoreException(
                    "open event log", dir, "the directory must be a Chronicle queue written by Outpost", e);
        }
        this.appender = queue.createAppender();
        appender.singleThreadedCheckDisabled(true);
        recover();
        int current = queue.lastCycle();
        if (current != Integer.MIN_VALUE) {
            try {
                measuredBytes = Files.size(cycleFile(current));
                measuredCycle = current; // already on disk: only growth from here on is news
                writtenCycle = current;
            } catch (IOException | StoreException e) {
                // unmeasured: the first append measures it
            }
        }
        this.groupCommit = options.durability() == Durability.FSYNC
                ? new GroupCommit(this::cycleFile, this::deletedByRetention, options.fsyncDelayMicros(), counters)
                : null;
        LOG.info(
                "event log open at {}: seq {}..{}, durability {}, roll cycle {}",
                dir,
                firstSeq,
                lastSeq,
                options.durability().name().toLowerCase(),
                options.rollCycle());
    }

    /** Opens (creating if needed) the log; recovers its tail; never refuses because of corrupt data. */
    public static ChronicleEventLog open(LogOptions options, HybridClock clock) {
        return new ChronicleEventLog(options, clock, new Shared(), true);
    }

    /** Opens one lane of a {@link LanedEventLog}: sequence numbers come from {@code shared}. */
    static ChronicleEventLog openLane(LogOptions options, HybridClock clock, Shared shared) {
        return new ChronicleEventLog(options, clock, shared, false);
    }

    @Override
    public AppendResult append(List<EventDraft> drafts) {
        assert !drafts.isEmpty();
        appendLock.lock();
        try {
            if (closed) {
                throw new StoreException("append", options.directory(), "the agent is shutting down; retry", null);
            }
            long first = shared.lastSeq + 1;
            long firstHlc = 0;
            buf.reset(RecordCodec.GROUP_HEADER_BYTES);
            buf.skip(RecordCodec.GROUP_HEADER_BYTES);
            long seq = first;
            for (EventDraft d : drafts) {
                long hlc = clock.now();
                if (seq == first) {
                    firstHlc = hlc;
                }
                RecordCodec.encode(d, seq++, hlc, buf);
            }
            byte[] out = buf.array();
            int outLen = buf.position();
            byte magic = RecordCodec.GROUP_MAGIC;
            int h0 = RecordCodec.GROUP_HEADER_BYTES;
            int bodyLen = outLen - h0;
            Choice choice =
                    options.compress() ? CodecPolicy.choose(bodyLen, Purpose.HOT_LOG, pressure, false) : Choice.NONE;
            if (choice.codec() != Codec.NONE) {
                zbuf.reset(h0 + FrameCodec.frameBytesMax(bodyLen));
                int n = GroupInflater.FRAMES.encode(out, h0, bodyLen, choice, null, zbuf.array(), h0);
                if (n < bodyLen) { // else the frame stored it raw: the plain group is smaller
                    out = zbuf.array();
                    outLen = h0 + n;
                    magic = RecordCodec.GROUP_MAGIC_COMPRESSED;
                }
            }
            RecordCodec.writeGroupHeader(out, magic, drafts.size(), first, firstHlc);
            checkRoomForNewCycle();
            int cycle = writeGroup(out, outLen);
            writtenCycle = cycle;
            if (firstSeq > lastSeq) {
                firstSeq = first; // was empty: a lane's first record follows the other lanes' numbers
            }
            lastSeq = seq - 1;
            shared.lastSeq = seq - 1;
            counters.appended.add(drafts.size());
            counters.appendedBytes.add(outLen);
            counters.uncompressedBytes.add(buf.position());
            bytesWritten.accept(fileGrowth(cycle, outLen));
            CompletableFuture<Void> durable =
                    groupCommit == null ? CompletableFuture.completedFuture(null) : groupCommit.enqueue(cycle);
            return new AppendResult(first, drafts.size(), firstHlc, durable);
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public long lastSeq() {
        return lastSeq;
    }

    @Override
    public long firstSeq() {
        return firstSeq;
    }

    @Override
    public LogCounters counters() {
        return counters;
    }

    @Override
    public EventCursor cursorFromSeq(long fromSeq) {
        ExcerptTailer t = tailer();
        long index = findGroup(t, Math.max(fromSeq, 1), false);
        if (index == NONE) {
            t.toEnd();
        } else if (!t.moveToIndex(index)) {
            t.toStart();
        }
        return new Cursor(t, fromSeq);
    }

    @Override
    public long seqAtOrAfterTime(long hlc) {
        try (ExcerptTailer t = tailer()) {
            long index = findGroup(t, hlc, true);
            if (index == NONE || !t.moveToIndex(index)) {
                t.toStart();
            }
            try (Cursor c = new Cursor(t, 0)) {
                RecordView v = new RecordView();
                while (c.next(v)) {
                    if (v.hlc >= hlc) {
                        return v.seq;
                    }
                }
            }
            return lastSeq + 1;
        }
    }

    /**
     * Before an append that starts a new cycle file: Chronicle creates the file and writes its
     * header through the mapping itself, under its write lock, where a full disk faults (SIGBUS)
     * and leaves the lock held until Chronicle's timeout. So a missing cycle file is created only
     * if the filesystem has room for its header and first index; otherwise the append is refused
     * as disk full before Chronicle is touched.
     */
    private void checkRoomForNewCycle() {
        if (queue.cycle() == writtenCycle) {
            return;
        }
        try {
            long usable = Files.getFileStore(options.directory()).getUsableSpace();
            if (usable < NEW_CYCLE_ROOM_BYTES) {
                throw new DiskFullException(
                        "append to the event log",
                        options.directory(),
                        new IOException("No space left on device: " + usable + " bytes usable, " + NEW_CYCLE_ROOM_BYTES
                                + " needed to start a new cycle file"));
            }
        } catch (IOException e) {
            // Cannot tell: let the write itself find out.
        }
    }

    /**
     * How many bytes the log's files grew by with an append of {@code written} bytes to {@code
     * cycle}, as apparent file sizes (what disk accounting counts: Chronicle sizes a new cycle
     * file at a block and an overlap, and grows it a block at a time). The file is measured when a
     * cycle starts and after every eighth of a block written, so the reported total lags the real
     * size by at most a block. Called under the append lock.
     */
    private long fileGrowth(int cycle, long written) {
        if (cycle == measuredCycle && writtenSinceMeasured + written < options.blockBytes() / 8) {
            writtenSinceMeasured += written;
            return 0;
        }
        long size;
        try {
            size = Files.size(cycleFile(cycle));
        } catch (IOException | StoreException e) {
            size = measuredBytes + written; // cannot look: count what was written
        }
        long growth = cycle == measuredCycle ? Math.max(0, size - measuredBytes) : size;
        measuredCycle = cycle;
        measuredBytes = size;
        writtenSinceMeasured = 0;
        return growth;
    }

    /** Most recently deleted cycles remembered, for group commit to tell retention from a lost file. */
    static final int DELETED_CYCLES_REMEMBERED = 64;

    /** The cycles retention deleted most recently (at most {@link #DELETED_CYCLES_REMEMBERED}). */
    private final java.util.TreeSet<Integer> deletedCycles = new java.util.TreeSet<>();

    /** Whether retention deleted {@code cycle} (recently): its records are gone by policy, and counted. */
    boolean deletedByRetention(int cycle) {
        synchronized (deletedCycles) {
            return deletedCycles.contains(cycle);
        }
    }

    /** Path of the cycle file for {@code cycle}, for fsync. */
    Path cycleFile(int cycle) {
        Path p = cycleFiles.get(cycle);
        if (p != null) {
            return p;
        }
        // Chronicle names a cycle file by formatting the cycle's start time (UTC, epoch 0) with the
        // roll cycle's pattern; its StoreFileListener is not called for every acquisition.
        RollCycle rc = queue.rollCycle();
        String name = DateTimeFormatter.ofPattern(rc.format())
                        .withZone(ZoneOffset.UTC)
                        .format(Instant.ofEpochMilli((long) cycle * rc.lengthInMillis()))
                + SingleChronicleQueue.SUFFIX;
        p = options.directory().resolve(name);
        if (!Files.exists(p)) {
            throw new StoreException(
                    "find cycle file " + name,
                    options.directory(),
                    "the queue directory changed under the agent",
                    null);
        }
        cycleFiles.put(cycle, p);
        return p;
    }

    private ExcerptTailer tailer() {
        ExcerptTailer t = queue.createTailer();
        t.singleThreadedCheckDisabled(true);
        return t;
    }

    /**
     * The index of the last group whose first key (seq, or HLC if {@code byTime}) is <= key; the
     * first group if key is before all; NONE if the log is empty.
     */
    private long findGroup(ExcerptTailer t, long key, boolean byTime) {
        int first = queue.firstCycle();
        int last = queue.lastCycle();
        if (first == Integer.MAX_VALUE || last == Integer.MIN_VALUE || first > last) {
            return NONE;
        }
        NavigableSet<Long> cycles = queue.listCyclesBetween(first, last);
        long chosenCycle = NONE;
        for (Long c : cycles.descendingSet()) {
            long[] k = firstKeysOfCycle(t, c.intValue(), c == last);
            if (k == null) {
                continue;
            }
            chosenCycle = c;
            if ((byTime ? k[1] : k[0]) <= key) {
                break;
            }
        }
        if (chosenCycle == NONE) {
            return NONE;
        }
        int cycle = (int) chosenCycle;
        RollCycle rc = queue.rollCycle();
        long n = t.excerptsInCycle(cycle);
        long lo = 0;
        long hi = n - 1;
        long best = 0;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            long[] k = groupKeysAt(t, rc.toIndex(cycle, mid));
            if (k == null) {
                // A corrupt header: no key to compare; searching on from the left half stays correct
                // because the reader skips forward past it anyway.
                hi = mid - 1;
                continue;
            }
            if ((byTime ? k[1] : k[0]) <= key) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return rc.toIndex(cycle, best);
    }

    private long[] firstKeysOfCycle(ExcerptTailer t, int cycle, boolean isLast) {
        long[] cached = cycleFirstKeys.get(cycle);
        if (cached != null) {
            return cached;
        }
        long n = t.excerptsInCycle(cycle);
        RollCycle rc = queue.rollCycle();
        for (long i = 0; i < n; i++) {
            long idx = rc.toIndex(cycle, i);
            if (quarantinedGroups.contains(idx)) {
                continue;
            }
            long[] k = groupKeysAt(t, idx);
            if (k != null) {
                cycleFirstKeys.put(cycle, k);
                return k;
            }
        }
        return null;
    }

    /** {first seq, first hlc} from the header of the group at {@code index}, or null if unreadable. */
    private long[] groupKeysAt(ExcerptTailer t, long index) {
        if (!t.moveToIndex(index)) {
            return null;
        }
        try (DocumentContext dc = t.readingDocument()) {
            if (!dc.isPresent()) {
                return null;
            }
            Bytes<?> b = dc.wire().bytes();
            if (b.readRemaining() < RecordCodec.GROUP_HEADER_BYTES) {
                return null;
            }
            byte[] h = new byte[RecordCodec.GROUP_HEADER_BYTES];
            b.read(h, 0, h.length);
            if (!RecordCodec.validGroupHeader(h, h.length)) {
                return null;
            }
            return new long[] {RecordCodec.getLong(h, 6), RecordCodec.getLong(h, 14)};
        }
    }

    /** Finds the last fully valid group from the end; quarantines corrupt groups after it. */
    private void recover() {
        long recoveredSeq = 0;
        long recoveredHlc = 0;
        try (ExcerptTailer t = tailer()) {
            t.direction(TailerDirection.BACKWARD).toEnd();
            byte[] group = new byte[64 * 1024];
            RecordView v = new RecordView();
            GroupInflater inflater = new GroupInflater();
            while (true) {
                long idx;
                int len;
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    idx = dc.index();
                    Bytes<?> b = dc.wire().bytes();
                    len = (int) b.readRemaining();
                    if (group.length < len) {
                        group = new byte[len];
                    }
                    b.read(group, 0, len);
                }
                if (quarantinedGroups.contains(idx)) {
                    continue;
                }
                long[] tail = verifyGroup(group, len, v, inflater);
                if (tail != null) {
                    recoveredSeq = tail[0];
                    recoveredHlc = tail[1];
                    break;
                }
                quarantine(idx, group, len);
            }
        }
        lastSeq = recoveredSeq;
        shared.lastSeq = Math.max(shared.lastSeq, recoveredSeq);
        clock.observe(recoveredHlc);
        try (Cursor c = new Cursor(tailer(), 0)) {
            c.tailer.toStart();
            RecordView v = new RecordView();
            firstSeq = c.next(v) ? v.seq : lastSeq + 1;
        }
    }

    /** {last seq, last hlc} if every record of the group is valid, else null. */
    private static long[] verifyGroup(byte[] stored, int storedLen, RecordView v, GroupInflater inflater) {
        if (!inflater.inflate(stored, storedLen)) {
            return null;
        }
        byte[] g = inflater.bytes;
        int len = inflater.length;
        int count = RecordCodec.getInt(g, 2);
        int pos = RecordCodec.GROUP_HEADER_BYTES;
        for (int i = 0; i < count; i++) {
            if (pos + 4 > len) {
                return null;
            }
            int rl = RecordCodec.getInt(g, pos);
            pos += 4;
            if (rl < 0 || pos + rl > len || !RecordCodec.decode(g, pos, rl, v)) {
                return null;
            }
            pos += rl;
        }
        return count > 0 && pos == len ? new long[] {v.seq, v.hlc} : null;
    }

    private void quarantine(long index, byte[] group, int len) {
        Path qdir = options.quarantineDirectory();
        Path file = quarantineFile(index);
        try {
            Files.write(file, Arrays.copyOf(group, len));
            Files.writeString(
                    qdir.resolve(QUARANTINE_LIST),
                    index + "\n",
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND,
                    StandardOpenOption.SYNC);
        } catch (IOException e) {
            // Still skip it in this run; the next start will find and try to quarantine it again.
            LOG.error("could not write quarantine file {}; the corrupt group is skipped but not kept aside", file, e);
        }
        quarantinedGroups.add(index);
        counters.quarantined.increment();
        LOG.warn(
                "quarantined a corrupt group of {} bytes at log index {} (cycle {}) to {}: its checksum does not match;"
                        + " it was never acknowledged or the disk lost it",
                len,
                index,
                queue.rollCycle().toCycle(index),
                file);
    }

    private void loadQuarantineList() throws IOException {
        Path list = options.quarantineDirectory().resolve(QUARANTINE_LIST);
        if (Files.exists(list)) {
            try (Stream<String> lines = Files.lines(list)) {
                lines.map(String::strip)
                        .filter(s -> !s.isEmpty())
                        .forEach(s -> quarantinedGroups.add(Long.parseLong(s)));
            }
        }
    }

    /**
     * Called after every append with how much the log's files grew (apparent sizes, see {@link
     * #fileGrowth}; often 0), under the append lock: keep it cheap (disk tracking).
     */
    public void onBytesWritten(java.util.function.LongConsumer listener) {
        this.bytesWritten = listener;
    }

    /** The governor's pressure hint for choosing the hot-log codec. */
    public void pressure(Pressure p) {
        this.pressure = p;
    }

    /** The quarantine file of the group at log index {@code index}. */
    public Path quarantineFile(long index) {
        return options.quarantineDirectory().resolve("group-" + Long.toHexString(index) + ".bin");
    }

    /** Log indexes of every quarantined group (this and earlier runs), ascending. */
    public List<Long> quarantinedGroups() {
        return quarantinedGroups.stream().sorted().toList();
    }

    /** Number of groups quarantined so far (in this and earlier runs). */
    public int quarantinedGroupCount() {
        return quarantinedGroups.size();
    }

    /**
     * One cycle file of this log, as retention sees it.
     *
     * @param cycle Chronicle's cycle number (the file's start time divided by the cycle length)
     * @param file the cycle file
     * @param bytes its apparent size
     * @param firstSeq sequence number of its first readable record, 0 if it has none
     * @param lastSeq sequence number of its last readable record, 0 if it has none
     * @param current true for the cycle of the present time: appends may still extend it, retention
     *     never deletes it
     */
    public record Cycle(int cycle, Path file, long bytes, long firstSeq, long lastSeq, boolean current) {}

    /** The cycle files, oldest first, at most {@code max} of them. Reads two group headers per cycle. */
    public List<Cycle> cycles(int max) {
        int first = queue.firstCycle();
        int last = queue.lastCycle();
        if (first == Integer.MAX_VALUE || last == Integer.MIN_VALUE || first > last) {
            return List.of();
        }
        List<Cycle> out = new java.util.ArrayList<>();
        try (ExcerptTailer t = tailer()) {
            for (Long c : queue.listCyclesBetween(first, last)) {
                if (out.size() >= max) {
                    break;
                }
                int cycle = c.intValue();
                Path file;
                long bytes;
                try {
                    file = cycleFile(cycle);
                    bytes = Files.size(file);
                } catch (StoreException | IOException e) {
                    continue; // deleted under us (retention) or never written: nothing to count
                }
                long[] k = firstKeysOfCycle(t, cycle, cycle == last);
                long lastSeqOf = lastSeqOfCycle(t, cycle);
                out.add(new Cycle(cycle, file, bytes, k == null ? 0 : k[0], lastSeqOf, cycle >= queue.cycle()));
            }
        }
        return out;
    }

    /** Sequence number of the last record of the last readable group of {@code cycle}, 0 if none. */
    private long lastSeqOfCycle(ExcerptTailer t, int cycle) {
        RollCycle rc = queue.rollCycle();
        for (long i = t.excerptsInCycle(cycle) - 1; i >= 0; i--) {
            long idx = rc.toIndex(cycle, i);
            if (quarantinedGroups.contains(idx) || !t.moveToIndex(idx)) {
                continue;
            }
            try (DocumentContext dc = t.readingDocument()) {
                if (!dc.isPresent()) {
                    continue;
                }
                Bytes<?> b = dc.wire().bytes();
                if (b.readRemaining() < RecordCodec.GROUP_HEADER_BYTES) {
                    continue;
                }
                byte[] h = new byte[RecordCodec.GROUP_HEADER_BYTES];
                b.read(h, 0, h.length);
                if (RecordCodec.validGroupHeader(h, h.length)) {
                    return RecordCodec.getLong(h, 6) + RecordCodec.getInt(h, 2) - 1;
                }
            }
        }
        return 0;
    }

    /**
     * Calls {@code each} with every readable record of {@code cycle}, in order (the view is reused;
     * copy what you keep). Streams: memory stays at one group.
     */
    public void forEachRecordInCycle(int cycle, java.util.function.Consumer<RecordView> each) {
        ExcerptTailer t = tailer();
        if (!t.moveToIndex(queue.rollCycle().toIndex(cycle, 0))) {
            t.close();
            return;
        }
        try (Cursor c = new Cursor(t, 0)) {
            c.lastCycle = cycle;
            RecordView v = new RecordView();
            while (c.next(v)) {
                each.accept(v);
            }
        }
    }

    /**
     * Deletes a cycle file whose time is over (retention). A deleted cycle reads like a
     * cycle in which nothing was written (Chronicle skips missing cycles). Readers already inside it
     * keep reading their mapping; new readers never see it.
     *
     * @return the bytes freed
     * @throws StoreException if {@code cycle} is the current cycle, or the file cannot be deleted
     */
    public long deleteCycle(int cycle) {
        // Under the append lock: no append is half-way into the file. A cycle whose time is over
        // takes no more appends (the next one starts a new file), even if it is the newest file:
        // so a lane whose writes are all refused (disk full) can still give its last file back.
        appendLock.lock();
        try {
            int now = queue.cycle();
            if (cycle >= now) {
                throw new StoreException(
                        "delete cycle " + cycle,
                        options.directory(),
                        "the current cycle (" + now + ") is never deleted: appends may still extend it",
                        null);
            }
            Path f = cycleFile(cycle);
            long bytes;
            try {
                bytes = Files.size(f);
                Files.delete(f);
            } catch (IOException e) {
                throw new StoreException("delete cycle file", f, "check permissions of the data directory", e);
            }
            cycleFiles.remove(cycle);
            cycleFirstKeys.remove(cycle);
            synchronized (deletedCycles) {
                deletedCycles.add(cycle);
                if (deletedCycles.size() > DELETED_CYCLES_REMEMBERED) {
                    deletedCycles.pollFirst();
                }
            }
            queue.refreshDirectoryListing();
            try (Cursor c = new Cursor(tailer(), 0)) {
                c.tailer.toStart();
                RecordView v = new RecordView();
                firstSeq = c.next(v) ? v.seq : lastSeq + 1;
            }
            return bytes;
        } finally {
            appendLock.unlock();
        }
    }

    @Override
    public void close() {
        appendLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            appendLock.unlock();
        }
        if (groupCommit != null) {
            groupCommit.close();
        }
        appender.close();
        queue.close();
        if (standalone) {
            LOG.info("event log at {} closed {}", options.directory(), summary());
        } else {
            LOG.debug("event log lane at {} closed {}", options.directory(), summary());
        }
    }

    /** Reads groups forward, yielding their valid records with seq >= fromSeq. */
    private final class Cursor implements EventCursor {
        final ExcerptTailer tailer;
        private final long fromSeq;
        private final GroupInflater inflater = new GroupInflater();
        private byte[] stored = new byte[64 * 1024];
        private int storedLen;
        private byte[] group;
        private int groupLen;
        private int pos;
        private int remaining;
        /** Groups of later cycles end the cursor (for reading one cycle). */
        int lastCycle = Integer.MAX_VALUE;

        Cursor(ExcerptTailer tailer, long fromSeq) {
            this.tailer = tailer;
            this.fromSeq = fromSeq;
        }

        @Override
        public boolean next(RecordView view) {
            while (true) {
                while (remaining > 0) {
                    remaining--;
                    if (pos + 4 > groupLen) {
                        counters.corruptSkipped.add(remaining + 1);
                        remaining = 0;
                        break;
                    }
                    int len = RecordCodec.getInt(group, pos);
                    pos += 4;
                    if (len < 0 || pos + len > groupLen) {
                        counters.corruptSkipped.add(remaining + 1);
                        remaining = 0;
                        break;
                    }
                    int off = pos;
                    pos += len;
                    if (!RecordCodec.decode(group, off, len, view)) {
                        counters.corruptSkipped.increment();
                        continue;
                    }
                    if (view.seq >= fromSeq) {
                        return true;
                    }
                }
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        return false;
                    }
                    long idx = dc.index();
                    if (lastCycle != Integer.MAX_VALUE && queue.rollCycle().toCycle(idx) > lastCycle) {
                        dc.rollbackOnClose(); // not consumed: the cursor ends before it
                        return false;
                    }
                    if (quarantinedGroups.contains(idx)) {
                        continue;
                    }
                    Bytes<?> b = dc.wire().bytes();
                    int len = (int) b.readRemaining();
                    if (stored.length < len) {
                        stored = new byte[Math.max(len, stored.length * 2)];
                    }
                    b.read(stored, 0, len);
                    storedLen = len;
                }
                if (!inflater.inflate(stored, storedLen)) {
                    counters.corruptSkipped.increment();
                    continue;
                }
                group = inflater.bytes;
                groupLen = inflater.length;
                remaining = RecordCodec.getInt(group, 2);
                pos = RecordCodec.GROUP_HEADER_BYTES;
            }
        }

        @Override
        public void close() {
            tailer.close();
        }
    }

    // ---- Disk full -------------------------------------------------------------------------------
    //
    // Chronicle writes through a shared mapping of a sparse file. On a full filesystem a store to a
    // page that is not allocated yet raises SIGBUS, which the JVM turns into an InternalError (not a
    // RuntimeException), and closing the DocumentContext after it would commit the half-written
    // excerpt. So before the bytes of a group go into the mapping, the pages they will land on (and
    // room for what Chronicle writes after them: index arrays) are allocated with an ordinary write
    // of zeros past the end of the log: a full disk then answers ENOSPC as an IOException while
    // nothing of the group is in the queue yet, the excerpt is rolled back, and the append is
    // refused with a DiskFullException. Once space is freed the next append simply works.
    // If a fault still happens inside Chronicle's own writes (e.g. a new cycle file's header), the
    // appender may be left mid-document: it is replaced by a new one, and the log's tail tells
    // whether the group was committed after all.

    /** Kept allocated past a group for what Chronicle writes after it (an index array: 32 KiB + header). */
    private static final long RESERVE_SLACK_BYTES = 256 << 10;

    /** Allocation step past the end of the log: one write of zeros per step on the hot path. */
    private static final long RESERVE_STEP_BYTES = 1 << 20;

    /** The appender in use after a fault made {@link #appender} unusable; under appendLock. */
    private ExcerptAppender replacementAppender;

    private boolean appenderFaulted;
    private File reserveFile;
    private long reservedTo;
    private java.nio.ByteBuffer zeros;

    /** Writes one group as one excerpt, all or nothing; returns its cycle. Under appendLock. */
    private int writeGroup(byte[] out, int outLen) {
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
            return a.cycle();
        } catch (IOException e) {
            throw refused(e, outLen);
        } catch (InternalError e) {
            // A fault inside Chronicle's own writes: what state the appender is in is unknown.
            appenderFaulted = true;
            LOG.warn("a write to the event log's mapped file faulted; the appender will be replaced", e);
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
                ? new DiskFullException("append to the event log", options.directory(), e)
                : new StoreException(
                        "append to the event log",
                        options.directory(),
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
                LOG.info("event log appender replaced after a fault");
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
        try (ExcerptTailer t = tailer()) {
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
            LOG.warn("could not read the event log's tail after a fault", e);
            return Integer.MIN_VALUE;
        }
    }

    /** True if {@code e} says the filesystem is full, or it has less than {@code needed} bytes free. */
    private boolean diskFull(Throwable e, long needed) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (c instanceof IOException && m != null && (m.contains("No space left") || m.contains("quota"))) {
                return true;
            }
        }
        try {
            return Files.getFileStore(options.directory()).getUsableSpace() < needed;
        } catch (IOException | RuntimeException ignored) {
            return false;
        }
    }
}

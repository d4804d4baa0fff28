package dev.outpost.store;

import dev.outpost.compress.Choice;
import dev.outpost.compress.Codec;
import dev.outpost.compress.CodecPolicy;
import dev.outpost.compress.FrameCodec;
import dev.outpost.compress.Pressure;
import dev.outpost.compress.Purpose;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.StoreFileListener;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
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
 *   <li>A torn last cycle (framing broken before its written end, {@link TornCycle}) is quarantined,
 *       numbering continues above anything it may hold, and appends go to a new cycle ({@link
 *       LogRecovery}).
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

    private final LogOptions options;
    private final SingleChronicleQueue queue;
    /** This process's claim to be the queue's only writer, held until close (see {@link LogOwner}). */
    private final LogOwner owner;
    /** Created after recovery: Chronicle's appender must not meet a torn cycle's written end before it is sealed. */
    private final GroupWriter writer;
    /** The queue's time never goes below this: the start of the last cycle, or of the one after a torn last cycle. */
    private volatile long cycleFloorMillis;

    private final HybridClock clock;
    private final Shared shared;
    private final ReentrantLock appendLock;
    private final GrowableBuffer buf = new GrowableBuffer(64 * 1024);
    private final GrowableBuffer zbuf = new GrowableBuffer(64 * 1024);
    /** The records' checksum, reused under the append lock. */
    private final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    /** What an append with durability os returns: complete, shared (nothing completes or obtrudes it again). */
    private static final CompletableFuture<Void> DURABLE = CompletableFuture.completedFuture(null);

    private volatile Pressure pressure = Pressure.NONE;
    private volatile java.util.function.LongConsumer bytesWritten = n -> {};
    private final LogCounters counters;
    private final CycleFiles cycleFiles;
    private final GroupIndex groups;
    private final Quarantine quarantine;
    private final GroupCommit groupCommit;
    /** Where numbering continues if retention deletes every record (SeqFloor). */
    private final SeqFloor floor;

    private volatile long lastSeq;
    /** The cycle of the last append (a different current cycle means the next append creates a file). */
    private int writtenCycle = Integer.MIN_VALUE;

    /** Free bytes a new cycle file needs before Chronicle may create it (its header and first index). */
    static final long NEW_CYCLE_ROOM_BYTES = 1L << 20;

    /** How much the cycle files grew, for disk accounting (under the append lock). */
    private final FileGrowth growth;

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

    /** The lane this log is (its directory's name), or null for a log opened alone. */
    private final String laneName;

    private ChronicleEventLog(LogOptions options, HybridClock clock, Shared shared, boolean standalone) {
        this.options = options;
        this.cycleFiles = new CycleFiles(options.directory());
        this.standalone = standalone;
        this.clock = clock;
        this.shared = shared;
        this.appendLock = shared.appendLock;
        this.counters = shared.counters;
        // a lane's directory is named after its lane (LanedEventLog); the log lines about it name the lane
        this.laneName = standalone ? null : String.valueOf(options.directory().getFileName());
        this.quarantine = new Quarantine(options.quarantineDirectory(), counters, laneName);
        Path dir = options.directory();
        try {
            Files.createDirectories(dir);
            quarantine.open();
        } catch (IOException e) {
            throw new StoreException(
                    "create log directories", dir, "check permissions and free space of the data directory", e);
        }
        // Before the queue is built: whether this process is the queue's only writer decides whether a write lock
        // left by a killed process may be released at once (LogOwner).
        this.owner = LogOwner.acquire(dir, laneName);
        try {
            if (owner.sole()) { // no other writer could be creating it right now
                removeUnformattedCycle(dir);
            }
            this.queue = buildQueue(dir);
            owner.releaseStaleWriteLock(queue, laneName); // before any tailer (recovery) or appender touches it
        } catch (RuntimeException e) {
            owner.close();
            throw e;
        }
        this.groups = new GroupIndex(queue, quarantine);
        this.floor = new SeqFloor(dir);
        this.growth = new FileGrowth(this::cycleFile, options.blockBytes());
        try {
            recover();
            this.writer = new GroupWriter(queue, dir, laneName);
        } catch (RuntimeException | Error e) {
            queue.close();
            owner.close(); // or a retry in this process would find the directory still claimed
            throw e;
        }
        int current = queue.lastCycle();
        if (current != Integer.MIN_VALUE) {
            try {
                growth.measured(current, Files.size(cycleFile(current))); // on disk: only growth is news
                writtenCycle = current;
            } catch (IOException | StoreException e) {
                // unmeasured: the first append measures it
            }
        }
        this.groupCommit = options.durability() == Durability.FSYNC
                ? new GroupCommit(
                        this::cycleFile, this::deletedByRetention, options.fsyncDelayMicros(), counters, laneName)
                : null;
        LogFields.with(LOG.atInfo(), LogFields.LANE, laneName)
                .log(
                        "event log open at {}: seq {}..{}, durability {}, roll cycle {}",
                        dir,
                        firstSeq,
                        lastSeq,
                        options.durability().name().toLowerCase(),
                        options.rollCycle());
    }

    /** Deletes the newest cycle file if a killed writer created it and never began it (UnformattedCycle). */
    private void removeUnformattedCycle(Path dir) {
        try {
            UnformattedCycle.removeNewest(dir)
                    .ifPresent(f -> LogFields.with(LOG.atWarn(), LogFields.LANE, laneName)
                            .addKeyValue(
                                    LogFields.ADVICE,
                                    "nothing to do: it held no data (the process stopped as it created the file)")
                            .log("event log: removed cycle file {}, created but never written", f));
        } catch (IOException e) {
            throw new StoreException("check the newest cycle file", dir, "check permissions of the data directory", e);
        }
    }

    /** Builds the queue in {@code dir}: roll cycle, block size, the clock that stamps events, cycle files noted. */
    private SingleChronicleQueue buildQueue(Path dir) {
        RollCycle roll = options.rollCycle().equals("SECONDLY")
                ? net.openhft.chronicle.queue.rollcycles.TestRollCycles.TEST_SECONDLY
                : RollCycles.valueOf(options.rollCycle());
        try {
            return SingleChronicleQueueBuilder.single(dir.toFile())
                    .rollCycle(roll)
                    // cycles roll on the clock that stamps events, never back into the last cycle or a torn one
                    .timeProvider(() -> Math.max(clock.monotonicMillis(), cycleFloorMillis))
                    .blockSize(options.blockBytes())
                    .storeFileListener(new StoreFileListener() {
                        @Override
                        public boolean isActive() {
                            return true; // Chronicle calls an inactive listener for nothing
                        }

                        @Override
                        public void onAcquired(int cycle, File file) {
                            cycleFiles.acquired(cycle, file.toPath());
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
        return append(drafts, null);
    }

    @Override
    public AppendResult append(Lane lane, List<EventDraft> drafts, java.util.concurrent.Executor acks) {
        return append(drafts, acks);
    }

    /** Appends; with fsync durability the result's future completes on {@code acks} (null: outpost-ack). */
    AppendResult append(List<EventDraft> drafts, java.util.concurrent.Executor acks) {
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
                RecordCodec.encode(d, seq++, hlc, buf, crc);
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
            writer.checkRoomForNewCycle(writtenCycle);
            int cycle = writer.write(out, outLen);
            groups.appended(first, writer.lastIndex());
            writtenCycle = cycle;
            if (firstSeq > lastSeq) {
                firstSeq = first; // was empty: a lane's first record follows the other lanes' numbers
            }
            lastSeq = seq - 1;
            shared.lastSeq = seq - 1;
            counters.appended.add(drafts.size());
            counters.appendedBytes.add(outLen);
            counters.uncompressedBytes.add(buf.position());
            bytesWritten.accept(growth.after(cycle, outLen));
            CompletableFuture<Void> durable =
                    groupCommit == null ? DURABLE : groupCommit.enqueue(cycle, acks, drafts.size());
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
        long index = groups.findGroup(t, Math.max(fromSeq, 1), false);
        if (index == GroupIndex.NONE) {
            t.toEnd();
        } else if (!t.moveToIndex(index)) {
            t.toStart();
        }
        return cursor(t, fromSeq);
    }

    @Override
    public LogFollower follow(long fromSeq) {
        return new LogFollower((LogCursor) cursorFromSeq(fromSeq));
    }

    @Override
    public long seqAtOrAfterTime(long hlc) {
        try (ExcerptTailer t = tailer()) {
            long index = groups.findGroup(t, hlc, true);
            if (index == GroupIndex.NONE || !t.moveToIndex(index)) {
                t.toStart();
            }
            try (LogCursor c = cursor(t, 0)) {
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

    /** Whether retention deleted {@code cycle} (recently): its records are gone by policy, and counted. */
    boolean deletedByRetention(int cycle) {
        return cycleFiles.deletedByRetention(cycle);
    }

    /** Path of the cycle file for {@code cycle}, for fsync. */
    Path cycleFile(int cycle) {
        return cycleFiles.file(cycle, queue.rollCycle());
    }

    private LogCursor cursor(ExcerptTailer t, long fromSeq) {
        return new LogCursor(t, fromSeq, queue.rollCycle(), counters, quarantine.indexes(), quarantine::tornAt);
    }

    private ExcerptTailer tailer() {
        ExcerptTailer t = queue.createTailer();
        t.singleThreadedCheckDisabled(true);
        return t;
    }

    /**
     * Finds the last fully valid group (quarantining corrupt groups after it) and deals with a torn last cycle
     * ({@link LogRecovery}); sets where numbering, the clock and the queue's cycles continue.
     */
    private void recover() {
        int last = queue.lastCycle();
        LogRecovery.Tail tail = LogRecovery.recover(
                queue, this::tailer, this::cycleFile, quarantine, floor, clock, options.blockBytes(), shared.lastSeq);
        lastSeq = tail.seq();
        if (last != Integer.MIN_VALUE) {
            cycleFloorMillis =
                    (long) (tail.torn() ? last + 1 : last) * queue.rollCycle().lengthInMillis();
        }
        shared.lastSeq = Math.max(shared.lastSeq, Math.max(tail.seq(), floor.seq()));
        clock.observe(Math.max(tail.hlc(), floor.hlc()));
        try (LogCursor c = cursor(tailer(), 0)) {
            c.tailer.toStart();
            RecordView v = new RecordView();
            firstSeq = c.next(v) ? v.seq : lastSeq + 1;
        }
    }

    /**
     * Walks every cycle (not only the last, as an open does) and quarantines, counts and seals any tear not recorded
     * yet, raising the floor above it ({@code outpost fsck --repair}). Reads the whole log.
     *
     * @return the tears newly recorded
     */
    public int recordTears() {
        appendLock.lock();
        try {
            long[] found = LogRecovery.recordTears(
                    queue, this::cycleFile, quarantine, floor, clock, options.blockBytes(), shared.lastSeq);
            shared.lastSeq = Math.max(shared.lastSeq, found[1]);
            return (int) found[0];
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * Called after every append with how much the log's files grew (apparent sizes, see {@link
     * FileGrowth}; often 0), under the append lock: keep it cheap (disk tracking).
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
        return quarantine.file(index);
    }

    /** Log indexes of every quarantined group (this and earlier runs), ascending. */
    public List<Long> quarantinedGroups() {
        return quarantine.groups();
    }

    /** Number of groups quarantined so far (in this and earlier runs). */
    public int quarantinedGroupCount() {
        return quarantine.count();
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
                long[] k = groups.firstKeysOfCycle(t, cycle);
                long lastSeqOf = groups.lastSeqOfCycle(t, cycle);
                out.add(new Cycle(cycle, file, bytes, k == null ? 0 : k[0], lastSeqOf, cycle >= queue.cycle()));
            }
        }
        return out;
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
        try (LogCursor c = cursor(t, 0)) {
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
            // Before the records go: numbering must not restart from below them (SeqFloor).
            floor.raise(shared.lastSeq, clock.now());
            long bytes;
            try {
                bytes = Files.size(f);
                Files.delete(f);
            } catch (IOException e) {
                throw new StoreException("delete cycle file", f, "check permissions of the data directory", e);
            }
            cycleFiles.deleted(cycle);
            groups.forget(cycle);
            queue.refreshDirectoryListing();
            try (LogCursor c = cursor(tailer(), 0)) {
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
        writer.close();
        queue.close();
        owner.close(); // last: another process may write the queue from here on
        if (standalone) {
            LOG.info("event log at {} closed {}", options.directory(), summary());
        } else {
            LOG.debug("event log lane at {} closed {}", options.directory(), summary());
        }
    }
}

package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A process SIGKILLed inside Chronicle's {@code writingDocument()} (write lock held, excerpt header incomplete): the
 * restart opens the log and takes an append at once, with every acknowledged record, without the partial one.
 *
 * <p>Two ways the killed process is left: reaped by its parent (its PID gone), or not reaped yet (a zombie: dead, its
 * files closed, but {@code /proc/<pid>} still there, as under a supervisor that restarts before it waits, or in a
 * container whose PID 1 does not reap; a reused PID looks the same to Chronicle). Before {@link LogOwner}, the second
 * took 15 s (Chronicle's lock timeout) and then failed the open while the zombie stayed.
 */
class KillMidAppendTest {
    /** Groups the child appends (and has acknowledged) before it stops inside the next one. */
    private static final int GROUPS = 40;

    /** Reopen plus one append; unfixed, an unreaped writer cost Chronicle's lock timeout (15 s) first. */
    private static final long RESTART_MILLIS_MAX = 3_000;

    @TempDir
    Path dir;

    static LogOptions options(Path data) {
        return LogOptions.defaults(data).withCompress(false);
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aKillInsideAnAppendRestartsQuicklyAndLosesNothingAcknowledged(boolean reaped) throws Exception {
        Process parent = reaped ? killReaped() : killUnreaped();
        try {
            long t0 = System.nanoTime();
            long seq;
            try (LanedEventLog log = LanedEventLog.open(options(dir), HybridClock.system())) {
                long openMillis = (System.nanoTime() - t0) / 1_000_000;
                seq = log.append(Lane.NORMAL, List.of(EventDraft.of("s", "{}".getBytes(StandardCharsets.UTF_8))))
                        .firstSeq();
                long millis = (System.nanoTime() - t0) / 1_000_000;
                System.out.println((reaped ? "reaped" : "unreaped") + " writer: reopen " + openMillis
                        + " ms, reopen and append " + millis + " ms");
                assertTrue(
                        millis < RESTART_MILLIS_MAX,
                        "reopen " + openMillis + " ms, reopen and append " + millis + " ms (max " + RESTART_MILLIS_MAX
                                + ")");
                assertEquals(GROUPS + 1, seq, "numbering goes on after the acknowledged records");
                assertEquals(expected(seq), seqs(log), "acknowledged records and the new one; no partial group");
                assertEquals(0, log.counters().quarantined.sum(), "an unfinished append is no damage");
                assertEquals(0, log.counters().corruptSkipped.sum());
            }
            try (LanedEventLog log = LanedEventLog.open(options(dir), HybridClock.system())) {
                assertEquals(expected(seq), seqs(log), "and again after a clean restart");
            }
        } finally {
            parent.destroyForcibly(); // the zombie's parent, if any: the zombie goes to a reaper
            parent.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /**
     * A reused PID: the lock names a live process, here this very one (in a container the restarted agent often gets
     * the PID of the one killed). A queue of this JVM that no log owns stops inside an append and is abandoned, as the
     * killed agent left it; the log's open must not wait for it. Before {@link LogOwner}: 15 s, then the open failed.
     */
    @Test
    void aLockNamingALiveReusedPidIsReleasedAtOnce() {
        try (LanedEventLog log = LanedEventLog.open(options(dir), HybridClock.system())) {
            log.append(Lane.NORMAL, List.of(EventDraft.of("s", "{}".getBytes(StandardCharsets.UTF_8))));
        }
        SingleChronicleQueue abandoned = SingleChronicleQueueBuilder.single(
                        dir.resolve("log").resolve(Lane.NORMAL.id()).toFile())
                .build();
        DocumentContext dc = abandoned.createAppender().writingDocument(); // the lock now names this process
        dc.wire().bytes().write(new byte[RecordCodec.GROUP_HEADER_BYTES]);
        reopenAndAppendTheSecond(Lane.NORMAL);
    }

    /**
     * The writer was killed as it created a lane's cycle file (a lane's first write, or an hourly roll): the file is
     * there at its full size, or empty, with no header begun. AlertCrashTest met it on the critical lane's first alert:
     * Chronicle waited out its timeouts on the missing header three times, a restart took over 30 s. Now the file,
     * which holds nothing, is removed before the queue is built.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aCycleFileCreatedButNeverWrittenIsNoWait(boolean zeroFilled) throws Exception {
        try (LanedEventLog log = LanedEventLog.open(options(dir), HybridClock.system())) {
            log.append(Lane.NORMAL, List.of(EventDraft.of("s", "{}".getBytes(StandardCharsets.UTF_8))));
        }
        Path lane = dir.resolve("log").resolve(Lane.HIGH.id());
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.single(lane.toFile())
                        .rollCycle(RollCycles.valueOf(options(dir).rollCycle()))
                        .blockSize(options(dir).blockBytes())
                        .build();
                var a = q.createAppender()) {
            a.writeBytes(b -> b.write(new byte[RecordCodec.GROUP_HEADER_BYTES])); // creates the lane's cycle file
        }
        Path cycle;
        try (var files = Files.list(lane)) {
            cycle = files.filter(f -> f.toString().endsWith(SingleChronicleQueue.SUFFIX))
                    .findFirst()
                    .orElseThrow();
        }
        try (FileChannel ch = FileChannel.open(cycle, StandardOpenOption.WRITE)) {
            if (zeroFilled) {
                for (long pos = 0; pos < ch.size(); pos += 1 << 16) {
                    ch.write(ByteBuffer.allocate(1 << 16), pos); // as created: sized, nothing written
                }
            } else {
                ch.truncate(0);
            }
        }
        reopenAndAppendTheSecond(Lane.HIGH);
    }

    /** Reopens the log (one record in it) and appends to {@code lane}: quickly, numbered 2, both read back. */
    private void reopenAndAppendTheSecond(Lane lane) {
        long t0 = System.nanoTime();
        try (LanedEventLog log = LanedEventLog.open(options(dir), HybridClock.system())) {
            long seq = log.append(lane, List.of(EventDraft.of("s", "{}".getBytes(StandardCharsets.UTF_8))))
                    .firstSeq();
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis < RESTART_MILLIS_MAX, "reopen and append " + millis + " ms");
            assertEquals(2, seq);
            assertEquals(expected(2), seqs(log));
        }
    }

    private static List<Long> expected(long last) {
        return LongStream.rangeClosed(1, last).boxed().toList();
    }

    private static List<Long> seqs(EventLog log) {
        List<Long> out = new ArrayList<>();
        try (EventCursor c = log.cursorFromSeq(1)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                out.add(v.seq());
            }
        }
        return out;
    }

    /** Runs the child as this JVM's child, SIGKILLs it inside the append and waits until it is reaped. */
    private Process killReaped() throws Exception {
        Process p = new ProcessBuilder(childCommand()).redirectError(errFile()).start();
        awaitInDocument(p);
        p.destroyForcibly(); // SIGKILL while it holds the write lock inside the excerpt
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return p;
    }

    /**
     * Runs the child under a shell that then becomes {@code sleep} (which never waits for children), SIGKILLs it
     * inside the append and waits until it is a zombie: dead, its descriptors closed, its PID still in /proc.
     *
     * @return the shell (now {@code sleep}): the zombie's parent
     */
    private Process killUnreaped() throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", "\"$@\" & exec sleep 600 >/dev/null", "sh"));
        cmd.addAll(childCommand());
        Process sh = new ProcessBuilder(cmd).redirectError(errFile()).start();
        long pid = awaitInDocument(sh);
        ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL, as kill -9 from a supervisor
        awaitZombie(pid);
        return sh;
    }

    /** Waits for the child's ready line; returns its PID. */
    private long awaitInDocument(Process p) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = r.readLine();
        assertTrue(
                line != null && line.startsWith("IN-DOCUMENT "),
                "child output " + line + "; stderr:\n" + Files.readString(dir.resolve("child.err")));
        return Long.parseLong(line.substring("IN-DOCUMENT ".length()));
    }

    /**
     * Waits until {@code pid} is a zombie with no thread left but its leader. Nothing signals that to a process that is
     * not its parent, so its state is read until then. The leader alone says Z while its other threads still exit,
     * with the process's files still open; once they are gone, so are its descriptors and file locks.
     */
    private static void awaitZombie(long pid) throws Exception {
        Path proc = Path.of("/proc", Long.toString(pid));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            String s = Files.readString(proc.resolve("stat"));
            boolean zombie = s.substring(s.lastIndexOf(')') + 2).startsWith("Z");
            long threads;
            try (var tasks = Files.list(proc.resolve("task"))) {
                threads = tasks.count();
            }
            if (zombie && threads == 1) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "the killed child never became a zombie: " + s);
            Thread.sleep(1);
        }
    }

    private java.io.File errFile() {
        return dir.resolve("child.err").toFile();
    }

    /** The child JVM: this JVM's module flags and class path. */
    private List<String> childCommand() {
        return ChildJvm.command(KillMidAppendChild.class, dir.toString(), String.valueOf(GROUPS));
    }
}

package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event log on a real, small filesystem (a tmpfs this test mounts; needs root, as CI has) that
 * runs full: appends are refused with a {@link DiskFullException} (never an InternalError from a
 * SIGBUS in the mapped file, never a half-written group), everything appended before reads back,
 * and appends resume by themselves once space is freed, also after a reopen.
 */
class ChronicleEventLogDiskFullTest {
    static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    Path mnt;

    boolean mounted;

    @BeforeEach
    void mountTmpfs() throws Exception {
        mnt = dir.resolve("mnt");
        Files.createDirectories(mnt);
        mount(mnt, "8m");
        mounted = true;
    }

    @AfterEach
    void unmountTmpfs() throws Exception {
        if (mounted) {
            unmount(mnt);
        }
    }

    /** Mounts a tmpfs of {@code size} on {@code at}; fails (never skips) with the reason if it cannot. */
    static void mount(Path at, String size) throws Exception {
        String out = run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", at.toString());
        if (out != null) {
            fail("cannot mount a " + size + " tmpfs on " + at + " (this test needs root, as in CI): " + out);
        }
    }

    /** Unmounts; a mapping not yet released by the JVM keeps it busy for a moment, so retry, then detach. */
    static void unmount(Path at) throws Exception {
        String[] out = {null};
        try {
            org.awaitility.Awaitility.await()
                    .pollDelay(java.time.Duration.ZERO)
                    .pollInterval(java.time.Duration.ofMillis(50))
                    .atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> {
                        out[0] = run("umount", at.toString());
                        if (out[0] != null) {
                            System.gc(); // unmapped buffers are released when collected
                        }
                        return out[0] == null;
                    });
            return;
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // detach it below
        }
        String lazy = run("umount", "-l", at.toString());
        if (lazy != null) {
            fail("cannot unmount the tmpfs on " + at + ": " + out[0] + "; umount -l: " + lazy);
        }
    }

    /** Runs a command; null if it succeeded, else its exit code and output. */
    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timed out: " + String.join(" ", cmd);
        }
        return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + out.strip();
    }

    /** Fills the filesystem of {@code filler} with it until {@code leave} bytes are free. */
    static void fill(Path filler, long leave) throws IOException {
        long free = Files.getFileStore(filler.getParent()).getUsableSpace();
        byte[] chunk = new byte[(int) MIB];
        try (OutputStream out = Files.newOutputStream(filler)) {
            for (long left = free - leave; left > 0; left -= chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, left));
            }
        }
    }

    private static List<EventDraft> batch(int request) {
        List<EventDraft> drafts = new ArrayList<>();
        for (int j = 0; j < 20; j++) {
            // Not compressible much: the log grows by about what is appended.
            String pad = Long.toHexString(request * 1_000_003L + j).repeat(24);
            String json = "{\"r\":" + request + ",\"j\":" + j + ",\"pad\":\"" + pad + "\"}";
            drafts.add(EventDraft.of("s", json.getBytes(StandardCharsets.UTF_8)));
        }
        return drafts;
    }

    /** Every record from seq 1: seqs are 1..n in order, payloads those of {@code payloads}. */
    private static void assertReadsBack(ChronicleEventLog log, List<String> payloads, String when) {
        int n = 0;
        try (EventCursor c = log.cursorFromSeq(1)) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                assertEquals(n + 1, v.seq(), when + ": sequences are gap-free");
                assertTrue(n < payloads.size(), when + ": more records than appended: " + v.seq());
                assertEquals(
                        payloads.get(n), new String(v.payload(), StandardCharsets.UTF_8), when + ": seq " + v.seq());
                n++;
            }
        }
        assertEquals(payloads.size(), n, when + ": records read back");
        assertEquals(0, log.counters().corruptSkipped.sum(), when + ": no partial group was committed");
    }

    private static void append(ChronicleEventLog log, List<EventDraft> drafts, List<String> payloads) {
        AppendResult r = log.append(drafts);
        assertEquals(payloads.size() + 1, r.firstSeq());
        for (EventDraft d : drafts) {
            payloads.add(new String(d.payload(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void fullDiskRefusesAppendsKeepsReadsAndResumesWhenSpaceReturns() throws Exception {
        LogOptions o = LogOptions.defaults(mnt.resolve("data"));
        o = new LogOptions(o.directory(), o.quarantineDirectory(), o.durability(), o.rollCycle(), 0, false, MIB);
        Path filler = mnt.resolve("filler");
        List<String> payloads = new ArrayList<>();
        int request = 0;
        try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
            append(log, batch(request++), payloads);
            fill(filler, 3 * MIB);
            DiskFullException full = null;
            while (full == null) {
                assertTrue(request < 10_000, "3 MiB never ran full: the test does not test");
                try {
                    append(log, batch(request), payloads);
                    request++;
                } catch (DiskFullException e) {
                    full = e;
                }
            }
            assertTrue(payloads.size() > 1000, "the log took " + payloads.size() + " events before it was full");
            assertTrue(full.getMessage().contains(o.directory().toString()), full.getMessage());
            assertTrue(full.getMessage().contains("No space left on device"), full.getMessage());
            assertEquals("append to the event log", full.operation());
            long lastSeq = log.lastSeq();
            for (int i = 0; i < 5; i++) {
                int r = request;
                assertThrows(DiskFullException.class, () -> log.append(batch(r)), "still full");
            }
            assertEquals(lastSeq, log.lastSeq(), "a refused append takes no sequence numbers");
            assertReadsBack(log, payloads, "while full");

            Files.delete(filler);
            for (int i = 0; i < 50; i++) {
                append(log, batch(request++), payloads);
            }
            assertReadsBack(log, payloads, "after space returned");
        }
        try (ChronicleEventLog log = ChronicleEventLog.open(o, HybridClock.system())) {
            assertEquals(0, log.quarantinedGroupCount(), "nothing to quarantine: no partial group");
            assertReadsBack(log, payloads, "reopened");
            append(log, batch(request), payloads);
            assertReadsBack(log, payloads, "reopened, appended");
        }
    }
}

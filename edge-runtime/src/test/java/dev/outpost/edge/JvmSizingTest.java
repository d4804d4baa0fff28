package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.config.OutpostConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JvmSizingTest {
    @TempDir
    Path dir;

    private static long mib(List<String> flags, String prefix) {
        String f = flags.stream().filter(x -> x.startsWith(prefix)).findFirst().orElseThrow();
        return Long.parseLong(f.substring(prefix.length(), f.length() - 1));
    }

    @Test
    void heapAndDirectMemoryFollowTheBudgetAndLeaveRoomForTheStateFile() throws Exception {
        OutpostConfig d = ConfigLoader.defaults();
        List<String> flags = JvmSizing.flags(d);
        long heap = mib(flags, "-Xmx");
        long direct = mib(flags, "-XX:MaxDirectMemorySize=");
        long stateMib = JvmSizing.stateFileBytes(d) >> 20;
        long reserveMib = JvmSizing.nonHeapReserveBytes(d, false) >> 20;
        assertEquals(168 + 40, reserveMib, "C2 and two mapped 16 MiB log chunks of 1.25 blocks");
        assertTrue(
                heap + direct + stateMib + reserveMib <= 512,
                flags + " + state " + stateMib + " MiB + the JVM's own memory must fit 512 MiB");
        assertTrue(heap >= 150, "a 512 MiB budget still gets a useful heap: " + flags);
        assertTrue(flags.contains("-XX:+UseSerialGC"));
        assertTrue(flags.contains("-XX:TrimNativeHeapInterval=1000"), "freed C heap handed back: " + flags);
        assertTrue(
                flags.contains("-XX:CompileThresholdScaling=4"), "the start's run-once code left to the interpreter");
        assertFalse(flags.stream().anyMatch(f -> f.startsWith("-XX:TieredStopAtLevel")), "C2 at 512 MiB: " + flags);
        Path small = dir.resolve("small.yaml");
        Files.writeString(small, "budget:\n  memory: 256MiB\nstate:\n  documents_max: 10000\n");
        List<String> s = JvmSizing.flags(ConfigLoader.load(small));
        assertTrue(mib(s, "-Xmx") < heap && mib(s, "-Xmx") >= 48, s.toString());
        assertTrue(mib(s, "-Xmx") + mib(s, "-XX:MaxDirectMemorySize=") < 256, s.toString());
    }

    @Test
    void theSoakConfigurationRunsC1OnlyWithAHeapFromWhatIsLeft() throws Exception {
        Path soak = dir.resolve("soak.yaml");
        Files.writeString(
                soak, "budget:\n  memory: 256MiB\nstate:\n  documents_max: 20000\nlog:\n  block_bytes: 8MiB\n");
        OutpostConfig c = ConfigLoader.load(soak);
        // 256 - state file 14.9 (20,000 x 624 B x 1.25) - C1 JVM 128 - log window 20 (2 x 1.25 x 8) = 93.1 MiB
        assertEquals(128 + 20, JvmSizing.nonHeapReserveBytes(c, true) >> 20);
        assertEquals(
                List.of(
                        "-Xmx65m",
                        "-Xms16m",
                        "-XX:MaxDirectMemorySize=16m",
                        "-XX:+UseSerialGC",
                        "-XX:TrimNativeHeapInterval=1000",
                        "-XX:CompileThresholdScaling=4",
                        "-XX:TieredStopAtLevel=1"),
                JvmSizing.flags(c));
    }

    @Test
    void theReserveGrowsWithTheLogBlockAndTheJit() throws Exception {
        Path big = dir.resolve("big.yaml");
        Files.writeString(big, "log:\n  block_bytes: 32MiB\n");
        OutpostConfig d = ConfigLoader.defaults();
        OutpostConfig b = ConfigLoader.load(big);
        assertEquals(40L << 20, JvmSizing.nonHeapReserveBytes(b, true) - JvmSizing.nonHeapReserveBytes(d, true));
        assertEquals(40L << 20, JvmSizing.nonHeapReserveBytes(d, false) - JvmSizing.nonHeapReserveBytes(d, true));
        Path edge = dir.resolve("edge.yaml");
        Files.writeString(edge, "budget:\n  memory: 384MiB\nstate:\n  documents_max: 20000\n");
        assertFalse(JvmSizing.c1Only(ConfigLoader.load(edge)), "384 MiB is where C2 starts");
        Files.writeString(edge, "budget:\n  memory: 383MiB\nstate:\n  documents_max: 20000\n");
        assertTrue(JvmSizing.c1Only(ConfigLoader.load(edge)));
    }

    @Test
    void theStartupCheckReadsTheRunningJit() {
        assertTrue(JvmSizing.c1OnlyLevel("1"));
        assertTrue(JvmSizing.c1OnlyLevel(" 3 "));
        assertFalse(JvmSizing.c1OnlyLevel("4"));
        assertFalse(JvmSizing.c1OnlyLevel("0"), "interpreter only: no JIT saving assumed");
        assertFalse(JvmSizing.c1OnlyLevel("junk"));
        assertFalse(JvmSizing.runningC1Only(), "the test JVM runs the default tiered JIT (C1 and C2)");
    }

    @Test
    void theLauncherCommandPrintsThem() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream was = System.out;
        System.setOut(new java.io.PrintStream(out, true));
        try {
            assertEquals(0, Main.run(new String[] {"jvm-flags"}));
        } finally {
            System.setOut(was);
        }
        assertEquals(
                String.join(" ", JvmSizing.flags(ConfigLoader.defaults())),
                out.toString().strip());
    }
}

package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        assertTrue(
                heap + direct + stateMib + (JvmSizing.NON_HEAP_RESERVE_BYTES >> 20) <= 512,
                flags + " + state " + stateMib + " MiB + the JVM's own memory must fit 512 MiB");
        assertTrue(heap >= 150, "a 512 MiB budget still gets a useful heap: " + flags);
        assertTrue(flags.contains("-XX:+UseSerialGC"));
        Path small = dir.resolve("small.yaml");
        Files.writeString(small, "budget:\n  memory: 256MiB\nstate:\n  documents_max: 10000\n");
        List<String> s = JvmSizing.flags(ConfigLoader.load(small));
        assertTrue(mib(s, "-Xmx") < heap && mib(s, "-Xmx") >= 48, s.toString());
        assertTrue(mib(s, "-Xmx") + mib(s, "-XX:MaxDirectMemorySize=") < 256, s.toString());
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

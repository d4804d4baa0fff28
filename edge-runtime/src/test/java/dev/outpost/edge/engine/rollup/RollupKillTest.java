package dev.outpost.edge.engine.rollup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly once across real crashes: a child process ({@link RollupKillChild}) applies a seeded log and is
 * killed with SIGKILL at random moments, several times; each restart reads the log from the lowest covered
 * seq on. At the end every rollup's rows must equal the reference: not one event missing or counted twice.
 */
@Tag("slow")
class RollupKillTest {
    /** Enough work that the runs are still busy when killed (the rollups got faster: 30,000 were done in time). */
    static final int EVENTS = 150_000;

    static final long SEED = 12;
    static final int KILLS = 5;

    @TempDir
    Path dir;

    static List<TestEvent> log(int events, long seed) {
        return TestEvent.traffic(seed, events, 40, 6 * RollupsTest.HOUR, 2 * RollupsTest.MINUTE);
    }

    Process start(Path file) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-") || a.startsWith("--enable-native-access")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of(
                "-Xmx128m",
                "-XX:+UseSerialGC",
                "-cp",
                System.getProperty("java.class.path"),
                RollupKillChild.class.getName(),
                file.toString(),
                Integer.toString(EVENTS),
                Long.toString(SEED)));
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile())
                .start();
    }

    @Test
    void killedAtRandomMomentsTheRollupsCountEveryEventExactlyOnce() throws Exception {
        Path file = dir.resolve("rollups.db");
        SplittableRandom rnd = new SplittableRandom(SEED);
        int killedMidway = 0;
        for (int i = 0; i < KILLS; i++) {
            Process p = start(file);
            boolean exited = p.waitFor(rnd.nextLong(800, 2_500), TimeUnit.MILLISECONDS);
            if (!exited) {
                p.destroyForcibly(); // SIGKILL: no shutdown hook, no close, no flush
                p.waitFor();
                killedMidway++;
            }
        }
        Process last = start(file);
        assertTrue(last.waitFor(120, TimeUnit.SECONDS), "the last run finishes");
        String out = Files.readString(dir.resolve("child.log"));
        assertEquals(0, last.exitValue(), out);
        assertTrue(out.contains("done"), out);
        assertTrue(killedMidway >= 2, "killed only " + killedMidway + " runs while they worked");

        List<TestEvent> log = log(EVENTS, SEED);
        try (Rollups rollups = Rollups.open(file, () -> 0L, Limits.DEFAULT)) {
            assertEquals(EVENTS, rollups.lowestCoveredSeq());
            for (RollupSpec s : rollups.specs()) {
                ReferenceRollup ref = ReferenceRollup.of(s, log);
                ref.assertRows(RollupsTest.rows(rollups, s.name(), Map.of(), WindowQuery.LIMIT_MAX));
                Status st = rollups.status(s.name(), EVENTS);
                assertEquals(ref.events, st.events(), s.name());
                assertEquals(ref.late, st.lateEvents(), s.name());
                assertEquals(ref.skipped, st.skippedValues(), s.name());
            }
        }
    }
}

package dev.outpost.edge.engine.rollup;

import java.nio.file.Path;
import java.util.List;

/**
 * The engine's part in {@link RollupKillTest}, as a child process: opens the rollups file, reads the seeded
 * log from {@link Rollups#lowestCoveredSeq()} + 1 as the engine does after a restart, and flushes every
 * {@link #FLUSH_EVENTS} events. The parent kills it with SIGKILL at random moments.
 *
 * <p>Arguments: rollups file, events, seed.
 */
final class RollupKillChild {
    static final int FLUSH_EVENTS = 97;

    private RollupKillChild() {}

    public static void main(String[] args) {
        Path file = Path.of(args[0]);
        List<TestEvent> log = RollupKillTest.log(Integer.parseInt(args[1]), Long.parseLong(args[2]));
        try (Rollups rollups = Rollups.open(file, System::currentTimeMillis, new Limits(2_000, 8))) {
            rollups.define(RollupsTest.SPECS);
            long from = rollups.lowestCoveredSeq() + 1;
            System.out.println("from " + from);
            System.out.flush();
            for (TestEvent e : log.subList((int) from - 1, log.size())) {
                e.applyTo(rollups);
                if (e.seq() % FLUSH_EVENTS == 0) {
                    rollups.flush();
                }
            }
        }
        System.out.println("done");
    }
}

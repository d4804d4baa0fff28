package dev.outpost.edge.engine.rollup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #12 point 8: 100,000 live rollup groups in memory, measured on the heap. Each group has a count, a
 * sum and a p99 sketch of a value over three orders of magnitude (several sketch pages), the heavy case.
 */
@Tag("slow")
class RollupMemoryTest {
    /** What one in-memory group may cost at most, summary and key included, in bytes. */
    static final long GROUP_BYTES_MAX = 2_048;

    @TempDir
    Path dir;

    static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    @Test
    void aHundredThousandLiveGroupsFitTheBudget() {
        int groups = Limits.GROUPS_MAX_DEFAULT;
        try (Rollups rollups = Rollups.open(dir.resolve("r.db"), () -> 0L, Limits.DEFAULT)) {
            rollups.define(List.of(RollupsTest.spec("m", """
                    {stream: s, group_by: [source_ip], window: 1h, aggregates: [count, sum(bytes), p99(bytes)]}
                    """)));
            long before = usedHeap();
            SplittableRandom rnd = new SplittableRandom(1);
            long seq = 0;
            for (int round = 0; round < 5; round++) {
                for (int g = 0; g < groups - 1; g++) {
                    byte[] json = ("{\"stream\":\"s\",\"ts\":" + (TestEvent.BASE_MILLIS + seq)
                                    + ",\"data\":{\"source_ip\":\"10."
                                    + (g >> 16) + "." + (g >> 8 & 255) + "." + (g & 255) + "\",\"bytes\":"
                                    + rnd.nextInt(100, 100_000) + "}}")
                            .getBytes(StandardCharsets.UTF_8);
                    rollups.apply(++seq, TestEvent.BASE_MILLIS + seq, "s", json, 0, json.length);
                }
            }
            assertEquals(groups - 1, rollups.groupsInMemory());
            long perGroup = (usedHeap() - before) / (groups - 1);
            System.out.println("heap per live rollup group: " + perGroup + " bytes");
            assertTrue(perGroup <= GROUP_BYTES_MAX, perGroup + " bytes per group");
        }
    }
}

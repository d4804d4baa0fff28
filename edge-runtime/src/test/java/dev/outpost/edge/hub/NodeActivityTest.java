package dev.outpost.edge.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.sync.wire.FleetNodes;
import dev.outpost.sync.wire.PushBatch;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a hub keeps of each node's pushes for the fleet table, on the test's clock. */
class NodeActivityTest {
    private static PushBatch batch(String node, long... ingestMillis) {
        List<PushBatch.Record> records = new java.util.ArrayList<>();
        for (int i = 0; i < ingestMillis.length; i++) {
            records.add(new PushBatch.Record(i + 1, HybridClock.atMillis(ingestMillis[i]), "s", new byte[] {'{', '}'}));
        }
        return new PushBatch(node, Lane.NORMAL, 1, Math.max(1, ingestMillis.length), records);
    }

    @Test
    void aNodeNeverHeardOfIsUnknownEverywhere() {
        assertEquals(new FleetNodes.Activity(-1, -1, -1, -1, 0, null), new NodeActivity().of("edge-1"));
    }

    @Test
    void theLagIsTheAgeOfThePushsOldestRecordOnArrival() {
        NodeActivity a = new NodeActivity();
        a.stored(batch("edge-1", 50_000, 20_000, 90_000), 100_000, 12, 3400);
        assertEquals(new FleetNodes.Activity(100_000, 80_000, 12, 3400, 0, null), a.of("edge-1"));
        a.stored(batch("edge-1", 104_000), 105_000, -1, -1); // an older node: no backlog headers
        assertEquals(
                new FleetNodes.Activity(105_000, 1_000, 12, 3400, 0, null),
                a.of("edge-1"),
                "the last reported backlog stays until a push reports another");
        a.stored(batch("edge-1"), 106_000, 0, 0); // an empty batch: seen, lag as it was
        assertEquals(new FleetNodes.Activity(106_000, 1_000, 0, 0, 0, null), a.of("edge-1"));
        a.stored(batch("edge-1", 200_000), 199_000, 0, 0); // the node's clock is ahead: no negative lag
        assertEquals(0, a.of("edge-1").lagMillis());
    }

    @Test
    void refusedPushesCountWithTheLastReason() {
        NodeActivity a = new NodeActivity();
        a.refused("edge-2", 7_000, 400, "not a batch");
        a.refused("edge-2", 9_000, 413, "too large");
        assertEquals(
                new FleetNodes.Activity(-1, -1, -1, -1, 2, new FleetNodes.LastError(9_000, 413, "too large")),
                a.of("edge-2"));
        assertEquals(0, a.of("edge-1").errors(), "per node");
    }
}

package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.governor.Dimension;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** The state file grows in steps under a real agent, and the disk budget counts each step at once. */
class StateGrowthApiTest extends AgentHttpTest {
    private long diskTracked() {
        return agent.agent()
                .governor()
                .sampleNow()
                .readings()
                .get(Dimension.DISK)
                .usage();
    }

    @Test
    void theStateFileGrowsAndTheDiskBudgetCountsIt() throws Exception {
        start("");
        String doc = "{\"pad\":\"" + "x".repeat(60_000) + "\"}";
        assertEquals(
                201, send("PUT", "/v1/state/big/d-0", "application/json", doc).statusCode());
        long file0 = agent.agent().stateFileBytes();
        long disk0 = diskTracked();
        int n = 1;
        // 60 KB documents fill the bytes the first map (1,024 x 512 bytes) was sized for after ~15.
        while (agent.agent().stateFileBytes() == file0 && n < 100) {
            HttpResponse<String> r = send("PUT", "/v1/state/big/d-" + n++, "application/json", doc);
            assertEquals(201, r.statusCode(), r.body());
        }
        long file1 = agent.agent().stateFileBytes();
        assertTrue(file1 > file0, "the state file grew: " + file0 + " -> " + file1 + " after " + n + " documents");
        // Counted at once, not at the next reconcile (a minute later): the tracked disk usage grew by
        // at least what the state file did (the log's growth comes on top).
        long disk1 = diskTracked();
        assertTrue(
                disk1 - disk0 >= file1 - file0,
                "disk usage grew by " + (disk1 - disk0) + ", the state file by " + (file1 - file0));
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = send("GET", "/v1/state/big/d-" + i, null, null);
            assertEquals(200, r.statusCode(), "document " + i + " after the migration");
        }
        String metrics = send("GET", "/metrics", null, null).body();
        assertTrue(metrics.contains("outpost_state_file_bytes " + file1), metrics);
    }
}

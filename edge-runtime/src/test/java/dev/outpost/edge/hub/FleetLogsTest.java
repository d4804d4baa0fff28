package dev.outpost.edge.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.EventDraft;
import dev.outpost.store.Lane;
import dev.outpost.store.LogOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hub's node logs on real Chronicle files: opened on demand, bounded, never closed under a user. */
class FleetLogsTest {
    @TempDir
    Path dir;

    FleetLogs logs(int openMax) {
        return new FleetLogs(dir.resolve("hub"), LogOptions.defaults(dir.resolve("template")), openMax);
    }

    static List<EventDraft> one() {
        return List.of(EventDraft.of("readings", "{\"v\":1}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aNodesLogIsOpenedOnFirstUseUnderItsOwnDirectoryAndKeepsItsData() {
        try (FleetLogs logs = logs(4)) {
            assertFalse(logs.exists("n1"), "nothing before the first push");
            long seq = logs.with("n1", log -> log.append(Lane.NORMAL, one()).lastSeq());
            assertEquals(1, seq);
            assertTrue(logs.exists("n1"));
            assertTrue(Files.isDirectory(dir.resolve("hub/n1/log/normal")), "one directory per node, lanes inside");
            assertFalse(logs.exists("n2"));
            try (FleetLogs.Lease a = logs.lease("n1");
                    FleetLogs.Lease b = logs.lease("n1")) {
                assertSame(a.log(), b.log(), "one open log per node, shared");
                assertEquals(1, logs.openLogs());
            }
        }
        try (FleetLogs reopened = logs(4)) {
            long last = reopened.with("n1", log -> log.lastSeq());
            assertEquals(1, last, "the data survives a restart");
        }
    }

    @Test
    void beyondOpenMaxTheLeastRecentlyUsedIdleLogIsClosed() {
        try (FleetLogs logs = logs(2)) {
            for (String n : List.of("n1", "n2", "n3")) {
                logs.with(n, log -> log.append(Lane.NORMAL, one()));
            }
            assertEquals(2, logs.openLogs(), "n1, used least recently, was closed");
            logs.with("n2", log -> log.lastSeq()); // n2 is now the most recent: n3 goes next
            logs.with("n1", log -> log.lastSeq()); // reopened, with its data
            assertEquals(2, logs.openLogs());
            long last = logs.with("n1", log -> log.lastSeq());
            assertEquals(1, last, "reopened with its data");
        }
    }

    @Test
    void aLogInUseIsNeverClosedUnderItsUser() {
        try (FleetLogs logs = logs(1)) {
            FleetLogs.Lease query = logs.lease("n1"); // e.g. a fleet query streaming from n1
            logs.with("n2", log -> log.append(Lane.NORMAL, one()));
            assertEquals(1, logs.openLogs(), "n2, idle, was closed; n1 is in use");
            try (FleetLogs.Lease push = logs.lease("n2")) {
                assertEquals(2, logs.openLogs(), "both in use: over openMax rather than closed under a user");
                assertEquals(1, query.log().append(Lane.NORMAL, one()).lastSeq(), "n1 still works");
                assertEquals(2, push.log().append(Lane.NORMAL, one()).lastSeq());
            }
            query.close();
            query.close(); // a second close gives nothing back twice
            assertEquals(1, logs.openLogs());
        }
    }

    @Test
    void aLeaseClosedTwiceCountsOnce() {
        try (FleetLogs logs = logs(1)) {
            FleetLogs.Lease a = logs.lease("n1");
            FleetLogs.Lease b = logs.lease("n1");
            a.close();
            a.close();
            try (FleetLogs.Lease other = logs.lease("n2")) { // over openMax: would push n1 out if it had no users
                assertEquals(2, logs.openLogs(), "n1 is still used by b");
                assertEquals(0, other.log().lastSeq());
                assertEquals(1, b.log().append(Lane.NORMAL, one()).lastSeq(), "and still open");
            }
            b.close();
        }
    }

    @Test
    void afterCloseNoLogIsLent() {
        FleetLogs logs = logs(2);
        logs.with("n1", log -> log.append(Lane.NORMAL, one()));
        logs.close();
        assertEquals(0, logs.openLogs());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> logs.lease("n1"));
        assertTrue(e.getMessage().contains("shutting down"), e.getMessage());
    }
}

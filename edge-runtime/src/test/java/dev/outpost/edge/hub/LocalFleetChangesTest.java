package dev.outpost.edge.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.outpost.store.EventDraft;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogOptions;
import dev.outpost.store.json.JsonTree;
import dev.outpost.sync.wire.FleetChange;
import dev.outpost.sync.wire.PullPage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pull sees a fleet change only once its publishing completed (durable): a change's record is readable in the log
 * before its fsync ends, and one a pull saw then could vanish in a power loss after the node applied it.
 */
class LocalFleetChangesTest {
    @TempDir
    Path dir;

    private LanedEventLog log;

    @BeforeEach
    void open() {
        log = LanedEventLog.open(LogOptions.defaults(dir.resolve("log")), HybridClock.system());
    }

    @AfterEach
    void close() {
        log.close();
    }

    private static FleetChange state(String id) {
        byte[] b = "{\"on\":true}".getBytes(StandardCharsets.UTF_8);
        return new FleetChange.StateChange("all", "settings", id, false, "hq", JsonTree.parse(b, 0, b.length));
    }

    /** A change's record as publishing writes it, its fsync not (yet) completed. */
    private void inFlight(FleetChange change) {
        log.append(Lane.HIGH, List.of(EventDraft.of(FleetChange.STREAM, change.toStoredEvent())));
    }

    private static List<String> ids(List<PullPage.Change> changes) {
        List<String> ids = new ArrayList<>();
        for (PullPage.Change c : changes) {
            ids.add(((FleetChange.StateChange) c.change()).id());
        }
        return ids;
    }

    @Test
    void aPullSeesOnlyChangesWhosePublishingCompleted() {
        LocalFleetChanges changes = new LocalFleetChanges(log);
        changes.publish(state("a"));
        inFlight(state("b"));
        log.append(Lane.NORMAL, List.of(EventDraft.of("readings", "{\"v\":1}".getBytes(StandardCharsets.UTF_8))));

        List<PullPage.Change> out = new ArrayList<>();
        long next = changes.scan("edge-1", 0, 100, out);
        assertEquals(List.of("a"), ids(out), "b is in the log, not yet durable");
        assertEquals(1, next, "the next pull starts at b");

        changes.publish(state("c")); // durable up to c: b (before it in the log) is too
        out.clear();
        changes.scan("edge-1", next, 100, out);
        assertEquals(List.of("b", "c"), ids(out));
    }

    @Test
    void whatTheLogHeldAtOpenWasRecoveredFromDiskAndIsSent() {
        inFlight(state("a")); // written by an earlier run of the hub
        LocalFleetChanges changes = new LocalFleetChanges(log);
        List<PullPage.Change> out = new ArrayList<>();
        changes.scan("edge-1", 0, 100, out);
        assertEquals(List.of("a"), ids(out));
    }
}

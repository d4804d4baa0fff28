package dev.outpost.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.AckedRanges;
import dev.outpost.store.Catalog;
import dev.outpost.store.EventDraft;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogOptions;
import dev.outpost.sync.wire.PushBatch;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the pusher sends next, on a real log and catalog (no hub: batches are only read). */
class PusherOrderTest {
    @TempDir
    Path dir;

    static List<EventDraft> drafts(int n) {
        List<EventDraft> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(EventDraft.of("s", "{\"i\":1}".getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    /**
     * A hole in the acknowledged ranges above the live mark that holds only other lanes' sequence
     * numbers must not stop the lane: found as it happened in SyncFaultTest (a critical backlog
     * that never drained), where every branch of next() read the hole, found nothing, and gave up.
     */
    @Test
    void aHoleWithoutTheLanesRecordsIsClosedAndTheRecordsBeyondItAreSent() throws Exception {
        try (LanedEventLog log = LanedEventLog.open(LogOptions.defaults(dir.resolve("log")), HybridClock.system());
                Catalog catalog = Catalog.open(dir.resolve("catalog.db"))) {
            URI hub = URI.create("http://127.0.0.1:9");
            log.append(Lane.CRITICAL, drafts(5)); // 1-5
            AckedRanges acked = new AckedRanges();
            acked.add(1, 5);
            acked.add(9, 10); // acknowledged ahead (a newest-first batch), before the hole filled
            catalog.putSyncCursor(hub.toString(), Lane.CRITICAL.id(), acked);
            Pusher p = new Pusher(
                    new Pusher.Options(hub, "edge", "token", 5000, 1 << 20, 10, 100, 5, 0, 100, 0, 1000, 50, null),
                    log,
                    catalog,
                    WireDictionaries.NONE,
                    false,
                    BatchScaling.NONE);
            try {
                // Live from 6 on (the pusher's start): bulk 6-8 is the hole, critical 9-10 is
                // acknowledged, critical 11-12 is not.
                log.append(Lane.BULK, drafts(3));
                log.append(Lane.CRITICAL, drafts(2));
                log.append(Lane.CRITICAL, drafts(2));
                PushBatch first = p.next(null);
                assertNotNull(first, "the lane is not stuck");
                assertEquals(Lane.CRITICAL, first.lane());
                assertEquals(6, first.fromSeq());
                assertEquals(8, first.toSeq());
                assertTrue(first.records().isEmpty(), "the hole goes empty, closing it");
                PushBatch second = p.next(first); // while the first is in flight
                assertNotNull(second);
                assertEquals(Lane.CRITICAL, second.lane());
                assertEquals(
                        List.of(11L, 12L),
                        second.records().stream().map(PushBatch.Record::seq).toList());
            } finally {
                p.close();
            }
        }
    }
}

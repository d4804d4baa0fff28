package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import dev.outpost.edge.engine.rollup.Limits;
import dev.outpost.edge.engine.rollup.Rollups;
import dev.outpost.edge.ingest.IngestOutcome;
import dev.outpost.edge.ingest.IngestStage;
import dev.outpost.edge.ingest.ParsedEvent;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.store.Catalog;
import dev.outpost.store.EngineRecords;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventDraft;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogOptions;
import dev.outpost.store.RecordView;
import dev.outpost.store.json.JsonTree;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine on a real laned log and catalog: alerts, cooldowns, the reserved stream, and recovery. */
class EngineTest {
    @TempDir
    Path dir;

    LanedEventLog log;
    Catalog catalog;
    List<Engine> engines = new ArrayList<>();
    List<Rollups> closeLater = new ArrayList<>();
    RollupBook lastRollups;

    @BeforeEach
    void open() {
        log = LanedEventLog.open(LogOptions.defaults(dir.resolve("log")), HybridClock.system());
        catalog = Catalog.open(dir.resolve("catalog.db"));
    }

    @AfterEach
    void close() {
        engines.forEach(Engine::close);
        closeLater.forEach(Rollups::close);
        catalog.close();
        log.close();
    }

    static Map<String, Object> rule(String extra) {
        String json = "{\"stream\":\"traffic\",\"conditions\":[{\"field\":\"bytes\",\"op\":\"gt\",\"value\":100}]"
                + extra + "}";
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        @SuppressWarnings("unchecked")
        Map<String, Object> tree = (Map<String, Object>) JsonTree.parse(b, 0, b.length);
        return tree;
    }

    Engine engine(Map<String, Object> rules) {
        return engine(rules, 0);
    }

    Engine engine(Map<String, Object> rules, int nice) {
        RuleBook book = new RuleBook(catalog, rules, stream -> null);
        Rollups windows = Rollups.open(dir.resolve("rollups.db"), System::currentTimeMillis, Limits.DEFAULT);
        closeLater.add(windows);
        RollupBook rollups = new RollupBook(catalog, windows, Map.of(), log::lastSeq);
        lastRollups = rollups;
        Engine e = new Engine(
                log,
                catalog,
                book,
                rollups,
                "alerts",
                Detectors.GROUPS_MAX_DEFAULT,
                System::currentTimeMillis,
                new Metrics());
        engines.add(e);
        e.threadNice(nice);
        e.start();
        return e;
    }

    long append(String stream, String key, long bytes) {
        String json = "{\"stream\":\"" + stream + "\",\"key\":\"" + key + "\",\"data\":{\"bytes\":" + bytes + "}}";
        return log.append(Lane.NORMAL, List.of(EventDraft.of(stream, json.getBytes(StandardCharsets.UTF_8))))
                .firstSeq();
    }

    void caughtUp(Engine e) {
        long last = log.lastSeq();
        Await.atMost(Duration.ofSeconds(10)).until(() -> e.position() >= last);
    }

    /** The alerts in the log, in order, as parsed events. */
    List<Map<?, ?>> alerts() {
        List<Map<?, ?>> out = new ArrayList<>();
        RecordView v = new RecordView();
        try (EventCursor c = log.cursorFromSeq(1)) {
            while (c.next(v)) {
                if (v.stream().equals("alerts")) {
                    out.add((Map<?, ?>) JsonTree.parse(v.payload(), 0, v.payloadLength()));
                }
            }
        }
        return out;
    }

    @Test
    void aFiringEventRaisesOneAlertNamingRuleScoreConditionsAndSourceInTheCriticalLane() {
        Engine e = engine(Map.of("big", rule(",\"severity\":\"critical\"")));
        append("traffic", "a", 5);
        long firing = append("traffic", "host-1", 500);
        append("other", "x", 500);
        caughtUp(e);
        List<Map<?, ?>> alerts = alerts();
        assertEquals(1, alerts.size(), alerts.toString());
        Map<?, ?> a = alerts.getFirst();
        assertEquals("big@" + firing, a.get("id"));
        Map<?, ?> data = (Map<?, ?>) a.get("data");
        assertEquals("big", data.get("rule"));
        assertEquals("critical", data.get("severity"));
        assertEquals(1.0, ((Number) data.get("score")).doubleValue());
        Map<?, ?> cond = (Map<?, ?>) ((List<?>) data.get("conditions")).getFirst();
        assertEquals("bytes", cond.get("field"));
        Map<?, ?> source = (Map<?, ?>) data.get("source");
        assertEquals("traffic", source.get("stream"));
        assertEquals(firing, ((Number) source.get("seq")).longValue());
        assertEquals("host-1", source.get("key"));
        assertTrue(log.lane(Lane.CRITICAL).lastSeq() > firing, "the alert is in the critical lane");
    }

    @Test
    void theEngineThreadRunsAtItsNiceValueAndStillRaisesAlerts() throws IOException {
        Engine e = engine(Map.of("big", rule("")), 7);
        append("traffic", "a", 500);
        caughtUp(e);
        assertEquals(1, alerts().size());
        List<Integer> nices = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : tasks) {
                if (Files.readString(t.resolve("comm")).strip().equals("outpost-engine")) {
                    String stat = Files.readString(t.resolve("stat"));
                    nices.add(Integer.parseInt(
                            stat.substring(stat.lastIndexOf(") ") + 2).split(" ")[16]));
                }
            }
        }
        assertTrue(nices.contains(7), "nice values of the engine threads: " + nices);
    }

    @Test
    void rulesAndRollupsOfAStreamReadEachEventOnceAndBothSeeIt() {
        Engine e = engine(Map.of("big", rule("")));
        byte[] def =
                "{\"stream\":\"traffic\",\"group_by\":[\"/key\"],\"window\":\"1h\",\"aggregates\":[\"count\",\"sum(bytes)\"]}"
                        .getBytes(StandardCharsets.UTF_8);
        lastRollups.put("per-key", JsonTree.parse(def, 0, def.length), RuleBook.FROM_API);
        append("traffic", "a", 500);
        append("traffic", "a", 7);
        append("traffic", "b", 1);
        caughtUp(e);
        assertEquals(1, alerts().size());
        Rollups windows = lastRollups.rollups();
        assertEquals(3, windows.eventsReadShared(), "the rollup took every event's fields from the rules' pass");
        Await.atMost(Duration.ofSeconds(10))
                .until(() -> windows.query("per-key", 0, Long.MAX_VALUE, Map.of(), 10, null)
                                .rows()
                                .size()
                        == 2);
        var a = windows.query("per-key", 0, Long.MAX_VALUE, Map.of("/key", "a"), 10, null)
                .rows()
                .getFirst();
        assertEquals(2.0, a.numbers()[0], "count");
        assertEquals(507.0, a.numbers()[1], "sum(bytes)");
    }

    @Test
    void threadNiceSetsTheCallingThreadOnly() throws Exception {
        int[] seen = new int[2];
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                assertTrue(ThreadNice.setForCurrentThread(ThreadNice.NICE_MAX).isEmpty());
                seen[0] = ThreadNice.ofCurrentThread();
            } catch (IOException x) {
                throw new UncheckedIOException(x);
            }
        });
        t.join();
        seen[1] = ThreadNice.ofCurrentThread();
        assertEquals(ThreadNice.NICE_MAX, seen[0]);
        assertEquals(0, seen[1], "the caller's own thread is untouched");
    }

    @Test
    void aCooldownAllowsOneAlertPerGroupAndPeriod() {
        Engine e = engine(Map.of("big", rule(",\"group_by\":\"/key\",\"cooldown\":\"1h\"")));
        for (int i = 0; i < 5; i++) {
            append("traffic", "h1", 500);
            append("traffic", "h2", 500);
        }
        caughtUp(e);
        List<Map<?, ?>> alerts = alerts();
        assertEquals(2, alerts.size(), "one per group: " + alerts);
        assertEquals("h1", ((Map<?, ?>) alerts.get(0).get("data")).get("group"));
        assertEquals("h2", ((Map<?, ?>) alerts.get(1).get("data")).get("group"));
    }

    @Test
    void clientsCannotWriteToTheAlertStream() {
        Engine e = engine(Map.of());
        IngestStage.Batch batch = new IngestStage.Batch(
                List.of(new ParsedEvent("ok", null, "{}".getBytes()), new ParsedEvent("alerts", null, "{}".getBytes())),
                true,
                null);
        IngestOutcome.Invalid refused = assertInstanceOf(IngestOutcome.Invalid.class, e.check(batch));
        assertEquals(IngestOutcome.Fault.RESERVED_STREAM, refused.fault());
        assertEquals(2, refused.line());
        assertEquals("stream", refused.field());
        assertNull(e.check(new IngestStage.Batch(List.of(new ParsedEvent("ok", null, "{}".getBytes())), false, null)));
    }

    @Test
    void rulesApplyFromTheFirstStartOn() {
        append("traffic", "before", 500);
        Engine e = engine(Map.of("big", rule("")));
        long after = append("traffic", "after", 500);
        caughtUp(e);
        List<Map<?, ?>> alerts = alerts();
        assertEquals(1, alerts.size(), alerts.toString());
        assertEquals("big@" + after, alerts.getFirst().get("id"));
    }

    @Test
    void aReplayFromAnOlderCheckpointRaisesNoAlertTwiceAndKeepsCooldowns() {
        Map<String, Object> rules = Map.of("big", rule(""), "cool", rule(",\"group_by\":\"/key\",\"cooldown\":\"1h\""));
        Engine first = engine(rules);
        EngineRecords.Checkpoint start = catalog.engine().checkpoint(Engine.CHECKPOINT);
        for (int i = 0; i < 20; i++) {
            append("traffic", "h" + (i % 3), i % 2 == 0 ? 500 : 5);
        }
        caughtUp(first);
        first.close();
        engines.remove(first);
        int before = alerts().size();
        assertEquals(10 + 3, before, "10 firing events for 'big', one per key for 'cool'");
        // A crash that lost every checkpoint since the first: the replay must find the alerts already raised.
        catalog.engine().putCheckpoint(start);
        Engine second = engine(rules);
        long more = append("traffic", "h0", 500);
        caughtUp(second);
        List<Map<?, ?>> alerts = alerts();
        assertEquals(before + 1, alerts.size(), "only the new event's 'big' alert ('cool' is cooling down): " + alerts);
        assertEquals("big@" + more, alerts.getLast().get("id"));
    }

    @Test
    void detectorStateSurvivesARestart() {
        String json = "{\"stream\":\"traffic\",\"group_by\":\"/key\",\"conditions\":[{\"field\":\"bytes\","
                + "\"op\":\"anomaly\",\"value\":4,\"warmup\":20}]}";
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        Map<String, Object> rules = Map.of("spike", JsonTree.parse(b, 0, b.length));
        Engine first = engine(rules);
        for (int i = 0; i < 25; i++) {
            append("traffic", "h1", 100 + i % 7);
        }
        caughtUp(first);
        first.close();
        engines.remove(first);
        assertEquals(0, alerts().size());
        Engine second = engine(rules); // a detector that forgot would be warming up again and say nothing
        long spike = append("traffic", "h1", 100_000);
        append("traffic", "h2", 100_000); // another group: warming up
        caughtUp(second);
        List<Map<?, ?>> alerts = alerts();
        assertEquals(1, alerts.size(), alerts.toString());
        assertEquals("spike@" + spike, alerts.getFirst().get("id"));
        Map<?, ?> cond =
                (Map<?, ?>) ((List<?>) ((Map<?, ?>) alerts.getFirst().get("data")).get("conditions")).getFirst();
        assertTrue(((Number) cond.get("z")).doubleValue() > 4, cond.toString());
    }
}

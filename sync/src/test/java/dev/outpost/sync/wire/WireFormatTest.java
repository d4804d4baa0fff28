package dev.outpost.sync.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.Lane;
import dev.outpost.store.json.JsonTree;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The JSON messages of the sync protocol byte for byte as the hub and edge wrote them before they
 * had one definition (the expected strings are what that code produced), so an edge and a hub of
 * either generation keep talking; and reading rejects what it cannot trust, naming why.
 */
class WireFormatTest {
    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Object json(String s) {
        byte[] b = bytes(s);
        return JsonTree.parse(b, 0, b.length);
    }

    @Test
    void aPushAckIsWrittenAsBeforeAndAnOldEdgeFindsItsRange() {
        PushAck ack = new PushAck("edge-1", Lane.NORMAL, 5, 9, 3, 2);
        String wire = text(ack.toJson());
        assertEquals(
                "{\"node\":\"edge-1\",\"lane\":\"normal\",\"from\":5,\"to\":9,\"stored\":3,\"duplicates\":2}", wire);
        Matcher old = Pattern.compile("\"from\":(\\d+),\"to\":(\\d+)").matcher(wire); // the old edge's reader
        assertTrue(old.find());
        assertEquals("5", old.group(1));
        assertEquals("9", old.group(2));
        assertEquals(ack, PushAck.parse(bytes(wire)));
        assertEquals(
                ack,
                PushAck.parse(bytes("{ \"to\": 9, \"from\": 5, \"duplicates\": 2, \"stored\": 3,"
                        + " \"lane\": \"normal\", \"node\": \"edge-1\" }")),
                "any member order and spacing");
    }

    @Test
    void aPushAckThatCannotBeTrustedIsRefusedNamingTheMember() {
        WireException e = assertThrows(
                WireException.class, () -> PushAck.parse(bytes("{\"node\":\"n\",\"lane\":\"normal\",\"from\":\"5\"}")));
        assertTrue(e.getMessage().contains("\"from\"") && e.getMessage().contains("whole number"), e.getMessage());
        e = assertThrows(WireException.class, () -> PushAck.parse(bytes("{\"from\":1,\"to\":99999999999999999999}")));
        assertTrue(e.getMessage().contains("\"node\""), e.getMessage());
        e = assertThrows(
                WireException.class,
                () -> PushAck.parse(
                        bytes("{\"node\":\"n\",\"lane\":\"normal\",\"from\":1,\"to\":99999999999999999999}")));
        assertTrue(e.getMessage().contains("\"to\""), "beyond 64 bits: " + e.getMessage());
        e = assertThrows(
                WireException.class,
                () -> PushAck.parse(
                        bytes("{\"node\":\"n\",\"lane\":\"fast\",\"from\":1,\"to\":2,\"stored\":1,\"duplicates\":0}")));
        assertTrue(e.getMessage().contains("unknown lane \"fast\""), e.getMessage());
        e = assertThrows(WireException.class, () -> PushAck.parse(bytes("<html>busy</html>")));
        assertEquals(400, e.status());
        assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
    }

    @Test
    void fleetChangesAreWrittenAsBeforeWithTheKindAheadOfAnyDocument() {
        Object doc = json("{\"speed\":1,\"kind\":\"not-the-kind\",\"tags\":[\"a\"]}");
        FleetChange put = new FleetChange.StateChange("edge-1", "settings", "fan", false, "hq", doc);
        assertEquals(
                "{\"target\":\"edge-1\",\"kind\":\"state\",\"namespace\":\"settings\",\"id\":\"fan\",\"op\":\"put\","
                        + "\"origin\":\"hq\",\"doc\":{\"speed\":1,\"kind\":\"not-the-kind\",\"tags\":[\"a\"]}}",
                text(put.toJson()));
        FleetChange delete = new FleetChange.StateChange("all", "settings", "fan", true, "hq", null);
        assertEquals(
                "{\"target\":\"all\",\"kind\":\"state\",\"namespace\":\"settings\",\"id\":\"fan\",\"op\":\"delete\","
                        + "\"origin\":\"hq\",\"doc\":null}",
                text(delete.toJson()));
        FleetChange stream =
                new FleetChange.StreamChange("edge-1", "vibration", "hq", json("{\"priority\":\"critical\"}"));
        assertEquals(
                "{\"target\":\"edge-1\",\"kind\":\"stream\",\"name\":\"vibration\",\"origin\":\"hq\","
                        + "\"definition\":{\"priority\":\"critical\"}}",
                text(stream.toJson()));
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("query.limit_default", 3L);
        settings.put("sync.bandwidth_bytes_per_second", null);
        FleetChange config = new FleetChange.ConfigChange("edge-1", "hq", settings);
        assertEquals(
                "{\"target\":\"edge-1\",\"kind\":\"config\",\"origin\":\"hq\",\"settings\":"
                        + "{\"query.limit_default\":3,\"sync.bandwidth_bytes_per_second\":null}}",
                text(config.toJson()));
        FleetChange rule = new FleetChange.RuleChange(
                "all", "big-transfer", "hq", json("{\"stream\":\"ledger\",\"conditions\":[]}"));
        assertEquals(
                "{\"target\":\"all\",\"kind\":\"rule\",\"name\":\"big-transfer\",\"origin\":\"hq\","
                        + "\"definition\":{\"stream\":\"ledger\",\"conditions\":[]}}",
                text(rule.toJson()));
        FleetChange ruleDelete = new FleetChange.RuleChange("edge-1", "big-transfer", "hq", null);
        assertEquals(
                "{\"target\":\"edge-1\",\"kind\":\"rule\",\"name\":\"big-transfer\",\"origin\":\"hq\","
                        + "\"definition\":null}",
                text(ruleDelete.toJson()));
        FleetChange.RuleChange deleteBack =
                (FleetChange.RuleChange) FleetChange.parse(ruleDelete.toJson(), 0, ruleDelete.toJson().length);
        assertTrue(deleteBack.delete(), "JSON null definition reads as a delete");
        for (FleetChange c : List.of(put, delete, stream, config, rule, ruleDelete)) {
            byte[] b = c.toJson();
            FleetChange back = FleetChange.parse(b, 0, b.length);
            assertEquals(text(b), text(back.toJson()), "round trip");
        }
        FleetChange.ConfigChange back =
                (FleetChange.ConfigChange) FleetChange.parse(config.toJson(), 0, config.toJson().length);
        assertNull(
                back.settings().get("sync.bandwidth_bytes_per_second"), "JSON null reads as back-to-file (Java null)");
        assertTrue(back.settings().containsKey("sync.bandwidth_bytes_per_second"));
    }

    @Test
    void aChangeIsStoredInTheHubsLogAsTheFleetEventItWasBefore() {
        FleetChange c = new FleetChange.StreamChange("edge-1", "s", "hq", json("{}"));
        byte[] event = c.toStoredEvent();
        assertEquals(
                "{\"stream\":\"_fleet\",\"key\":\"edge-1\",\"data\":{\"target\":\"edge-1\",\"kind\":\"stream\","
                        + "\"name\":\"s\",\"origin\":\"hq\",\"definition\":{}}}",
                text(event));
        assertEquals(c, FleetChange.fromStoredEvent(event, 0, event.length));
        byte[] other = bytes("{\"stream\":\"_fleet\",\"key\":\"x\"}");
        assertNull(FleetChange.fromStoredEvent(other, 0, other.length), "no data: no change");
        assertTrue(c.isFor("edge-1") && !c.isFor("edge-2"));
        assertTrue(new FleetChange.StreamChange("all", "s", "hq", json("{}")).isFor("edge-2"));
    }

    @Test
    void aPullAnswerIsWrittenAsBeforeAndAnOldEdgeReadsIt() {
        FleetChange put = new FleetChange.StateChange("edge-1", "settings", "fan", false, "hq", json("{\"speed\":2}"));
        PullPage page = new PullPage(List.of(new PullPage.Change(7, 123456789L, put)), 9);
        String wire = text(page.toNdjson());
        assertEquals(
                "{\"seq\":7,\"hlc\":123456789,\"change\":{\"target\":\"edge-1\",\"kind\":\"state\",\"namespace\":"
                        + "\"settings\",\"id\":\"fan\",\"op\":\"put\",\"origin\":\"hq\",\"doc\":{\"speed\":2}}}\n"
                        + "{\"next\":9}\n",
                wire);
        // What the old edge's reader did with each line.
        String[] lines = wire.split("\n");
        assertTrue(lines[1].startsWith("{\"next\":"));
        assertEquals("9", lines[1].replaceAll("\\D", ""));
        int at = lines[0].indexOf("\"kind\":\"");
        assertTrue(lines[0].startsWith("state\"", at + 8), "the first kind is the change's");
        assertEquals(page, PullPage.parse(bytes(wire)));
        assertEquals(new PullPage(List.of(), 4), PullPage.parse(bytes("{\"next\":4}\n")), "nothing new");
        assertEquals(
                new PullPage(List.of(), 4), PullPage.parse(bytes("\n{\"next\":4}")), "blank lines, no final newline");
    }

    @Test
    void aChangeThisBuildCannotReadIsKeptAsUnreadableButABrokenAnswerFailsWhole() {
        PullPage page =
                PullPage.parse(bytes("{\"seq\":3,\"hlc\":5,\"change\":{\"target\":\"all\",\"kind\":\"rules\"}}\n"
                        + "{\"seq\":4,\"hlc\":6,\"change\":{\"target\":\"all\",\"kind\":\"state\",\"op\":\"put\"}}\n"
                        + "{\"next\":4}\n"));
        assertEquals(2, page.changes().size());
        FleetChange.Unreadable newer = assertInstanceOf(
                FleetChange.Unreadable.class, page.changes().get(0).change());
        assertEquals("rules", newer.kind());
        assertTrue(newer.problem().contains("unknown kind"), newer.problem());
        FleetChange.Unreadable broken = assertInstanceOf(
                FleetChange.Unreadable.class, page.changes().get(1).change());
        assertTrue(broken.problem().contains("\"namespace\""), broken.problem());
        WireException cut =
                assertThrows(WireException.class, () -> PullPage.parse(bytes("{\"seq\":3,\"hlc\":5,\"change\":{}}\n")));
        assertTrue(cut.getMessage().contains("cut short"), cut.getMessage());
        WireException noSeq = assertThrows(
                WireException.class, () -> PullPage.parse(bytes("{\"hlc\":5,\"change\":{}}\n{\"next\":1}")));
        assertTrue(noSeq.getMessage().contains("line 1") && noSeq.getMessage().contains("\"seq\""), noSeq.getMessage());
        WireException garbage = assertThrows(WireException.class, () -> PullPage.parse(bytes("{\"next\":1}\n{oops")));
        assertTrue(garbage.getMessage().contains("line 2"), garbage.getMessage());
    }

    @Test
    void statusAndFleetAnswersAreWrittenAsBefore() {
        Map<Lane, SyncStatus.LaneBacklog> offline = new EnumMap<>(Lane.class);
        for (Lane l : Lane.values()) {
            offline.put(
                    l,
                    new SyncStatus.LaneBacklog(l == Lane.NORMAL ? 5 : 0, l == Lane.NORMAL ? 90 : 0, true, 0, -1, -1));
        }
        assertEquals(
                "{\"upstream\":null,\"link\":\"offline\",\"reason\":\"no sync.upstream is configured\",\"lanes\":{"
                        + "\"critical\":{\"backlog_records\":0,\"backlog_bytes\":0,\"exact\":true,\"oldest_age_seconds\":0},"
                        + "\"high\":{\"backlog_records\":0,\"backlog_bytes\":0,\"exact\":true,\"oldest_age_seconds\":0},"
                        + "\"normal\":{\"backlog_records\":5,\"backlog_bytes\":90,\"exact\":true,\"oldest_age_seconds\":0},"
                        + "\"bulk\":{\"backlog_records\":0,\"backlog_bytes\":0,\"exact\":true,\"oldest_age_seconds\":0}}}",
                text(new SyncStatus(null, offline).toJson()));
        Map<Lane, SyncStatus.LaneBacklog> lanes = new EnumMap<>(Lane.class);
        lanes.put(Lane.CRITICAL, new SyncStatus.LaneBacklog(1, 2, false, 3, 4, 5));
        SyncStatus.Link link = new SyncStatus.Link(
                "https://hub:7443",
                "backing_off",
                2,
                0,
                new SyncStatus.LastError(99, "cannot connect to hub at hub:7443: connection \"refused\""),
                new SyncStatus.Sent(1, 2, 3, 4, 5, 6));
        assertEquals(
                "{\"upstream\":\"https://hub:7443\",\"link\":\"backing_off\",\"consecutive_failures\":2,"
                        + "\"last_success\":null,\"last_error\":{\"at\":99,\"message\":"
                        + "\"cannot connect to hub at hub:7443: connection \\\"refused\\\"\"},\"sent\":{\"batches\":1,"
                        + "\"records\":2,\"wire_bytes\":3,\"payload_bytes\":4,\"failures\":5,\"throttled\":6},\"lanes\":{"
                        + "\"critical\":{\"backlog_records\":1,\"backlog_bytes\":2,\"exact\":false,\"oldest_age_seconds\":3,"
                        + "\"acked_ranges\":4,\"next_unacked_seq\":5}}}",
                text(new SyncStatus(link, lanes).toJson()));
        FleetNodes nodes = new FleetNodes(List.of(
                new FleetNodes.Node("edge-1", true, Map.of(Lane.BULK, new FleetNodes.Received(1, 10, 11))),
                new FleetNodes.Node("edge-\"2", false, Map.of())));
        assertEquals(
                "{\"nodes\":[{\"node\":\"edge-1\",\"seen\":true,\"lanes\":{\"bulk\":{\"received_ranges\":1,"
                        + "\"received_records_upper_bound\":10,\"next_expected_seq\":11}}},"
                        + "{\"node\":\"edge-\\\"2\",\"seen\":false}]}",
                text(nodes.toJson()));
        FleetNodes active = new FleetNodes(List.of(
                new FleetNodes.Node(
                        "e",
                        true,
                        Map.of(),
                        new FleetNodes.Activity(5, 2500, 7, 8, 1, new FleetNodes.LastError(6, 400, "bad"))),
                new FleetNodes.Node("f", false, Map.of(), new FleetNodes.Activity(-1, -1, -1, -1, 0, null))));
        assertEquals(
                "{\"nodes\":[{\"node\":\"e\",\"seen\":true,\"lanes\":{},\"last_seen\":5,\"lag_seconds\":2,"
                        + "\"backlog_records\":7,\"backlog_bytes\":8,\"errors\":1,\"last_error\":{\"at\":6,\"status\":400,"
                        + "\"message\":\"bad\"}},{\"node\":\"f\",\"seen\":false,\"last_seen\":null,\"lag_seconds\":null,"
                        + "\"backlog_records\":null,\"backlog_bytes\":null,\"errors\":0,\"last_error\":null}]}",
                text(active.toJson()));
        assertEquals("{\"seq\":12,\"hlc\":34}", text(new Published(12, 34).toJson()));
        assertEquals(new Published(12, 34), Published.parse(bytes("{\"seq\":12,\"hlc\":34}")));
        assertEquals("{\"id\":\"ab12\"}", text(new DictionaryStored("ab12").toJson()));
        assertEquals(new DictionaryStored("ab12"), DictionaryStored.parse(bytes("{\"id\":\"ab12\"}")));
    }
}

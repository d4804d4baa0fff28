package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** Rules evaluated against stored event bytes: each operator true, false, missing and mismatched; groups; scores. */
class EvaluatorTest {
    /** A rule set from YAML: a map of rule name to rule. */
    static RuleSet rules(String yaml) {
        Map<String, Object> trees = new Yaml().load(yaml);
        List<RuleSpec> specs = new ArrayList<>();
        trees.forEach((name, tree) -> specs.add(RuleSpec.parse(name, tree)));
        return RuleSet.compile(specs, s -> null);
    }

    static List<Firing> run(Evaluator e, String stream, String eventJson) {
        byte[] b = ("  " + eventJson + "\n").getBytes(StandardCharsets.UTF_8);
        List<Firing> out = new ArrayList<>();
        e.evaluate(stream, b, 2, b.length - 2, out::add); // an offset, as a record inside a larger buffer
        return out;
    }

    /** Whether one condition (YAML flow map) holds on an event of stream s with this data. */
    static boolean holds(String condition, String data) {
        RuleSet set = rules("r: {stream: s, conditions: [" + condition + "]}");
        return !run(
                        set.evaluator(),
                        "s",
                        "{\"stream\":\"s\",\"key\":\"k-1\",\"ts\":1700000000000,\"data\":" + data + "}")
                .isEmpty();
    }

    @Test
    void numbersCompareByValueWhateverTheirForm() {
        assertTrue(holds("{field: n, op: gt, value: 5}", "{\"n\":6}"));
        assertFalse(holds("{field: n, op: gt, value: 5}", "{\"n\":5}"));
        assertTrue(holds("{field: n, op: gte, value: 5}", "{\"n\":5}"));
        assertTrue(holds("{field: n, op: lt, value: 5.5}", "{\"n\":5}"));
        assertFalse(holds("{field: n, op: lte, value: 4.99}", "{\"n\":5}"));
        assertTrue(holds("{field: n, op: eq, value: 5}", "{\"n\":5.0}"));
        assertTrue(holds("{field: n, op: eq, value: 0.1}", "{\"n\":0.1}"));
        assertTrue(holds("{field: n, op: ne, value: 5}", "{\"n\":-5}"));
        assertTrue(holds("{field: n, op: lt, value: 0}", "{\"n\":-1e3}"));
        // Beyond 2^53 a long is compared exactly, not through a double.
        assertTrue(holds("{field: n, op: gt, value: 9007199254740992.0}", "{\"n\":9007199254740993}"));
        assertTrue(holds("{field: n, op: gt, value: 9223372036854775806}", "{\"n\":9223372036854775807}"));
        // Beyond 64 bits the event's number is compared as a double.
        assertTrue(holds("{field: n, op: gt, value: 9223372036854775807}", "{\"n\":92233720368547758070}"));
    }

    @Test
    void aMissingFieldOrAnotherKindMakesALeafFalse() {
        for (String c : List.of(
                "{field: n, op: gt, value: 1}",
                "{field: n, op: eq, value: 1}",
                "{field: n, op: ne, value: 1}",
                "{field: n, op: in, value: [1, 2]}",
                "{field: n, op: not_in, value: [1, 2]}",
                "{field: n, op: between, value: [0, 9]}",
                "{field: n, op: regex, value: '.*'}",
                "{field: n, op: eq, value: x}",
                "{field: n, op: ne, value: x}",
                "{field: n, op: eq, value: true}",
                "{field: n, op: ne, value: true}")) {
            assertFalse(holds(c, "{}"), c + " on a missing field");
            for (String other : List.of("\"7\"", "7", "true", "null", "{\"a\":1}", "[1]")) {
                boolean sameKind = c.contains("value: x") || c.contains("regex")
                        ? other.startsWith("\"")
                        : c.contains("true") ? other.equals("true") : other.equals("7");
                if (!sameKind) {
                    assertFalse(holds(c, "{\"n\":" + other + "}"), c + " on " + other);
                }
            }
        }
    }

    @Test
    void stringsAndBooleans() {
        assertTrue(holds("{field: p, op: eq, value: TCP}", "{\"p\":\"TCP\"}"));
        assertFalse(holds("{field: p, op: eq, value: TCP}", "{\"p\":\"tcp\"}"));
        assertTrue(holds("{field: p, op: ne, value: TCP}", "{\"p\":\"UDP\"}"));
        assertFalse(holds("{field: p, op: ne, value: TCP}", "{\"p\":\"TCP\"}"));
        assertTrue(holds("{field: p, op: eq, value: 'caf\u00e9 \u2603'}", "{\"p\":\"caf\\u00e9 \u2603\"}"));
        assertTrue(holds("{field: b, op: eq, value: false}", "{\"b\":false}"));
        assertFalse(holds("{field: b, op: eq, value: false}", "{\"b\":true}"));
        assertTrue(holds("{field: b, op: ne, value: false}", "{\"b\":true}"));
    }

    @Test
    void inAndNotIn() {
        String protocols = "[UNKNOWN, EXPERIMENTAL]";
        assertTrue(holds("{field: p, op: in, value: " + protocols + "}", "{\"p\":\"EXPERIMENTAL\"}"));
        assertFalse(holds("{field: p, op: in, value: " + protocols + "}", "{\"p\":\"TCP\"}"));
        assertTrue(holds("{field: p, op: not_in, value: " + protocols + "}", "{\"p\":\"TCP\"}"));
        assertFalse(holds("{field: p, op: not_in, value: " + protocols + "}", "{\"p\":\"UNKNOWN\"}"));
        assertTrue(holds("{field: port, op: in, value: [22, 23, 3389]}", "{\"port\":23}"));
        assertTrue(holds("{field: port, op: in, value: [22, 23, 3389]}", "{\"port\":23.0}"));
        assertFalse(holds("{field: port, op: in, value: [22, 23, 3389]}", "{\"port\":23.5}"));
        assertTrue(holds("{field: x, op: in, value: [0.5, 1.5]}", "{\"x\":1.5}"));
        assertTrue(holds("{field: x, op: in, value: [2.0]}", "{\"x\":2}"));
        assertTrue(holds("{field: b, op: in, value: [true]}", "{\"b\":true}"));
        assertTrue(holds("{field: b, op: not_in, value: [true]}", "{\"b\":false}"));
        // A long list, with colliding hashes ("Aa" and "BB" share String.hashCode).
        StringBuilder many = new StringBuilder("[Aa");
        for (int i = 0; i < 999; i++) {
            many.append(", v").append(i);
        }
        String list = many.append("]").toString();
        assertTrue(holds("{field: p, op: in, value: " + list + "}", "{\"p\":\"v998\"}"));
        assertTrue(holds("{field: p, op: in, value: " + list + "}", "{\"p\":\"Aa\"}"));
        assertFalse(holds("{field: p, op: in, value: " + list + "}", "{\"p\":\"BB\"}"));
    }

    @Test
    void existsAndBetween() {
        assertTrue(holds("{field: a, op: exists}", "{\"a\":null}"));
        assertTrue(holds("{field: a, op: exists}", "{\"a\":{}}"));
        assertFalse(holds("{field: a, op: exists}", "{\"b\":1}"));
        assertTrue(holds("{field: a, op: exists, value: false}", "{\"b\":1}"));
        assertFalse(holds("{field: a, op: exists, value: false}", "{\"a\":0}"));
        assertTrue(holds("{field: d, op: between, value: [10, 20]}", "{\"d\":10}"));
        assertTrue(holds("{field: d, op: between, value: [10, 20]}", "{\"d\":20.0}"));
        assertFalse(holds("{field: d, op: between, value: [10, 20]}", "{\"d\":20.001}"));
        assertFalse(holds("{field: d, op: between, value: [10, 20]}", "{\"d\":9}"));
        assertTrue(holds("{field: d, op: between, value: [-0.5, 0.5]}", "{\"d\":0}"));
    }

    @Test
    void regexSearchesWithRe2AndSkipsLongInputsCountingThem() {
        assertTrue(holds("{field: ua, op: regex, value: 'bot|crawl'}", "{\"ua\":\"Googlebot/2.1\"}"));
        assertFalse(holds("{field: ua, op: regex, value: '^bot'}", "{\"ua\":\"Googlebot/2.1\"}"));
        assertTrue(holds("{field: ua, op: regex, value: '^\\d+\\.\\d+$'}", "{\"ua\":\"10.25\"}"));
        // The classic catastrophic pattern for a backtracking engine: linear here.
        String a = "a".repeat(1000) + "!";
        assertFalse(holds("{field: s, op: regex, value: '^(a+)+$'}", "{\"s\":\"" + a + "\"}"));

        RuleSet set = rules("r: {stream: s, conditions: [{field: s, op: regex, value: 'x', max_input_chars: 8}]}");
        Evaluator e = set.evaluator();
        assertEquals(
                1,
                run(e, "s", "{\"stream\":\"s\",\"data\":{\"s\":\"1234567x\"}}").size(),
                "8 chars");
        assertEquals(0, e.regexInputsTooLong());
        assertEquals(
                0,
                run(e, "s", "{\"stream\":\"s\",\"data\":{\"s\":\"12345678x\"}}").size(),
                "9 chars");
        assertEquals(1, e.regexInputsTooLong());
        // Longer than any slot keeps: still counted, never matched.
        String huge = "x".repeat(EventFields.STRING_CHARS_MAX + 10);
        RuleSet wide = rules("r: {stream: s, conditions: [{field: s, op: regex, value: 'x', max_input_chars: 65536}]}");
        Evaluator w = wide.evaluator();
        assertEquals(
                0,
                run(w, "s", "{\"stream\":\"s\",\"data\":{\"s\":\"" + huge + "\"}}")
                        .size());
        assertEquals(1, w.regexInputsTooLong());
        assertEquals(
                1,
                run(w, "s", "{\"stream\":\"s\",\"data\":{\"s\":\"" + "x".repeat(65_536) + "\"}}")
                        .size());
    }

    @Test
    void groupsNestAndNotIsPlainNegation() {
        String rule = """
                {op: any, conditions: [
                  {op: all, conditions: [{field: a, op: eq, value: 1}, {field: b, op: eq, value: 2}]},
                  {op: not, conditions: [{field: c, op: exists}]}]}""";
        assertTrue(holds(rule, "{\"a\":1,\"b\":2,\"c\":0}"));
        assertFalse(holds(rule, "{\"a\":1,\"b\":3,\"c\":0}"));
        assertTrue(holds(rule, "{\"a\":1,\"b\":3}"));
        assertTrue(holds("{op: not, conditions: [{field: x, op: eq, value: 1}]}", "{}"));
        assertFalse(holds("{op: not, conditions: [{field: x, op: eq, value: 1}]}", "{\"x\":1}"));
    }

    @Test
    void pathsReachTheEventItsDataAndArrays() {
        String event = """
                {"stream":"s","key":"dev-7","ts":1700000000000,"priority":"high","id":"e1",
                 "data":{"http":{"status":503,"a/b":{"~x":true}},"tags":["edge","blue"],"rows":[{"v":1},{"v":42}]}}""";
        RuleSet set = rules("""
                key:      {stream: s, conditions: [{field: /key, op: regex, value: '^dev-'}]}
                ts:       {stream: s, conditions: [{field: /ts, op: gt, value: 1600000000000}]}
                stream:   {stream: s, conditions: [{field: /stream, op: eq, value: s}]}
                priority: {stream: s, conditions: [{field: /priority, op: eq, value: high}]}
                id:       {stream: s, conditions: [{field: /id, op: eq, value: e1}]}
                dotted:   {stream: s, conditions: [{field: http.status, op: gte, value: 500}]}
                pointer:  {stream: s, conditions: [{field: /data/http/status, op: eq, value: 503}]}
                escaped:  {stream: s, conditions: [{field: /data/http/a~1b/~0x, op: eq, value: true}]}
                index:    {stream: s, conditions: [{field: /data/tags/1, op: eq, value: blue}]}
                indexDot: {stream: s, conditions: [{field: tags.0, op: eq, value: edge}]}
                deep:     {stream: s, conditions: [{field: /data/rows/1/v, op: eq, value: 42}]}
                past:     {stream: s, conditions: [{field: /data/tags/2, op: exists}]}
                whole:    {stream: s, conditions: [{field: /data/http, op: exists}]}
                """);
        List<String> fired = run(set.evaluator(), "s", event.replace("\n", "")).stream()
                .map(f -> f.rule().name())
                .toList();
        assertEquals(
                List.of(
                        "deep",
                        "dotted",
                        "escaped",
                        "id",
                        "index",
                        "indexDot",
                        "key",
                        "pointer",
                        "priority",
                        "stream",
                        "ts",
                        "whole"),
                fired);
    }

    static final String LEDGER = """
            ledger-exfil:
              stream: ledger
              threshold: 0.7
              severity: critical
              group_by: source_ip
              conditions:
                - {field: bytes_transferred, op: gt, value: 1000000, weight: 0.6}
                - {field: protocol, op: in, value: [UNKNOWN, EXPERIMENTAL], weight: 0.4}
            """;

    static String ledgerEvent(long bytes, String protocol) {
        return "{\"stream\":\"ledger\",\"key\":\"gw-1\",\"ts\":1700000000000,\"data\":{\"source_ip\":\"10.0.3.7\","
                + "\"dest_ip\":\"10.9.0.1\",\"bytes_transferred\":" + bytes + ",\"protocol\":\"" + protocol
                + "\",\"port\":443,\"duration_ms\":12}}";
    }

    @Test
    void theLedgerRuleFiresOnlyWhenBothConditionsHold() {
        Evaluator e = rules(LEDGER).evaluator();
        assertEquals(List.of(), run(e, "ledger", ledgerEvent(5_000_000, "TCP")), "0.6 alone is not above 0.7");
        assertEquals(List.of(), run(e, "ledger", ledgerEvent(100, "UNKNOWN")), "0.4 alone is not above 0.7");
        assertEquals(List.of(), run(e, "ledger", ledgerEvent(1_000_000, "EXPERIMENTAL")), "gt is strict");
        List<Firing> both = run(e, "ledger", ledgerEvent(1_000_001, "EXPERIMENTAL"));
        assertEquals(1, both.size());
        Firing f = both.getFirst();
        assertEquals("ledger-exfil", f.rule().name());
        assertEquals(1.0, f.score(), 1e-12);
        assertEquals(
                List.of(new FiredCondition("1", "bytes_transferred", 0.6), new FiredCondition("2", "protocol", 0.4)),
                f.conditions());
        assertEquals("10.0.3.7", f.groupKey());
        assertEquals(List.of(), run(e, "other", ledgerEvent(1_000_001, "EXPERIMENTAL")), "another stream");
    }

    @Test
    void withoutAThresholdEveryConditionMustHoldAndAThresholdOfZeroNeedsOne() {
        Evaluator all = rules("r: {stream: s, conditions: [{field: a, op: exists}, {field: b, op: exists, weight: 0}]}")
                .evaluator();
        assertEquals(0, run(all, "s", "{\"stream\":\"s\",\"data\":{\"a\":1}}").size());
        Firing f =
                run(all, "s", "{\"stream\":\"s\",\"data\":{\"a\":1,\"b\":2}}").getFirst();
        assertEquals(1.0, f.score());
        assertEquals(2, f.conditions().size());
        Evaluator any = rules(
                        "r: {stream: s, threshold: 0, conditions: [{field: a, op: exists}, {field: b, op: exists}]}")
                .evaluator();
        assertEquals(0, run(any, "s", "{\"stream\":\"s\",\"data\":{}}").size());
        Firing one = run(any, "s", "{\"stream\":\"s\",\"data\":{\"b\":2}}").getFirst();
        assertEquals(List.of(new FiredCondition("2", "b", 1.0)), one.conditions());
    }

    @Test
    void scoresCloseToTheThresholdAreDecidedOnTheDeclaredSum() {
        // 0.1 + 0.2 is 0.30000000000000004 in doubles: above 0.3, so it fires, whatever order the tests ran in.
        Evaluator e = rules("r: {stream: s, threshold: 0.3, conditions: [{field: a, op: exists, weight: 0.1},"
                        + " {field: b, op: regex, value: x, weight: 0.2}, {field: c, op: exists, weight: 0.05}]}")
                .evaluator();
        assertEquals(
                1,
                run(e, "s", "{\"stream\":\"s\",\"data\":{\"a\":1,\"b\":\"x\"}}").size());
        assertEquals(
                0, run(e, "s", "{\"stream\":\"s\",\"data\":{\"a\":1,\"c\":1}}").size());
    }

    @Test
    void groupKeysAreTheValuesTextAndRulesFireInNameOrder() {
        RuleSet set = rules("""
                zeta:  {stream: s, group_by: n, conditions: [{field: n, op: exists}]}
                alpha: {stream: s, group_by: /key, conditions: [{field: n, op: exists}]}
                mid:   {stream: s, group_by: o, conditions: [{field: n, op: exists}]}
                """);
        List<Firing> f = run(set.evaluator(), "s", "{\"stream\":\"s\",\"key\":\"k\",\"data\":{\"n\":1.50,\"o\":{}}}");
        assertEquals(
                List.of("alpha", "mid", "zeta"),
                f.stream().map(x -> x.rule().name()).toList());
        assertEquals("k", f.get(0).groupKey());
        assertNull(f.get(1).groupKey(), "an object has no group key");
        assertEquals("1.50", f.get(2).groupKey(), "a number as written");
        Firing noKey = run(set.evaluator(), "s", "{\"stream\":\"s\",\"data\":{\"n\":true}}")
                .get(0);
        assertNull(noKey.groupKey(), "a missing group_by field");
    }

    @Test
    void unreadableEventsAreCountedAndTheNextEventIsReadCleanly() {
        Evaluator e = rules(LEDGER).evaluator();
        for (String bad : List.of(
                "{\"stream\":\"ledger\",\"data\":{\"bytes_transferred\":5000000,",
                "{\"stream\":\"ledger\"} {\"x\":1}",
                "[1,2]",
                "{\"stream\":\"ledger\",\"data\":{\"bytes_transferred\":5000000,\"protocol\":\"UNKNOWN\"}}}",
                "not json")) {
            assertEquals(List.of(), run(e, "ledger", bad), bad);
            assertEquals(1, run(e, "ledger", ledgerEvent(2_000_000, "UNKNOWN")).size(), "after " + bad);
        }
        assertEquals(5, e.eventsUnreadable());
    }

    @Test
    void memberOrderWhitespaceAndALaterDuplicate() {
        Evaluator e = rules(LEDGER).evaluator();
        String event = "{ \"data\" : { \"protocol\" : \"UNKNOWN\", \"nested\": {\"bytes_transferred\": 1},"
                + " \"bytes_transferred\" : 1, \"bytes_transferred\": 2000000 }, \"stream\": \"ledger\" }";
        assertEquals(1, run(e, "ledger", event).size());
    }

    @Test
    void manyEventsInARow() {
        Evaluator e = rules(LEDGER).evaluator();
        int fired = 0;
        for (int i = 0; i < 140_000; i++) {
            fired += run(e, "ledger", ledgerEvent(i % 2 == 0 ? 2_000_000 : 10, i % 3 == 0 ? "UNKNOWN" : "TCP"))
                    .size();
        }
        int expected = 0;
        for (int i = 0; i < 140_000; i++) {
            expected += i % 2 == 0 && i % 3 == 0 ? 1 : 0;
        }
        assertEquals(expected, fired);
        assertEquals(0, e.eventsUnreadable());
    }

    /** Bytes allocated per event by evaluating non-firing ledger events, after a warm-up. */
    static long allocatedPerEvent(RuleSet set) {
        Evaluator e = set.evaluator();
        byte[][] events = new byte[16][];
        for (int i = 0; i < events.length; i++) {
            events[i] = ledgerEvent(1000L * i, i % 2 == 0 ? "TCP" : "UNKNOWN").getBytes(StandardCharsets.UTF_8);
        }
        Evaluator.Sink sink = f -> {
            throw new AssertionError("nothing should fire: " + f);
        };
        for (int i = 0; i < 20_000; i++) { // warm up, so class loading and the JIT are done
            byte[] b = events[i % events.length];
            e.evaluate("ledger", b, 0, b.length, sink);
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        int n = 50_000;
        for (int i = 0; i < n; i++) {
            byte[] b = events[i % events.length];
            e.evaluate("ledger", b, 0, b.length, sink);
        }
        return (threads.getCurrentThreadAllocatedBytes() - before) / n;
    }

    @Test
    void anEventThatFiresNothingAllocatesNothing() {
        // Regexes that the early stop never reaches (port 443 is not in the list) cost nothing either.
        RuleSet set = rules(LEDGER + """
                ports: {stream: ledger, conditions: [{field: port, op: in, value: [22, 23]}, {field: dest_ip, op: regex, value: '^10\\.'}]}
                slow:  {stream: ledger, threshold: 1, conditions: [{field: duration_ms, op: between, value: [1000, 60000], weight: 2},
                        {op: any, conditions: [{field: protocol, op: eq, value: UDP}, {field: port, op: lt, value: 0}]}]}
                """);
        assertEquals(0, allocatedPerEvent(set));
    }

    @Test
    void aRegexThatIsTestedAllocatesOnlyRe2jsInputWrapper() {
        // re2j wraps its input in a new MachineInput on every match (24 bytes); documented in docs/RULES.md.
        RuleSet set = rules("r: {stream: ledger, conditions: [{field: dest_ip, op: regex, value: '^192\\.'}]}");
        assertTrue(allocatedPerEvent(set) <= 32, "bytes per event");
    }

    @Test
    void onlyWatchedStreamsAreRead() {
        RuleSet set = rules(LEDGER);
        assertTrue(set.watches("ledger"));
        assertFalse(set.watches("other"));
        Evaluator e = set.evaluator();
        run(e, "other", "garbage");
        assertEquals(0, e.eventsUnreadable(), "an event of a stream no rule selects is not read");
        assertEquals(List.of(), RuleSet.EMPTY.specs());
        assertFalse(RuleSet.EMPTY.watches("ledger"));
        RuleSet.EMPTY.evaluator().evaluate("ledger", new byte[0], 0, 0, x -> {
            throw new AssertionError();
        });
    }
}

package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.streams.StreamSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** Compiling rule sets: all or nothing, names unique, and conditions checked against the stream's schema. */
class RuleSetTest {
    static final StreamSchema LEDGER_SCHEMA = StreamSchema.compile(new Yaml().load("""
            type: object
            properties:
              bytes_transferred: {type: integer}
              protocol: {type: string}
              ratio: {type: number}
              ok: {type: boolean}
              http: {type: object, properties: {status: {type: integer}}}
              tags: {type: array}
              anything: {}
            """));

    static final Function<String, StreamSchema> SCHEMAS = s -> s.equals("ledger") ? LEDGER_SCHEMA : null;

    static RuleSpec rule(String name, String yaml) {
        return RuleSpec.parse(name, new Yaml().load(yaml));
    }

    static RuleSpec ledger(String name, String condition) {
        return rule(name, "{stream: ledger, conditions: [{field: ok, op: exists}, " + condition + "]}");
    }

    static RuleRefusal refusedBySchema(String condition, String field) {
        RuleSpec spec = ledger("r", condition);
        RuleSet.compile(List.of(spec), s -> null); // fine without the schema
        RuleRefusal e = assertThrows(RuleRefusal.class, () -> RuleSet.compile(List.of(spec), SCHEMAS));
        assertEquals("r", e.rule());
        assertEquals("2", e.condition(), e.getMessage());
        assertEquals(field, e.field(), e.getMessage());
        return e;
    }

    @Test
    void anUnknownFieldIsRefusedAgainstASchema() {
        RuleRefusal e = refusedBySchema("{field: bytes, op: gt, value: 1}", "bytes");
        assertTrue(e.getMessage().contains("does not declare data member 'bytes'"), e.getMessage());
        refusedBySchema("{field: http.code, op: exists}", "http.code");
        refusedBySchema("{field: /data/http/status/x, op: exists}", "/data/http/status/x");
        RuleSpec nested =
                ledger("r", "{op: any, conditions: [{field: protocol, op: exists}, {field: proto, op: exists}]}");
        RuleRefusal n = assertThrows(RuleRefusal.class, () -> RuleSet.compile(List.of(nested), SCHEMAS));
        assertEquals("2.2", n.condition());
        assertEquals("proto", n.field());
    }

    @Test
    void aTypeMismatchIsRefusedAgainstASchema() {
        RuleRefusal e = refusedBySchema("{field: protocol, op: gt, value: 3}", "protocol");
        assertTrue(e.getMessage().contains("holds a string"), e.getMessage());
        assertTrue(refusedBySchema("{field: bytes_transferred, op: eq, value: x}", "bytes_transferred")
                .getMessage()
                .contains("can never hold"));
        refusedBySchema("{field: bytes_transferred, op: eq, value: 1.5}", "bytes_transferred");
        refusedBySchema("{field: bytes_transferred, op: regex, value: '^1'}", "bytes_transferred");
        refusedBySchema("{field: protocol, op: in, value: [1, 2]}", "protocol");
        refusedBySchema("{field: protocol, op: eq, value: true}", "protocol");
        refusedBySchema("{field: ok, op: between, value: [0, 1]}", "ok");
        refusedBySchema("{field: http, op: eq, value: 1}", "http");
    }

    @Test
    void whatTheSchemaAllowsCompiles() {
        RuleSet set = RuleSet.compile(
                List.of(
                        ledger("a", "{field: bytes_transferred, op: between, value: [1, 2.5]}"),
                        ledger("b", "{field: ratio, op: eq, value: 1}"),
                        ledger("c", "{field: bytes_transferred, op: in, value: [1, 2.0]}"),
                        ledger("d", "{field: tags.0, op: eq, value: x}"),
                        ledger("e", "{field: anything, op: gt, value: 1}"),
                        ledger("f", "{field: /data/http/status, op: gte, value: 500}"),
                        ledger("g", "{field: /key, op: regex, value: x}"),
                        ledger("h", "{field: /ts, op: gt, value: 0}"),
                        ledger("i", "{field: http, op: exists}"),
                        rule(
                                "j",
                                "{stream: ledger, group_by: protocol, conditions: [{field: ok, op: eq, value: true}]}")),
                SCHEMAS);
        assertEquals(10, set.specs().size());
        RuleRefusal e = assertThrows(
                RuleRefusal.class,
                () -> RuleSet.compile(
                        List.of(rule("k", "{stream: ledger, group_by: proto, conditions: [{field: ok, op: exists}]}")),
                        SCHEMAS));
        assertEquals("proto", e.field());
        assertNull(e.condition());
    }

    @Test
    void aSetCompilesAllOrNothingAndNamesTheFirstBadRule() {
        RuleSpec good = ledger("good", "{field: protocol, op: eq, value: TCP}");
        RuleSpec badB = ledger("b-bad", "{field: protocol, op: gt, value: 1}");
        RuleSpec badA = ledger("a-bad", "{field: nope, op: exists}");
        RuleRefusal e = assertThrows(RuleRefusal.class, () -> RuleSet.compile(List.of(good, badB, badA), SCHEMAS));
        assertEquals("a-bad", e.rule());
        RuleSet set = RuleSet.compile(List.of(good), SCHEMAS);
        assertThrows(RuleRefusal.class, () -> set.with(badB, SCHEMAS));
        assertEquals(List.of(good), set.specs(), "a refused change leaves the set as it was");
    }

    @Test
    void namesAreUniqueSortedAndBounded() {
        RuleSpec x1 = ledger("x", "{field: protocol, op: eq, value: TCP}");
        RuleSpec x2 = ledger("x", "{field: protocol, op: eq, value: UDP}");
        assertEquals(
                "name",
                assertThrows(RuleRefusal.class, () -> RuleSet.compile(List.of(x1, x2), SCHEMAS))
                        .field());
        RuleSpec y = ledger("y", "{field: protocol, op: eq, value: TCP}");
        RuleSpec w = rule("w", "{stream: other, conditions: [{field: a, op: exists}]}");
        RuleSet set = RuleSet.compile(List.of(y, x1, w), SCHEMAS);
        assertEquals(
                List.of("w", "x", "y"), set.specs().stream().map(RuleSpec::name).toList());
        assertSame(x1, set.spec("x"));
        assertNull(set.spec("z"));
        RuleSet replaced = set.with(x2, SCHEMAS);
        assertSame(x2, replaced.spec("x"));
        assertSame(x1, set.spec("x"), "sets are immutable");
        RuleSet fewer = replaced.without("w", SCHEMAS);
        assertEquals(
                List.of("x", "y"), fewer.specs().stream().map(RuleSpec::name).toList());
        assertTrue(!fewer.watches("other") && fewer.watches("ledger"));
        assertSame(fewer, fewer.without("nothing", SCHEMAS));

        List<RuleSpec> many = new ArrayList<>();
        for (int i = 0; i <= RuleSet.RULES_MAX; i++) {
            many.add(rule(String.format("r%04d", i), "{stream: s, conditions: [{field: a, op: exists}]}"));
        }
        RuleRefusal e = assertThrows(RuleRefusal.class, () -> RuleSet.compile(many, SCHEMAS));
        assertEquals("r1000", e.rule());
        assertEquals(
                RuleSet.RULES_MAX,
                RuleSet.compile(many.subList(0, RuleSet.RULES_MAX), SCHEMAS)
                        .specs()
                        .size());
    }

    @Test
    void rulesOfOneStreamShareTheirFieldsAndEachSeesItsOwnRegexes() {
        RuleSet set = RuleSet.compile(
                List.of(
                        rule("p", "{stream: s, conditions: [{field: a, op: regex, value: '^x'}]}"),
                        rule("q", "{stream: s, conditions: [{field: a, op: regex, value: 'y$'}]}"),
                        rule("r", "{stream: t, conditions: [{field: /data/a, op: regex, value: 'z'}]}")),
                null);
        Evaluator e = set.evaluator();
        List<String> fired = new ArrayList<>();
        byte[] b = "{\"stream\":\"s\",\"data\":{\"a\":\"xzy\"}}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        e.evaluate("s", b, 0, b.length, f -> fired.add(f.rule().name()));
        e.evaluate("t", b, 0, b.length, f -> fired.add(f.rule().name()));
        assertEquals(List.of("p", "q", "r"), fired);
        Map<String, Object> tree = set.spec("p").toTree();
        assertEquals("^x", ((Map<?, ?>) ((List<?>) tree.get("conditions")).getFirst()).get("value"));
    }
}

package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.json.JsonTree;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** Rules read from YAML and JSON trees: defaults, normalisation, the round trip, and each refusal's rule, condition and field. */
class RuleSpecTest {
    static Object yaml(String text) {
        return new Yaml().load(text);
    }

    static Object json(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return JsonTree.parse(b, 0, b.length);
    }

    static final String LEDGER = """
            stream: ledger
            threshold: 0.7
            severity: critical
            group_by: source_ip
            cooldown: 5m
            conditions:
              - {field: bytes_transferred, op: gt, value: 1000000, weight: 0.6}
              - {field: protocol, op: in, value: [UNKNOWN, EXPERIMENTAL], weight: 0.4}
            """;

    @Test
    void theLedgerRuleReadsFromYamlWithItsParts() {
        RuleSpec r = RuleSpec.parse("ledger-exfil", yaml(LEDGER));
        assertEquals("ledger-exfil", r.name());
        assertEquals("ledger", r.stream());
        assertEquals(0.7, r.threshold());
        assertEquals("critical", r.severity());
        assertEquals("source_ip", r.groupBy());
        assertEquals(300_000, r.cooldownMillis());
        assertEquals(
                new ConditionSpec("bytes_transferred", "gt", 1_000_000L, 0.6, List.of()),
                r.conditions().get(0));
        assertEquals(List.of("UNKNOWN", "EXPERIMENTAL"), r.conditions().get(1).value());
    }

    @Test
    void yamlAndJsonGiveEqualRulesAndToTreeReadsBack() {
        RuleSpec fromYaml = RuleSpec.parse("r", yaml(LEDGER));
        RuleSpec fromJson = RuleSpec.parse("r", json("""
                {"stream":"ledger","threshold":0.7,"severity":"critical","group_by":"source_ip","cooldown_millis":300000,
                 "conditions":[{"field":"bytes_transferred","op":"gt","value":1000000,"weight":0.6},
                               {"field":"protocol","op":"in","value":["UNKNOWN","EXPERIMENTAL"],"weight":0.4}]}"""));
        assertEquals(fromYaml, fromJson);
        assertEquals(fromYaml, RuleSpec.parse("r", fromYaml.toTree()));
        assertEquals("5m", fromYaml.toTree().get("cooldown"));
        // Through JSON bytes too, as persistence does.
        byte[] written = JsonTree.write(fromYaml.toTree());
        assertEquals(fromYaml, RuleSpec.parse("r", JsonTree.parse(written, 0, written.length)));
    }

    @Test
    void nestedGroupsRegexAndDefaultsRoundTrip() {
        RuleSpec r = RuleSpec.parse("g", yaml("""
                stream: web
                conditions:
                  - op: any
                    weight: 2
                    conditions:
                      - {field: /key, op: regex, value: '^bot-[0-9]+$', max_input_chars: 64}
                      - op: not
                        conditions: [{field: http.status, op: between, value: [200, 399]}]
                  - {field: /data/user, op: exists}
                  - {field: ok, op: eq, value: true}
                """));
        assertNull(r.threshold());
        assertEquals("warning", r.severity());
        assertEquals(0, r.cooldownMillis());
        assertEquals(2.0, r.conditions().get(0).weight());
        assertEquals(64, r.conditions().get(0).children().get(0).maxInputChars());
        assertEquals(Boolean.TRUE, r.conditions().get(1).value());
        assertEquals(r, RuleSpec.parse("g", r.toTree()));
        Map<String, Object> tree = r.toTree();
        assertTrue(!tree.containsKey("threshold") && !tree.containsKey("cooldown"), tree.toString());
    }

    @Test
    void cooldownFormsAndTheirWrittenForm() {
        assertEquals(500, cooldown("500ms"));
        assertEquals(30_000, cooldown("30s"));
        assertEquals(3_600_000, cooldown("1h"));
        assertEquals(86_400_000, cooldown("1d"));
        assertEquals("90s", RuleTree.duration(90_000));
        assertEquals("1500ms", RuleTree.duration(1_500));
        assertEquals("2h", RuleTree.duration(7_200_000));
    }

    private static long cooldown(String d) {
        return RuleSpec.parse("c", yaml("{stream: s, cooldown: " + d + ", conditions: [{field: a, op: exists}]}"))
                .cooldownMillis();
    }

    /** Parses and expects a refusal naming this condition and field; returns it for the sentence. */
    static RuleRefusal refused(String rule, String condition, String field, String yaml) {
        RuleRefusal e = assertThrows(RuleRefusal.class, () -> RuleSpec.parse(rule, yaml(yaml)));
        assertEquals(rule, e.rule(), e.getMessage());
        assertEquals(condition, e.condition(), e.getMessage());
        assertEquals(field, e.field(), e.getMessage());
        return e;
    }

    @Test
    void ruleLevelRefusalsNameTheKey() {
        refused("bad name!", null, "name", "{stream: s, conditions: [{field: a, op: exists}]}");
        refused("r", null, "stream", "{conditions: [{field: a, op: exists}]}");
        refused("r", null, "stream", "{stream: 'no spaces', conditions: [{field: a, op: exists}]}");
        refused("r", null, "conditions", "{stream: s}");
        refused("r", null, "conditions", "{stream: s, conditions: []}");
        RuleRefusal unknown =
                refused("r", null, "treshold", "{stream: s, treshold: 1, conditions: [{field: a, op: exists}]}");
        assertTrue(unknown.getMessage().contains("allowed: conditions, cooldown"), unknown.getMessage());
        refused("r", null, "severity", "{stream: s, severity: fatal, conditions: [{field: a, op: exists}]}");
        refused("r", null, "cooldown", "{stream: s, cooldown: 5 minutes, conditions: [{field: a, op: exists}]}");
        refused("r", null, "cooldown", "{stream: s, cooldown: 8d, conditions: [{field: a, op: exists}]}");
        refused(
                "r",
                null,
                "cooldown",
                "{stream: s, cooldown: 1s, cooldown_millis: 1000, conditions: [{field: a, op: exists}]}");
        refused("r", null, "threshold", "{stream: s, threshold: high, conditions: [{field: a, op: exists}]}");
        refused("r", null, "threshold", "{stream: s, threshold: -1, conditions: [{field: a, op: exists}]}");
        refused("r", null, "group_by", "{stream: s, group_by: '', conditions: [{field: a, op: exists}]}");
        refused("r", null, "bogus.", "{stream: s, group_by: 'bogus.', conditions: [{field: a, op: exists}]}");
    }

    @Test
    void aThresholdTheWeightsCannotExceedIsRefused() {
        RuleRefusal e = refused("r", null, "threshold", """
                {stream: s, threshold: 1.0, conditions: [{field: a, op: exists, weight: 0.6}, {field: b, op: exists, weight: 0.4}]}""");
        assertTrue(e.getMessage().contains("can never fire"), e.getMessage());
        RuleSpec.parse("r", yaml("""
                {stream: s, threshold: 0.99, conditions: [{field: a, op: exists, weight: 0.6}, {field: b, op: exists, weight: 0.4}]}"""));
    }

    @Test
    void conditionRefusalsNameTheConditionAndField() {
        refused("r", "1", "a", "{stream: s, conditions: [{field: a}]}");
        refused("r", "1", "a", "{stream: s, conditions: [{field: a, op: like, value: x}]}");
        RuleRefusal colour = refused(
                "r",
                "2",
                "a",
                "{stream: s, conditions: [{field: a, op: exists}, {field: a, op: eq, value: 1, colour: red}]}");
        assertTrue(colour.getMessage().contains("unknown key 'colour'"), colour.getMessage());
        refused("r", "1", "b", "{stream: s, conditions: [{field: b, op: gt, value: ten}]}");
        refused("r", "1", "b", "{stream: s, conditions: [{field: b, op: eq, value: [1, 2]}]}");
        refused("r", "1", "b", "{stream: s, conditions: [{field: b, op: in, value: []}]}");
        refused("r", "1", "b", "{stream: s, conditions: [{field: b, op: in, value: [a, 1]}]}");
        refused("r", "1", "b", "{stream: s, conditions: [{field: b, op: between, value: [5, 1]}]}");
        refused("r", "1", "b", "{stream: s, conditions: [{field: b, op: between, value: [1]}]}");
        refused("r", "1", "b", "{stream: s, conditions: [{field: b, op: exists, value: maybe}]}");
        refused("r", "1", "b", "{stream: s, conditions: [{field: b, op: eq, value: 1, weight: -1}]}");
        refused("r", "1", "b", "{stream: s, conditions: [{field: b, op: eq, value: 1, max_input_chars: 10}]}");
        refused("r", "1", "b", "{stream: s, conditions: [{field: b, op: regex, value: 'x', max_input_chars: 100000}]}");
        refused(
                "r",
                "1",
                "b",
                "{stream: s, conditions: [{field: b, op: eq, value: 1, conditions: [{field: c, op: exists}]}]}");
        refused("r", "1", null, "{stream: s, conditions: [{op: eq, value: 1}]}");
        refused("r", "1", "/nope", "{stream: s, conditions: [{field: /nope, op: exists}]}");
        refused("r", "1", "/key/x", "{stream: s, conditions: [{field: /key/x, op: exists}]}");
        refused("r", "1", "a..b", "{stream: s, conditions: [{field: a..b, op: exists}]}");
        refused("r", "1", "/data/a~2", "{stream: s, conditions: [{field: /data/a~2, op: exists}]}");
        refused("r", "1", "/key", "{stream: s, conditions: [{field: /key, op: gt, value: 3}]}");
        String deep = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p";
        refused("r", "1", deep, "{stream: s, conditions: [{field: " + deep + ", op: exists}]}");
    }

    @Test
    void anInvalidRegexIsRefusedNamingConditionAndField() {
        RuleRefusal e = refused("r", "2.1", "path", """
                stream: s
                conditions:
                  - {field: a, op: exists}
                  - op: all
                    conditions: [{field: path, op: regex, value: '(unclosed'}]
                """);
        assertTrue(e.getMessage().contains("invalid regex"), e.getMessage());
        // Backreferences are what make backtracking engines exponential; RE2 has none and refuses them.
        refused("r", "1", "a", "{stream: s, conditions: [{field: a, op: regex, value: '(a)\\1'}]}");
        refused("r", "1", "a", "{stream: s, conditions: [{field: a, op: regex, value: '" + "a".repeat(1025) + "'}]}");
    }

    @Test
    void groupRefusalsNameTheNestedCondition() {
        refused(
                "r",
                "1",
                null,
                "{stream: s, conditions: [{op: not, conditions: [{field: a, op: exists}, {field: b, op: exists}]}]}");
        refused("r", "1", null, "{stream: s, conditions: [{op: all, conditions: []}]}");
        refused("r", "1", "a", "{stream: s, conditions: [{op: any, field: a, conditions: [{field: a, op: exists}]}]}");
        refused(
                "r",
                "1.2",
                "b",
                "{stream: s, conditions: [{op: any, conditions: [{field: a, op: exists}, {field: b, op: exists, weight: 2}]}]}");
        refused(
                "r",
                "1.1.1",
                "zz",
                "{stream: s, conditions: [{op: any, conditions: [{op: not, conditions: [{field: zz, op: lt}]}]}]}");
        StringBuilder deep = new StringBuilder("{field: a, op: exists}");
        for (int i = 0; i < RuleSpec.GROUP_DEPTH_MAX + 1; i++) {
            deep = new StringBuilder("{op: not, conditions: [" + deep + "]}");
        }
        refused("r", "1.1.1.1.1.1.1.1.1", null, "{stream: s, conditions: [" + deep + "]}");
    }

    @Test
    void listsAndCountsAreBounded() {
        String many = "[" + "1, ".repeat(RuleSpec.LIST_VALUES_MAX) + "1]";
        refused("r", "1", "a", "{stream: s, conditions: [{field: a, op: in, value: " + many + "}]}");
        String conditions =
                "[" + "{field: a, op: exists}, ".repeat(RuleSpec.CONDITIONS_MAX) + "{field: a, op: exists}]";
        refused("r", null, "conditions", "{stream: s, conditions: " + conditions + "}");
        RuleSpec.parse(
                "r",
                yaml("{stream: s, conditions: [" + "{field: a, op: exists}, ".repeat(RuleSpec.CONDITIONS_MAX - 1)
                        + "{field: a, op: exists}]}"));
    }

    @Test
    void aSpecBuiltInCodeIsCheckedLikeAParsedOne() {
        RuleSpec built = new RuleSpec("b", "s", List.of(ConditionSpec.of("x", "gt", 3)), null, null, null, 0);
        assertEquals("warning", built.severity());
        RuleSet.compile(List.of(built), s -> null); // an Integer operand is fine
        RuleSpec bad = new RuleSpec("b", "s", List.of(ConditionSpec.of("x", "gt", "3")), null, null, null, 0);
        RuleRefusal e = assertThrows(RuleRefusal.class, () -> RuleSet.compile(List.of(bad), s -> null));
        assertEquals("1", e.condition());
        assertEquals("x", e.field());
    }
}

package dev.outpost.edge.engine;

import static dev.outpost.edge.engine.EvaluatorTest.rules;
import static dev.outpost.edge.engine.EvaluatorTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Issue #12 point 2: anomaly detectors. The EWMA z-score against a plain reference (model-based, with a small bound so
 * evictions happen), warm-up, groups, the snapshot a checkpoint keeps, and the rule-level behaviour (every event
 * observed despite early stops, refusals naming condition and field).
 */
class AnomalyTest {

    /** The reference: a list in recency order and the textbook EWMA formulas. */
    static final class Reference {
        final int bound;
        final List<String> recency = new ArrayList<>();
        final Map<String, double[]> state = new HashMap<>(); // count, mean, variance
        long evicted;

        Reference(int bound) {
            this.bound = bound;
        }

        double observe(String key, double x, double alpha, long warmup) {
            recency.remove(key);
            recency.add(key);
            double[] s = state.computeIfAbsent(key, k -> new double[3]);
            if (state.size() > bound) {
                state.remove(recency.removeFirst());
                evicted++;
            }
            double z = Double.NaN;
            if (s[0] >= warmup) {
                double d = Math.abs(x - s[1]);
                z = d == 0 ? 0 : d / Math.sqrt(s[2]);
            }
            if (s[0] == 0) {
                s[1] = x;
                s[2] = 0;
            } else {
                double diff = x - s[1];
                s[1] = s[1] + alpha * diff;
                s[2] = (1 - alpha) * (s[2] + diff * (alpha * diff));
            }
            s[0]++;
            return z;
        }
    }

    @Test
    void scoresMatchAReferenceAcrossEvictionsAndSnapshots() {
        Random rnd = new Random(7);
        Detectors d = new Detectors(5);
        Reference ref = new Reference(5);
        for (int i = 0; i < 20_000; i++) {
            String detector = "d" + rnd.nextInt(2);
            String group = "g" + rnd.nextInt(4);
            double x = rnd.nextInt(10) == 0 ? rnd.nextGaussian() * 1e6 : 100 + rnd.nextGaussian() * 10;
            double expected = ref.observe(detector + "\u0000" + group, x, 0.1, 3);
            double z = d.observe(detector, group, x, 0.1, 3);
            assertEquals(expected, z, "observation " + i); // bit for bit: a replay must decide alike
            if (i % 997 == 0) {
                Detectors copy = new Detectors(5);
                copy.restore(d.snapshot());
                d = copy; // the rest runs on the restored state, recency order included
            }
        }
        assertTrue(ref.evicted > 100, "the bound was exercised: " + ref.evicted);
        assertEquals(5, d.size());
    }

    @Test
    void noScoreWhileWarmingUpAndAnyDepartureFromAConstantIsInfinite() {
        Detectors d = new Detectors(10);
        for (int i = 0; i < 4; i++) {
            assertTrue(Double.isNaN(d.observe("d", "", 7, 0.5, 4)), "value " + i + " warms up");
        }
        assertEquals(0.0, d.observe("d", "", 7, 0.5, 4));
        assertEquals(Double.POSITIVE_INFINITY, d.observe("d", "", 8, 0.5, 4));
    }

    @Test
    void evictionsAreCountedAndRetainDropsDetectorsNoLongerDefined() {
        Detectors d = new Detectors(2);
        d.observe("a", "1", 1, 0.5, 2);
        d.observe("a", "2", 1, 0.5, 2);
        d.observe("a", "1", 1, 0.5, 2); // 1 is now the most recent
        d.observe("b", "1", 1, 0.5, 2); // evicts a/2
        assertEquals(1, d.evicted());
        d.retain(Set.of("b"));
        assertEquals(1, d.size());
        assertTrue(Double.isNaN(d.observe("a", "1", 1, 0.5, 2)), "a forgotten: warms up again");
    }

    static final String SPIKE = """
            spike:
              stream: traffic
              group_by: host
              threshold: 0.5
              conditions:
                - {field: severity_code, op: eq, value: 99, weight: 0.5}
                - {field: bytes, op: anomaly, value: 4, alpha: 0.1, warmup: 20, weight: 0.6}
            """;

    static String event(String host, Object bytes) {
        return "{\"stream\":\"traffic\",\"key\":\"k\",\"data\":{\"host\":\"" + host + "\",\"bytes\":" + bytes + "}}";
    }

    @Test
    void aSpikeFiresForItsGroupOnlyAfterWarmUpWithItsZScore() {
        Evaluator e = rules(SPIKE).evaluator();
        Random rnd = new Random(1);
        for (int i = 0; i < 19; i++) {
            assertTrue(run(e, "traffic", event("a", 1_000 + rnd.nextInt(50))).isEmpty());
        }
        assertTrue(run(e, "traffic", event("a", 1_000_000)).isEmpty(), "19 values seen: still warming up");
        for (int i = 0; i < 200; i++) {
            assertTrue(run(e, "traffic", event("a", 1_000 + rnd.nextInt(50))).isEmpty(), "value " + i);
            run(e, "traffic", event("b", 1_000_000 + rnd.nextInt(50)));
        }
        assertTrue(run(e, "traffic", event("b", 1_000_025)).isEmpty(), "normal for b");
        assertTrue(run(e, "traffic", event("a", "\"many\"")).isEmpty(), "not a number: no score");
        List<Firing> f = run(e, "traffic", event("a", 1_000_000));
        assertEquals(1, f.size(), "a spike for a");
        FiredCondition c = f.getFirst().conditions().getFirst();
        assertEquals("2", c.condition());
        assertEquals("bytes", c.field());
        assertTrue(c.z() > 4, "z " + c.z());
        assertEquals("a", f.getFirst().groupKey());
    }

    @Test
    void theDetectorSeesEveryEventEvenWhenTheRuleStopsEarly() {
        // Without a threshold the rule stops at the first failing condition; the detector must still learn.
        RuleSet set = rules("""
                r:
                  stream: traffic
                  conditions:
                    - {field: flag, op: exists}
                    - {field: bytes, op: anomaly, value: 3, warmup: 10}
                """);
        Evaluator e = set.evaluator();
        for (int i = 0; i < 50; i++) {
            assertTrue(run(e, "traffic", event("a", 100 + i % 5)).isEmpty()); // no flag: stops at condition 1
        }
        String flagged = "{\"stream\":\"traffic\",\"data\":{\"flag\":1,\"bytes\":100000}}";
        assertEquals(1, run(e, "traffic", flagged).size(), "warmed up by the events that stopped early");
    }

    static RuleRefusal refused(String condition) {
        Object tree = new org.yaml.snakeyaml.Yaml().load("{stream: ledger, conditions: [" + condition + "]}");
        return assertThrows(
                RuleRefusal.class, () -> RuleSet.compile(List.of(RuleSpec.parse("r", tree)), RuleSetTest.SCHEMAS));
    }

    @Test
    void badDetectorsAreRefusedNamingConditionAndField() {
        assertTrue(refused("{field: ratio, op: anomaly, value: 0}").getMessage().contains("greater than 0"));
        assertTrue(refused("{field: ratio, op: anomaly, value: 3, alpha: 1}")
                .getMessage()
                .contains("alpha"));
        assertTrue(refused("{field: ratio, op: anomaly, value: 3, warmup: 1}")
                .getMessage()
                .contains("warmup"));
        assertTrue(refused("{field: ratio, op: gt, value: 3, warmup: 5}")
                .getMessage()
                .contains("alpha and warmup are for anomaly"));
        RuleRefusal nested = refused("{op: not, conditions: [{field: ratio, op: anomaly, value: 3}]}");
        assertEquals("1.1", nested.condition());
        assertTrue(nested.getMessage().contains("top-level"), nested.getMessage());
        RuleRefusal text = refused("{field: protocol, op: anomaly, value: 3}");
        assertEquals("protocol", text.field());
        assertTrue(text.getMessage().contains("compares numbers"), text.getMessage());
    }

    @Test
    void aDetectorWrittenAndReadBackIsTheSameRule() {
        RuleSpec spec = RuleSpec.parse("spike", ((Map<?, ?>) new org.yaml.snakeyaml.Yaml().load(SPIKE)).get("spike"));
        assertEquals(spec, RuleSpec.parse("spike", RuleTree.write(spec)));
        assertEquals(0.1, spec.conditions().get(1).alpha());
        assertEquals(20L, spec.conditions().get(1).warmup());
    }
}

package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The rollups' fields read in the rules' pass ({@link Evaluator#alsoRead(Map)}) hold exactly what a reader of their
 * own ({@link PathValues}) reads, event after event, for paths the rules read too and paths they do not.
 */
class SharedReadTest {
    static final List<List<String>> PATHS = List.of(
            List.of("ts"),
            List.of("data", "site"), // a string no rule reads
            List.of("data", "temp"), // a number a rule reads without its text
            List.of("data", "vib", "1"), // an array element next to the rules' vib/0
            List.of("key"), // the rules' group_by (text kept)
            List.of("data", "ok"));

    @Test
    void theSharedPassReadsWhatAReaderOfItsOwnReads() {
        RuleSet rules = RuleSet.compile(
                List.of(
                        RuleSetTest.rule(
                                "hot", "{stream: s, group_by: /key, conditions: [{field: temp, op: gt, value: 40}]}"),
                        RuleSetTest.rule("vib", "{stream: s, conditions: [{field: vib.0, op: gt, value: 0.5}]}")),
                null);
        Evaluator shared = rules.evaluator();
        shared.alsoRead(Map.of("s", PATHS, "other", List.of(List.of("x"))));
        PathValues own = new PathValues(PATHS);
        SplittableRandom rnd = new SplittableRandom(7);
        List<String> fired = new ArrayList<>();
        for (int n = 0; n < 5_000; n++) {
            byte[] event = event(rnd).getBytes(StandardCharsets.UTF_8);
            shared.evaluate("s", event, 0, event.length, f -> fired.add(f.rule().name()));
            PathValues view = shared.alsoRead("s");
            own.read(event, 0, event.length);
            for (int i = 0; i < PATHS.size(); i++) {
                String at = new String(event, StandardCharsets.UTF_8) + " path " + PATHS.get(i);
                assertEquals(own.text(i), view.text(i), at);
                assertEquals(own.number(i), view.number(i), at);
                assertEquals(own.textHash(i), view.textHash(i), at);
            }
        }
        assertSame(PATHS, shared.alsoRead("s").paths());
        assertNull(shared.alsoRead("other"), "no rule reads that stream: its rollups read it themselves");
        assertEquals(true, fired.contains("hot") && fired.contains("vib"), "the rules still fire: " + fired.size());
    }

    @Test
    void nothingIsSharedForAnEventTheRulesDidNotRead() {
        RuleSet rules = RuleSet.compile(
                List.of(RuleSetTest.rule("hot", "{stream: s, conditions: [{field: temp, op: gt, value: 40}]}")), null);
        Evaluator e = rules.evaluator();
        e.alsoRead(Map.of("s", PATHS));
        byte[] event = "{\"ts\":1,\"data\":{\"temp\":41}}".getBytes(StandardCharsets.UTF_8);
        e.evaluate("s", event, 0, event.length, f -> {});
        e.evaluate("t", event, 0, event.length, f -> {});
        assertNull(e.alsoRead("s"), "the last evaluate read nothing of stream s");
    }

    private static String event(SplittableRandom rnd) {
        String[] shapes = {
            "{\"ts\":%d,\"key\":\"dev-%d\",\"data\":{\"site\":\"store-%d\",\"temp\":%s,\"vib\":[%s,%s],\"ok\":%s}}",
            "{\"key\":%d,\"data\":{\"temp\":\"%d\",\"site\":%d,\"vib\":[%s],\"ok\":null,\"x\":%s,\"y\":%s,\"z\":%s}}",
            "{\"data\":{\"site\":\"a\\\"b\\u00e9%d\",\"temp\":%d,\"vib\":{\"1\":%s}},\"ts\":\"%s\",\"key\":[%s],\"ok\":%s,\"w\":%d}",
        };
        int shape = rnd.nextInt(shapes.length + 1);
        if (shape == shapes.length) {
            return "{\"data\":{\"temp\":1,"; // unreadable
        }
        return switch (shape) {
            case 0 ->
                shapes[0].formatted(
                        rnd.nextLong(1L << 42),
                        rnd.nextInt(50),
                        rnd.nextInt(9),
                        num(rnd),
                        num(rnd),
                        num(rnd),
                        rnd.nextBoolean());
            case 1 ->
                shapes[1].formatted(
                        rnd.nextInt(50), rnd.nextInt(9), rnd.nextInt(9), num(rnd), num(rnd), num(rnd), num(rnd));
            default ->
                shapes[2].formatted(
                        rnd.nextInt(9),
                        rnd.nextInt(99),
                        num(rnd),
                        "2026-12-06T10:00:00Z",
                        num(rnd),
                        rnd.nextBoolean(),
                        rnd.nextInt(9));
        };
    }

    private static String num(SplittableRandom rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> Integer.toString(rnd.nextInt(-100, 100));
            case 1 -> Double.toString(rnd.nextInt(0, 1000) / 10.0);
            case 2 -> rnd.nextInt(9) + "e" + rnd.nextInt(3);
            default -> "-0.0" + rnd.nextInt(10);
        };
    }
}

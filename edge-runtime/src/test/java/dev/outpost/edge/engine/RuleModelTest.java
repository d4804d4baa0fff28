package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.outpost.store.json.JsonTree;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Model-based: random rules over random events, evaluated by the compiled {@link Evaluator} on the stored bytes and by
 * a plain reference evaluator over the JsonTree-parsed event (BigDecimal arithmetic, java.util.regex, no slots, no early
 * stop). They must agree on which rules fire, their scores, the conditions that held and the group keys.
 */
class RuleModelTest {
    static final long SEED = 20_261_206L;
    static final int RULE_SETS = 60;
    static final int RULES_PER_SET = 12;
    static final int EVENTS_PER_SET = 400;

    static final String[] NAMES = {"a", "b", "c", "d"};
    static final String[] FIELDS = {
        "a", "b", "c", "d", "/data/a", "n.a", "/data/n/b", "/data/arr/0", "arr.1", "/key", "/ts", "zz"
    };
    static final String[] STRINGS = {"x", "y", "TCP", "", "xy", "yx"};
    static final String[] PATTERNS = {"^x", "y$", "x|T", "^$", "C", "^[a-z]+$", "xy?"};
    static final Object[] NUMBERS = {
        0L,
        1L,
        -3L,
        5L,
        1_000_001L,
        new BigDecimal("2.5"),
        new BigDecimal("-0.25"),
        new BigDecimal("5.0"),
        new BigDecimal("1.50")
    };
    static final String[] KEY_OPS = {"eq", "ne", "in", "not_in", "exists", "regex"};
    static final String[] LEAF_OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists", "between", "regex"
    };

    /** The absence of a value (JsonTree's Java null for a missing member). */
    static final Object MISSING = new Object();

    @Test
    void compiledAndReferenceEvaluatorsAgree() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int firings = 0;
        for (int s = 0; s < RULE_SETS; s++) {
            List<RuleSpec> specs = new ArrayList<>();
            for (int r = 0; r < RULES_PER_SET; r++) {
                specs.add(RuleSpec.parse(String.format("r%02d-%02d", s, r), rule(rnd))); // created in name order
            }
            Evaluator evaluator = RuleSet.compile(specs, x -> null).evaluator();
            for (int i = 0; i < EVENTS_PER_SET; i++) {
                byte[] bytes = JsonTree.write(event(rnd));
                Object tree = JsonTree.parse(bytes, 0, bytes.length);
                List<Firing> actual = new ArrayList<>();
                evaluator.evaluate("s", bytes, 0, bytes.length, actual::add);
                List<Firing> expected = new ArrayList<>();
                for (RuleSpec spec : specs) {
                    Firing f = reference(spec, tree);
                    if (f != null) {
                        expected.add(f);
                    }
                }
                String why = "set " + s + ", event " + new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
                assertEquals(describe(expected), describe(actual), why);
                firings += actual.size();
            }
        }
        // Not a vacuous agreement: a fair share of the rules fire.
        org.junit.jupiter.api.Assertions.assertTrue(firings > RULE_SETS * EVENTS_PER_SET / 4, firings + " firings");
    }

    static List<String> describe(List<Firing> firings) {
        return firings.stream()
                .map(f -> f.rule().name() + " score=" + Math.round(f.score() * 1e9) + " held=" + f.conditions()
                        + " group=" + f.groupKey())
                .toList();
    }

    // ---- random events

    static Map<String, Object> event(SplittableRandom rnd) {
        Map<String, Object> data = new LinkedHashMap<>();
        for (String name : NAMES) {
            Object v = value(rnd);
            if (v != MISSING) {
                data.put(name, v);
            }
        }
        if (rnd.nextInt(4) > 0) {
            Map<String, Object> n = new LinkedHashMap<>();
            Object a = value(rnd);
            n.put("a", a == MISSING ? 1L : a);
            n.put("b", scalar(rnd));
            data.put("n", n);
        }
        if (rnd.nextInt(4) > 0) {
            data.put("arr", new ArrayList<>(List.of(scalar(rnd), scalar(rnd))));
        }
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("stream", "s");
        if (rnd.nextBoolean()) {
            e.put("key", STRINGS[rnd.nextInt(STRINGS.length)]);
        }
        e.put("ts", 1_700_000_000_000L + rnd.nextInt(1000));
        e.put("data", data);
        return e;
    }

    static Object value(SplittableRandom rnd) {
        return switch (rnd.nextInt(10)) {
            case 0 -> MISSING;
            case 1 -> JsonTree.NULL;
            case 2 -> new LinkedHashMap<>(Map.of("a", 1L));
            case 3 -> new ArrayList<>(List.of(1L));
            default -> scalar(rnd);
        };
    }

    static Object scalar(SplittableRandom rnd) {
        return switch (rnd.nextInt(3)) {
            case 0 -> STRINGS[rnd.nextInt(STRINGS.length)];
            case 1 -> NUMBERS[rnd.nextInt(NUMBERS.length)];
            default -> rnd.nextBoolean();
        };
    }

    // ---- random rules (as trees, so parsing is exercised too)

    static Map<String, Object> rule(SplittableRandom rnd) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("stream", "s");
        List<Object> conditions = new ArrayList<>();
        double total = 0;
        for (int i = 0, n = 1 + rnd.nextInt(4); i < n; i++) {
            Map<String, Object> c = rnd.nextInt(5) == 0 ? group(rnd, 2) : leaf(rnd);
            double w = new double[] {0, 0.25, 0.5, 1, 2}[rnd.nextInt(5)];
            c.put("weight", w);
            total += w;
            conditions.add(c);
        }
        r.put("conditions", conditions);
        double t = rnd.nextInt(8) * 0.25;
        if (rnd.nextBoolean() && t < total) {
            r.put("threshold", t);
        }
        if (rnd.nextBoolean()) {
            r.put("group_by", FIELDS[rnd.nextInt(FIELDS.length)]);
        }
        return r;
    }

    static Map<String, Object> group(SplittableRandom rnd, int depth) {
        Map<String, Object> g = new LinkedHashMap<>();
        String op = new String[] {"all", "any", "not"}[rnd.nextInt(3)];
        g.put("op", op);
        List<Object> children = new ArrayList<>();
        for (int i = 0, n = op.equals("not") ? 1 : 1 + rnd.nextInt(3); i < n; i++) {
            children.add(depth > 0 && rnd.nextInt(4) == 0 ? group(rnd, depth - 1) : leaf(rnd));
        }
        g.put("conditions", children);
        return g;
    }

    static Map<String, Object> leaf(SplittableRandom rnd) {
        Map<String, Object> c = new LinkedHashMap<>();
        String field = FIELDS[rnd.nextInt(FIELDS.length)];
        String op = LEAF_OPS[rnd.nextInt(LEAF_OPS.length)];
        if (field.equals("/key")) { // a string: numeric and boolean operands are refused (RuleSpecTest)
            op = KEY_OPS[rnd.nextInt(KEY_OPS.length)];
        }
        c.put("field", field);
        c.put("op", op);
        switch (op) {
            case "eq", "ne" ->
                c.put("value", field.equals("/key") ? STRINGS[rnd.nextInt(STRINGS.length)] : scalar(rnd));
            case "gt", "gte", "lt", "lte" -> c.put("value", NUMBERS[rnd.nextInt(NUMBERS.length)]);
            case "in", "not_in" -> {
                List<Object> values = new ArrayList<>();
                int kind = field.equals("/key") ? 0 : rnd.nextInt(3);
                for (int i = 0, n = 1 + rnd.nextInt(4); i < n; i++) {
                    values.add(
                            kind == 0
                                    ? STRINGS[rnd.nextInt(STRINGS.length)]
                                    : kind == 1 ? NUMBERS[rnd.nextInt(NUMBERS.length)] : rnd.nextBoolean());
                }
                c.put("value", values);
            }
            case "exists" -> c.put("value", rnd.nextInt(3) > 0);
            case "between" -> {
                BigDecimal x = number(NUMBERS[rnd.nextInt(NUMBERS.length)]);
                BigDecimal y = number(NUMBERS[rnd.nextInt(NUMBERS.length)]);
                c.put("value", new ArrayList<>(List.of(x.min(y), x.max(y))));
            }
            default -> {
                c.put("value", PATTERNS[rnd.nextInt(PATTERNS.length)]);
                if (rnd.nextBoolean()) {
                    c.put("max_input_chars", (long) 1 + rnd.nextInt(3));
                }
            }
        }
        return c;
    }

    // ---- the reference evaluator

    static Firing reference(RuleSpec spec, Object event) {
        double score = 0;
        boolean all = true;
        List<FiredCondition> held = new ArrayList<>();
        for (int i = 0; i < spec.conditions().size(); i++) {
            ConditionSpec c = spec.conditions().get(i);
            if (holds(c, event)) {
                score += c.weight();
                held.add(new FiredCondition(String.valueOf(i + 1), c.field(), c.weight()));
            } else {
                all = false;
            }
        }
        boolean fires = spec.threshold() == null ? all : score > spec.threshold();
        if (!fires) {
            return null;
        }
        String group = spec.groupBy() == null ? null : groupKey(resolve(event, spec.groupBy()));
        return new Firing(spec, score, held, group);
    }

    static String groupKey(Object v) {
        return switch (v) {
            case String s -> s;
            case Long l -> l.toString();
            case BigDecimal d -> d.toString();
            case Boolean b -> b.toString();
            default -> v == JsonTree.NULL ? "null" : null;
        };
    }

    static boolean holds(ConditionSpec c, Object event) {
        switch (c.op()) {
            case "all" -> {
                return c.children().stream().allMatch(x -> holds(x, event));
            }
            case "any" -> {
                return c.children().stream().anyMatch(x -> holds(x, event));
            }
            case "not" -> {
                return !holds(c.children().getFirst(), event);
            }
            default -> {
                return leafHolds(c, resolve(event, c.field()));
            }
        }
    }

    static boolean leafHolds(ConditionSpec c, Object v) {
        Object operand = c.value();
        return switch (c.op()) {
            case "exists" -> (v != MISSING) == (Boolean) operand;
            case "eq" -> sameKind(v, operand) && equal(v, operand);
            case "ne" -> sameKind(v, operand) && !equal(v, operand);
            case "gt" -> isNumber(v) && number(v).compareTo(number(operand)) > 0;
            case "gte" -> isNumber(v) && number(v).compareTo(number(operand)) >= 0;
            case "lt" -> isNumber(v) && number(v).compareTo(number(operand)) < 0;
            case "lte" -> isNumber(v) && number(v).compareTo(number(operand)) <= 0;
            case "between" ->
                isNumber(v)
                        && number(v).compareTo(number(((List<?>) operand).get(0))) >= 0
                        && number(v).compareTo(number(((List<?>) operand).get(1))) <= 0;
            case "in", "not_in" -> {
                List<?> list = (List<?>) operand;
                if (!sameKind(v, list.getFirst())) {
                    yield false;
                }
                boolean in = list.stream().anyMatch(x -> equal(v, x));
                yield in == c.op().equals("in");
            }
            case "regex" -> {
                int max = c.maxInputChars() == null ? RuleSpec.REGEX_INPUT_CHARS_DEFAULT : c.maxInputChars();
                yield v instanceof String s
                        && s.length() <= max
                        && java.util.regex.Pattern.compile((String) operand)
                                .matcher(s)
                                .find();
            }
            default -> throw new AssertionError(c.op());
        };
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof BigDecimal || v instanceof Double;
    }

    static BigDecimal number(Object v) {
        return v instanceof Long l
                ? BigDecimal.valueOf(l)
                : v instanceof Double d ? BigDecimal.valueOf(d) : (BigDecimal) v;
    }

    static boolean sameKind(Object v, Object operand) {
        return isNumber(v) && isNumber(operand)
                || v instanceof String && operand instanceof String
                || v instanceof Boolean && operand instanceof Boolean;
    }

    static boolean equal(Object v, Object operand) {
        return isNumber(v) && isNumber(operand) ? number(v).compareTo(number(operand)) == 0 : v.equals(operand);
    }

    /** The value at a field path (pointer from the event, dotted under data), or MISSING. */
    static Object resolve(Object event, String field) {
        List<String> tokens = new ArrayList<>();
        if (field.startsWith("/")) {
            tokens.addAll(List.of(field.substring(1).split("/", -1)));
        } else {
            tokens.add("data");
            tokens.addAll(List.of(field.split("\\.", -1)));
        }
        Object v = event;
        for (String t : tokens) {
            if (v instanceof Map<?, ?> m && m.containsKey(t)) {
                v = m.get(t);
            } else if (v instanceof List<?> l && t.matches("0|[1-9][0-9]{0,3}") && Integer.parseInt(t) < l.size()) {
                v = l.get(Integer.parseInt(t));
            } else {
                return MISSING;
            }
        }
        return v;
    }
}

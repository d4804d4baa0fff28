package dev.outpost.edge.engine;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tree form of rules (docs/RULES.md): reads a rule from maps and lists as SnakeYAML or JsonTree give them, and
 * writes it back. Reading checks keys and the kinds of values; what values mean is checked by {@link CompiledRule}.
 * Numbers are normalised (whole numbers to Long, others to Double), so a rule read from YAML equals the same rule
 * read from JSON, and {@code read(write(spec))} equals {@code spec}.
 */
final class RuleTree {
    /** Keys of a rule. */
    static final Set<String> RULE_KEYS =
            Set.of("stream", "conditions", "threshold", "severity", "group_by", "cooldown", "cooldown_millis");

    /** Keys of a condition. */
    static final Set<String> CONDITION_KEYS =
            Set.of("field", "op", "value", "weight", "max_input_chars", "conditions", "alpha", "warmup");

    /** A cooldown as a duration: a whole number and a unit. */
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,12})(ms|s|m|h|d)");

    private static final long[] UNIT_MILLIS = {24L * 60 * 60 * 1000, 60L * 60 * 1000, 60L * 1000, 1000L, 1L};
    private static final String[] UNITS = {"d", "h", "m", "s", "ms"};

    /** A count of units beyond which a cooldown is out of range whatever the unit (guards the multiplication). */
    private static final long COOLDOWN_UNITS_MAX = RuleSpec.COOLDOWN_MILLIS_MAX;

    private RuleTree() {}

    static RuleSpec read(String name, Object tree) {
        RuleSpec.checkName(name);
        Map<String, Object> m = members(tree, RULE_KEYS, name, null, null, "a rule must be an object");
        String stream = string(m, "stream", name, null, "stream", true);
        if (!(m.get("conditions") instanceof List<?> list) || list.isEmpty()) {
            throw new RuleRefusal(name, null, "conditions", "conditions must be a non-empty list");
        }
        if (list.size() > RuleSpec.CONDITIONS_MAX) {
            throw new RuleRefusal(
                    name, null, "conditions", "a rule has at most " + RuleSpec.CONDITIONS_MAX + " conditions");
        }
        List<ConditionSpec> conditions = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            conditions.add(condition(name, String.valueOf(i + 1), list.get(i), true, 1));
        }
        Double threshold = null;
        if (m.get("threshold") != null) {
            threshold = ((Number) number(m.get("threshold"), name, null, "threshold", "threshold")).doubleValue();
        }
        String severity = string(m, "severity", name, null, "severity", false);
        String groupBy = string(m, "group_by", name, null, "group_by", false);
        return new RuleSpec(name, stream, conditions, threshold, severity, groupBy, cooldown(m, name));
    }

    /** A condition; its refusals name the condition's field (when it has one) and say which key is wrong. */
    private static ConditionSpec condition(String rule, String at, Object tree, boolean top, int depth) {
        String field = tree instanceof Map<?, ?> raw && raw.get("field") instanceof String s ? s : null;
        Map<String, Object> m = members(tree, CONDITION_KEYS, rule, at, field, "a condition must be an object");
        String op = string(m, "op", rule, at, field, true);
        if (m.get("field") != null && field == null) {
            throw new RuleRefusal(rule, at, null, "field must be a string: a JSON Pointer or a dotted path");
        }
        double weight = ConditionSpec.WEIGHT_DEFAULT;
        if (m.containsKey("weight")) {
            if (!top) {
                throw new RuleRefusal(rule, at, field, "weights count only at the top level: a group holds as a unit");
            }
            weight = ((Number) number(m.get("weight"), rule, at, field, "weight")).doubleValue();
        }
        Integer maxInput = null;
        if (m.containsKey("max_input_chars")) {
            if (!(normalise(m.get("max_input_chars")) instanceof Long l)
                    || l < 1
                    || l > RuleSpec.REGEX_INPUT_CHARS_MAX) {
                throw new RuleRefusal(
                        rule,
                        at,
                        field,
                        "max_input_chars must be a whole number from 1 to " + RuleSpec.REGEX_INPUT_CHARS_MAX);
            }
            maxInput = l.intValue();
        }
        List<ConditionSpec> children = m.containsKey("conditions") ? children(rule, at, m, field, depth) : List.of();
        Object value = m.containsKey("value") ? value(m.get("value"), rule, at, field) : null;
        if (op.equals("exists") && value == null) {
            value = Boolean.TRUE;
        }
        Double alpha = m.get("alpha") == null
                ? null
                : ((Number) number(m.get("alpha"), rule, at, field, "alpha")).doubleValue();
        Long warmup = null;
        if (m.get("warmup") != null) {
            if (!(normalise(m.get("warmup")) instanceof Long l)) {
                throw new RuleRefusal(rule, at, field, "warmup must be a whole number");
            }
            warmup = l;
        }
        return new ConditionSpec(field, op, value, weight, children, maxInput, alpha, warmup);
    }

    private static List<ConditionSpec> children(
            String rule, String at, Map<String, Object> m, String field, int depth) {
        if (!(m.get("conditions") instanceof List<?> list) || list.isEmpty()) {
            throw new RuleRefusal(rule, at, field, "conditions of a group must be a non-empty list");
        }
        if (list.size() > RuleSpec.CONDITION_NODES_MAX) {
            throw new RuleRefusal(
                    rule,
                    at,
                    field,
                    "a rule has at most " + RuleSpec.CONDITION_NODES_MAX + " conditions, nested ones included");
        }
        if (depth > RuleSpec.GROUP_DEPTH_MAX) {
            throw new RuleRefusal(rule, at, field, "groups nest at most " + RuleSpec.GROUP_DEPTH_MAX + " deep");
        }
        List<ConditionSpec> cs = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            cs.add(condition(rule, at + "." + (i + 1), list.get(i), false, depth + 1));
        }
        return cs;
    }

    /** The members of an object with string keys, refusing keys not in {@code allowed}. */
    private static Map<String, Object> members(
            Object tree, Set<String> allowed, String rule, String at, String field, String what) {
        if (!(tree instanceof Map<?, ?> raw)) {
            throw new RuleRefusal(rule, at, field, what);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : raw.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (!allowed.contains(key)) {
                throw new RuleRefusal(
                        rule,
                        at,
                        at == null ? key : field,
                        "unknown key '" + key + "'; allowed: " + String.join(", ", new TreeSet<>(allowed)));
            }
            m.put(key, e.getValue());
        }
        return m;
    }

    /** A string member; a refusal names {@code field} (the key itself for a rule's members). */
    private static String string(
            Map<String, Object> m, String key, String rule, String at, String field, boolean required) {
        Object v = m.get(key);
        if (v == null && !required) {
            return null;
        }
        if (!(v instanceof String s) || s.isEmpty()) {
            throw new RuleRefusal(rule, at, field, key + " must be a non-empty string");
        }
        return s;
    }

    /** A number normalised to Long (whole numbers within 64 bits) or Double (finite). */
    private static Object number(Object v, String rule, String at, String field, String key) {
        Object n = normalise(v);
        if (!(n instanceof Long) && !(n instanceof Double)) {
            throw new RuleRefusal(rule, at, field, key + " must be a finite number");
        }
        return n;
    }

    /** An operand: a scalar or a list of scalars, numbers normalised; refuses nested lists, objects and null. */
    private static Object value(Object v, String rule, String at, String field) {
        if (v instanceof List<?> list) {
            if (list.size() > RuleSpec.LIST_VALUES_MAX) {
                throw new RuleRefusal(rule, at, field, "a list holds at most " + RuleSpec.LIST_VALUES_MAX + " values");
            }
            List<Object> out = new ArrayList<>(list.size());
            for (Object e : list) {
                Object n = normalise(e);
                if (!(n instanceof String || n instanceof Boolean || n instanceof Long || n instanceof Double)) {
                    throw new RuleRefusal(rule, at, field, "list values must be strings, finite numbers or booleans");
                }
                out.add(n);
            }
            return List.copyOf(out);
        }
        Object n = normalise(v);
        if (!(n instanceof String || n instanceof Boolean || n instanceof Long || n instanceof Double)) {
            throw new RuleRefusal(
                    rule,
                    at,
                    field,
                    "value must be a string, a finite number, a boolean or a list of them (use exists for null)");
        }
        return n;
    }

    /** Whole numbers within 64 bits to Long, other finite numbers to Double; anything else unchanged (or null). */
    static Object normalise(Object v) {
        return switch (v) {
            case Long l -> l;
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case BigInteger b -> b.bitLength() < 64 ? (Object) b.longValue() : null;
            case BigDecimal d -> finite(d.doubleValue());
            case Double d -> finite(d);
            case Float f -> finite(f.doubleValue());
            case null -> null;
            default -> v;
        };
    }

    private static Double finite(double d) {
        return Double.isFinite(d) ? d : null;
    }

    private static long cooldown(Map<String, Object> m, String rule) {
        if (m.get("cooldown") != null && m.get("cooldown_millis") != null) {
            throw new RuleRefusal(rule, null, "cooldown", "give cooldown or cooldown_millis, not both");
        }
        long millis = 0;
        if (m.get("cooldown_millis") != null) {
            if (!(normalise(m.get("cooldown_millis")) instanceof Long l)) {
                throw new RuleRefusal(rule, null, "cooldown_millis", "cooldown_millis must be a whole number");
            }
            millis = l;
        } else if (m.get("cooldown") != null) {
            Matcher d = DURATION.matcher(String.valueOf(m.get("cooldown")));
            if (!(m.get("cooldown") instanceof String) || !d.matches()) {
                throw new RuleRefusal(
                        rule, null, "cooldown", "cooldown must be a duration such as 500ms, 30s, 5m, 1h or 1d");
            }
            long n = Long.parseLong(d.group(1));
            long unit = UNIT_MILLIS[List.of(UNITS).indexOf(d.group(2))];
            millis = n > COOLDOWN_UNITS_MAX ? Long.MAX_VALUE : n * unit;
        }
        if (millis < 0 || millis > RuleSpec.COOLDOWN_MILLIS_MAX) {
            throw new RuleRefusal(
                    rule,
                    null,
                    m.get("cooldown") != null ? "cooldown" : "cooldown_millis",
                    "cooldown must be from 0 to 7d (" + RuleSpec.COOLDOWN_MILLIS_MAX + " milliseconds)");
        }
        return millis;
    }

    static Map<String, Object> write(RuleSpec spec) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stream", spec.stream());
        List<Object> conditions = new ArrayList<>();
        for (ConditionSpec c : spec.conditions()) {
            conditions.add(write(c, true));
        }
        m.put("conditions", conditions);
        if (spec.threshold() != null) {
            m.put("threshold", spec.threshold());
        }
        m.put("severity", spec.severity());
        if (spec.groupBy() != null) {
            m.put("group_by", spec.groupBy());
        }
        if (spec.cooldownMillis() != 0) {
            m.put("cooldown", duration(spec.cooldownMillis()));
        }
        return m;
    }

    private static Map<String, Object> write(ConditionSpec c, boolean top) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (c.field() != null) {
            m.put("field", c.field());
        }
        m.put("op", c.op());
        if (c.value() != null) {
            m.put("value", c.value() instanceof List<?> l ? new ArrayList<>(l) : c.value());
        }
        if (top && c.weight() != ConditionSpec.WEIGHT_DEFAULT) {
            m.put("weight", c.weight());
        }
        if (c.maxInputChars() != null) {
            m.put("max_input_chars", (long) c.maxInputChars());
        }
        if (c.alpha() != null) {
            m.put("alpha", c.alpha());
        }
        if (c.warmup() != null) {
            m.put("warmup", c.warmup());
        }
        if (!c.children().isEmpty()) {
            List<Object> children = new ArrayList<>();
            c.children().forEach(child -> children.add(write(child, false)));
            m.put("conditions", children);
        }
        return m;
    }

    /** The largest unit that divides the duration exactly: 300000 is "5m". */
    static String duration(long millis) {
        for (int i = 0; i < UNITS.length; i++) {
            if (millis % UNIT_MILLIS[i] == 0) {
                return millis / UNIT_MILLIS[i] + UNITS[i];
            }
        }
        throw new AssertionError(millis);
    }
}

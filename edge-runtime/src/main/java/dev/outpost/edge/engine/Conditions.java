package dev.outpost.edge.engine;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.outpost.edge.streams.StreamSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * Compiles the conditions of one rule into {@link Predicate}s, refusing what cannot be evaluated or could never hold,
 * each refusal naming the condition's index path and its field. What each operator accepts is in docs/RULES.md.
 */
final class Conditions {
    private final RuleSpec rule;
    private final StreamSchema schema;
    private final FieldTree fields;
    private final IntSupplier regexIds;
    private final IntSupplier detectorIds;
    private int nodes;
    private int groupSlot = -2; // -2: not looked up yet; -1: the rule has no group_by

    /**
     * @param regexIds gives each regex condition its matcher's index, unique in the rule set
     * @param detectorIds gives each anomaly condition its score's index, unique in the rule set
     */
    Conditions(RuleSpec rule, StreamSchema schema, FieldTree fields, IntSupplier regexIds, IntSupplier detectorIds) {
        this.rule = rule;
        this.schema = schema;
        this.fields = fields;
        this.regexIds = regexIds;
        this.detectorIds = detectorIds;
    }

    /** The slot of the rule's group_by field, or -1 without one. */
    int groupSlot() {
        if (groupSlot == -2) {
            groupSlot = rule.groupBy() == null ? -1 : fields.slot(path(rule.groupBy(), null, "group_by"), true);
        }
        return groupSlot;
    }

    private RuleRefusal refuse(String at, String field, String why) {
        return new RuleRefusal(rule.name(), at, field, why);
    }

    /** A field path, checked against the event's members and the stream's schema. */
    FieldPath path(String text, String at, String key) {
        try {
            FieldPath path = FieldPath.parse(text);
            SchemaFit.typeOf(path, schema, rule.stream());
            return path;
        } catch (IllegalArgumentException e) {
            throw refuse(at, text == null ? key : text, e.getMessage());
        }
    }

    Predicate compile(ConditionSpec c, String at, int depth) {
        if (++nodes > RuleSpec.CONDITION_NODES_MAX) {
            throw refuse(
                    at,
                    null,
                    "a rule has at most " + RuleSpec.CONDITION_NODES_MAX + " conditions, nested ones included");
        }
        String op = c.op();
        if (!CompiledRule.isOp(op)) {
            throw refuse(at, c.field(), "op '" + op + "' is not one of " + CompiledRule.ops());
        }
        double w = c.weight();
        if (!Double.isFinite(w) || w < 0 || w > RuleSpec.WEIGHT_MAX) {
            throw refuse(at, c.field(), "weight must be a finite number from 0 to " + (long) RuleSpec.WEIGHT_MAX);
        }
        if (c.maxInputChars() != null
                && (!op.equals("regex")
                        || c.maxInputChars() < 1
                        || c.maxInputChars() > RuleSpec.REGEX_INPUT_CHARS_MAX)) {
            throw refuse(at, c.field(), "max_input_chars is for regex, from 1 to " + RuleSpec.REGEX_INPUT_CHARS_MAX);
        }
        if ((c.alpha() != null || c.warmup() != null) && !op.equals("anomaly")) {
            throw refuse(at, c.field(), "alpha and warmup are for anomaly");
        }
        if (op.equals("anomaly") && depth > 1) {
            throw refuse(at, c.field(), "anomaly is a top-level condition (its detector sees every event)");
        }
        return switch (op) {
            case "all", "any", "not" -> group(c, at, depth);
            default -> leaf(c, at);
        };
    }

    private Predicate group(ConditionSpec c, String at, int depth) {
        String op = c.op();
        if (c.field() != null || c.value() != null) {
            throw refuse(at, c.field(), op + " is a group: it takes conditions, not a field or a value");
        }
        List<ConditionSpec> children = c.children();
        if (children.isEmpty() || op.equals("not") && children.size() != 1) {
            throw refuse(
                    at,
                    null,
                    op.equals("not")
                            ? "not takes exactly one condition"
                            : op + " takes a non-empty list of conditions");
        }
        if (depth > RuleSpec.GROUP_DEPTH_MAX) {
            throw refuse(at, null, "groups nest at most " + RuleSpec.GROUP_DEPTH_MAX + " deep");
        }
        Predicate[] compiled = new Predicate[children.size()];
        for (int i = 0; i < compiled.length; i++) {
            compiled[i] = compile(children.get(i), at + "." + (i + 1), depth + 1);
        }
        return new Predicate.Group(op, compiled);
    }

    private Predicate leaf(ConditionSpec c, String at) {
        String op = c.op();
        if (!c.children().isEmpty()) {
            throw refuse(at, c.field(), "only all, any and not take conditions");
        }
        if (c.field() == null) {
            throw refuse(at, null, op + " needs a field");
        }
        FieldPath path = path(c.field(), at, "field");
        String type = SchemaFit.typeOf(path, schema, rule.stream());
        Object value = operand(c.value(), at, c.field());
        String misfit = SchemaFit.fit(type, op, value);
        if (misfit != null) {
            throw refuse(
                    at,
                    c.field(),
                    misfit + " (" + (path.inData() ? "schema of stream '" + rule.stream() + "'" : "event member")
                            + ")");
        }
        int slot = fields.slot(path, false);
        return switch (op) {
            case "exists" -> {
                if (value != null && !(value instanceof Boolean)) {
                    throw refuse(at, c.field(), "exists takes true or false");
                }
                yield new Predicate.Exists(slot, !Boolean.FALSE.equals(value));
            }
            case "eq", "ne" -> equality(slot, op.equals("ne"), value, at, c.field());
            case "gt", "gte", "lt", "lte" -> {
                if (!(value instanceof Long || value instanceof Double)) {
                    throw refuse(at, c.field(), op + " compares numbers: value must be a number");
                }
                yield new Predicate.Compare(
                        slot, Predicate.Order.valueOf(op.toUpperCase(java.util.Locale.ROOT)), Predicate.Num.of(value));
            }
            case "between" -> between(slot, value, at, c.field());
            case "in", "not_in" -> membership(slot, op.equals("not_in"), value, at, c.field());
            case "anomaly" -> anomaly(slot, c, value, at);
            default -> regex(slot, c, value, at);
        };
    }

    /** The operand with numbers normalised (a spec built in code may hold Integer or BigDecimal). */
    private Object operand(Object v, String at, String field) {
        if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object e : list) {
                Object n = RuleTree.normalise(e);
                if (!(n instanceof String || n instanceof Boolean || n instanceof Long || n instanceof Double)) {
                    throw refuse(at, field, "list values must be strings, finite numbers or booleans");
                }
                out.add(n);
            }
            return out;
        }
        Object n = RuleTree.normalise(v);
        if (n != null && !(n instanceof String || n instanceof Boolean || n instanceof Long || n instanceof Double)) {
            throw refuse(at, field, "value must be a string, a finite number, a boolean or a list of them");
        }
        if (n instanceof String s && s.length() > RuleSpec.STRING_VALUE_CHARS_MAX) {
            throw refuse(at, field, "a string value is longer than " + RuleSpec.STRING_VALUE_CHARS_MAX + " characters");
        }
        return n;
    }

    private Predicate equality(int slot, boolean ne, Object value, String at, String field) {
        return switch (value) {
            case String s -> new Predicate.StringEquals(slot, s, ne);
            case Boolean b -> new Predicate.BooleanIn(slot, b, !b, ne);
            case Long l ->
                new Predicate.Compare(slot, ne ? Predicate.Order.NE : Predicate.Order.EQ, Predicate.Num.of(l));
            case Double d ->
                new Predicate.Compare(slot, ne ? Predicate.Order.NE : Predicate.Order.EQ, Predicate.Num.of(d));
            case null, default ->
                throw refuse(
                        at,
                        field,
                        (ne ? "ne" : "eq") + " takes a string, a number or a boolean (use exists for presence)");
        };
    }

    private Predicate between(int slot, Object value, String at, String field) {
        if (!(value instanceof List<?> l)
                || l.size() != 2
                || !(l.get(0) instanceof Number lo)
                || !(l.get(1) instanceof Number hi)) {
            throw refuse(at, field, "between takes a list of two numbers [low, high]");
        }
        Predicate.Num low = Predicate.Num.of(lo);
        Predicate.Num high = Predicate.Num.of(hi);
        if (lo.doubleValue() > hi.doubleValue() || low.integral() && high.integral() && low.whole() > high.whole()) {
            throw refuse(at, field, "between needs low <= high");
        }
        return new Predicate.Between(slot, low, high);
    }

    private Predicate membership(int slot, boolean negated, Object value, String at, String field) {
        String op = negated ? "not_in" : "in";
        if (!(value instanceof List<?> list) || list.isEmpty() || list.size() > RuleSpec.LIST_VALUES_MAX) {
            throw refuse(at, field, op + " takes a list of 1 to " + RuleSpec.LIST_VALUES_MAX + " values");
        }
        Class<?> kind =
                list.getFirst() instanceof Double ? Long.class : list.getFirst().getClass();
        for (Object v : list) {
            Class<?> k = v instanceof Double ? Long.class : v.getClass();
            if (k != kind) {
                throw refuse(at, field, op + " takes values of one kind: all strings, all numbers or all booleans");
            }
            if (v instanceof String s && s.length() > RuleSpec.STRING_VALUE_CHARS_MAX) {
                throw refuse(
                        at, field, "a string value is longer than " + RuleSpec.STRING_VALUE_CHARS_MAX + " characters");
            }
        }
        if (kind == String.class) {
            List<String> strings =
                    list.stream().map(String.class::cast).distinct().toList();
            return new Predicate.StringIn(slot, strings, strings.size(), negated);
        }
        if (kind == Boolean.class) {
            return new Predicate.BooleanIn(slot, list.contains(Boolean.TRUE), list.contains(Boolean.FALSE), negated);
        }
        long[] wholes = list.stream()
                .filter(Long.class::isInstance)
                .mapToLong(Long.class::cast)
                .toArray();
        double[] fractions = list.stream()
                .filter(Double.class::isInstance)
                .mapToDouble(Double.class::cast)
                .toArray();
        List<Long> whole = new ArrayList<>();
        List<Double> frac = new ArrayList<>();
        for (double d : fractions) {
            // A whole double (2.0) is the whole number 2; one beyond 64 bits can only equal a double.
            if (d == Math.rint(d) && d >= -0x1p63 && d < 0x1p63) {
                whole.add((long) d);
            } else {
                frac.add(d);
            }
        }
        for (long l : wholes) {
            whole.add(l);
        }
        return new Predicate.NumberIn(
                slot,
                whole.stream().mapToLong(Long::longValue).toArray(),
                frac.stream().mapToDouble(Double::doubleValue).toArray(),
                negated);
    }

    private Predicate regex(int slot, ConditionSpec c, Object value, String at) {
        if (!(value instanceof String pattern)) {
            throw refuse(at, c.field(), "regex takes a pattern string");
        }
        if (pattern.length() > RuleSpec.PATTERN_CHARS_MAX) {
            throw refuse(at, c.field(), "the pattern is longer than " + RuleSpec.PATTERN_CHARS_MAX + " characters");
        }
        String tooLarge = RegexSize.tooLarge(pattern);
        if (tooLarge != null) {
            throw refuse(at, c.field(), "invalid regex: " + tooLarge);
        }
        Pattern compiled;
        try {
            compiled = Pattern.compile(pattern);
        } catch (PatternSyntaxException e) {
            throw refuse(at, c.field(), "invalid regex: " + e.getMessage());
        }
        int max = c.maxInputChars() == null ? RuleSpec.REGEX_INPUT_CHARS_DEFAULT : c.maxInputChars();
        return new Predicate.Regex(slot, compiled, max, regexIds.getAsInt());
    }

    private Predicate anomaly(int slot, ConditionSpec c, Object value, String at) {
        if (!(value instanceof Number z) || z.doubleValue() <= 0) {
            throw refuse(at, c.field(), "anomaly takes the z-score above which it holds: a number greater than 0");
        }
        double alpha = c.alpha() == null ? ConditionSpec.ALPHA_DEFAULT : c.alpha();
        if (!(alpha > 0 && alpha < 1)) {
            throw refuse(at, c.field(), "alpha must be greater than 0 and less than 1");
        }
        long warmup = c.warmup() == null ? ConditionSpec.WARMUP_DEFAULT : c.warmup();
        if (warmup < 2 || warmup > ConditionSpec.WARMUP_MAX) {
            throw refuse(at, c.field(), "warmup must be from 2 to " + ConditionSpec.WARMUP_MAX + " values");
        }
        String detector = Detectors.detectorId(rule, at, c.field(), alpha, warmup);
        return new Predicate.Anomaly(
                slot, groupSlot(), detector, z.doubleValue(), alpha, warmup, detectorIds.getAsInt());
    }
}

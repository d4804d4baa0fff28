package dev.outpost.edge.engine.rollup;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One aggregate of a rollup: {@code count} (events in the window and group; {@code field} is null), or a
 * function of a numeric field: {@code sum}, {@code min}, {@code max}, {@code mean}, or a quantile {@code
 * p50}, {@code p75}, {@code p90}, {@code p95}, {@code p99}, {@code p999} (from the window's DDSketch, within
 * its {@linkplain WindowSummary#RELATIVE_ACCURACY relative accuracy}). Written {@code count}, {@code
 * sum(bytes)}, {@code p99(http.latency_ms)}; {@code quantiles(f)} is short for p50, p90 and p99 of {@code f}.
 * The field is a dotted path under {@code data} or a JSON Pointer against the whole event ({@link FieldPath}).
 */
public record Aggregate(String function, String field) {
    /** The quantile each quantile function stands for. */
    static final Map<String, Double> QUANTILES =
            Map.of("p50", 0.50, "p75", 0.75, "p90", 0.90, "p95", 0.95, "p99", 0.99, "p999", 0.999);

    /** The functions of a field, besides the quantiles. */
    static final List<String> FIELD_FUNCTIONS = List.of("sum", "min", "max", "mean");

    /** What {@code quantiles(f)} expands to. */
    static final List<String> QUANTILES_SHORTHAND = List.of("p50", "p90", "p99");

    private static final Pattern CALL = Pattern.compile("([a-z0-9]+)\\((.+)\\)");

    public Aggregate {
        if (function.equals("count")) {
            if (field != null) {
                throw new IllegalArgumentException("count takes no field");
            }
        } else if (FIELD_FUNCTIONS.contains(function) || QUANTILES.containsKey(function)) {
            if (field == null) {
                throw new IllegalArgumentException(function + " needs a field, as in " + function + "(bytes)");
            }
            FieldPath.parse(field); // refuses a malformed field
        } else {
            throw new IllegalArgumentException("unknown function '" + function + "'; known: count, "
                    + String.join(", ", FIELD_FUNCTIONS) + ", p50, p75, p90, p95, p99, p999, quantiles(field)");
        }
    }

    /** The count aggregate. */
    public static Aggregate count() {
        return new Aggregate("count", null);
    }

    /**
     * The aggregates {@code text} declares: one, or three for {@code quantiles(f)}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static List<Aggregate> parse(String text) {
        String t = text.strip();
        if (t.equals("count") || t.equals("count()")) {
            return List.of(count());
        }
        Matcher m = CALL.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "'" + text + "' is not an aggregate; write count, sum(field), p99(field), ...");
        }
        String field = m.group(2).strip();
        if (m.group(1).equals("quantiles")) {
            return QUANTILES_SHORTHAND.stream()
                    .map(q -> new Aggregate(q, field))
                    .toList();
        }
        return List.of(new Aggregate(m.group(1), field));
    }

    /** How the aggregate is written and named in query answers: {@code count}, {@code sum(bytes)}. */
    public String label() {
        return field == null ? function : function + "(" + field + ")";
    }

    /** The quantile in 0..1 for a quantile function, else NaN. */
    double quantile() {
        Double q = QUANTILES.get(function);
        return q == null ? Double.NaN : q;
    }

    boolean isQuantile() {
        return QUANTILES.containsKey(function);
    }

    @Override
    public String toString() {
        return label();
    }
}

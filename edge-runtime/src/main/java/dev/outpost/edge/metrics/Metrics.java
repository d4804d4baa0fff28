package dev.outpost.edge.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The agent's metrics, rendered in the Prometheus text format (version 0.0.4). Hand-rolled:
 * counters are LongAdders, so the hot path costs one uncontended add.
 *
 * <p>Design note. One registry per agent, handed to each component, which registers what it
 * measures beside the code that measures it (no central list). Invariants: a series name is
 * registered once (a second registration is a wiring bug and throws); registration may happen
 * while another thread renders.
 */
public final class Metrics {
    private record Series(String name, String type, String help, LongSupplier value) {}

    private final List<Series> series = new CopyOnWriteArrayList<>();
    private final List<Histogram> histograms = new CopyOnWriteArrayList<>();
    private final Set<String> names = ConcurrentHashMap.newKeySet();

    public LongAdder counter(String name, String help) {
        LongAdder a = new LongAdder();
        add(new Series(name, "counter", help, a::sum));
        return a;
    }

    public void gauge(String name, String help, LongSupplier value) {
        add(new Series(name, "gauge", help, value));
    }

    public void counterFn(String name, String help, LongSupplier value) {
        add(new Series(name, "counter", help, value));
    }

    /**
     * One series of a labelled counter family, e.g. {@code outpost_governor_action_runs_total{action="shrink-caches"}};
     * the family's HELP and TYPE are rendered once, before its first series. {@code labelValue} must not need escaping
     * (no quote, backslash or newline).
     */
    public void counterFn(String name, String label, String labelValue, String help, LongSupplier value) {
        add(new Series(name + "{" + label + "=\"" + labelValue + "\"}", "counter", help, value));
    }

    public Histogram histogram(String name, String help) {
        Histogram h = new Histogram(name, help);
        claim(name);
        histograms.add(h);
        return h;
    }

    private void add(Series s) {
        claim(s.name);
        series.add(s);
    }

    private void claim(String name) {
        if (!names.add(name)) {
            throw new IllegalArgumentException("metric " + name + " is registered twice");
        }
    }

    /**
     * The current value of one series (a labelled one as {@code name{label="value"}}), as a scrape
     * would read it; -1 if there is no such series. For tests and checks: the names are the API.
     */
    public long value(String name) {
        for (Series s : series) {
            if (s.name.equals(name)) {
                return s.value.getAsLong();
            }
        }
        return -1;
    }

    private static String family(String name) {
        int brace = name.indexOf('{');
        return brace < 0 ? name : name.substring(0, brace);
    }

    public String render() {
        StringBuilder out = new StringBuilder(4096);
        // A family's series are rendered together, after one HELP and TYPE (the text format requires both).
        Map<String, List<Series>> families = new LinkedHashMap<>();
        for (Series s : series) {
            families.computeIfAbsent(family(s.name), k -> new ArrayList<>()).add(s);
        }
        for (Map.Entry<String, List<Series>> f : families.entrySet()) {
            Series first = f.getValue().getFirst();
            out.append("# HELP ")
                    .append(f.getKey())
                    .append(' ')
                    .append(first.help)
                    .append('\n');
            out.append("# TYPE ")
                    .append(f.getKey())
                    .append(' ')
                    .append(first.type)
                    .append('\n');
            for (Series s : f.getValue()) {
                out.append(s.name).append(' ').append(s.value.getAsLong()).append('\n');
            }
        }
        for (Histogram h : histograms) {
            h.render(out);
        }
        return out.toString();
    }
}

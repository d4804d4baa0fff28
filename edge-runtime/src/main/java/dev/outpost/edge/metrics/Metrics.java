package dev.outpost.edge.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The agent's metrics, rendered in the Prometheus text format (version 0.0.4). Hand-rolled:
 * counters are LongAdders, so the hot path costs one uncontended add.
 */
public final class Metrics {
    private record Series(String name, String type, String help, LongSupplier value) {}

    private final List<Series> series = new ArrayList<>();
    private final List<Histogram> histograms = new ArrayList<>();

    public LongAdder counter(String name, String help) {
        LongAdder a = new LongAdder();
        series.add(new Series(name, "counter", help, a::sum));
        return a;
    }

    public void gauge(String name, String help, LongSupplier value) {
        series.add(new Series(name, "gauge", help, value));
    }

    public void counterFn(String name, String help, LongSupplier value) {
        series.add(new Series(name, "counter", help, value));
    }

    public Histogram histogram(String name, String help) {
        Histogram h = new Histogram(name, help);
        histograms.add(h);
        return h;
    }

    public String render() {
        StringBuilder out = new StringBuilder(4096);
        for (Series s : series) {
            out.append("# HELP ").append(s.name).append(' ').append(s.help).append('\n');
            out.append("# TYPE ").append(s.name).append(' ').append(s.type).append('\n');
            out.append(s.name).append(' ').append(s.value.getAsLong()).append('\n');
        }
        for (Histogram h : histograms) {
            h.render(out);
        }
        return out.toString();
    }
}

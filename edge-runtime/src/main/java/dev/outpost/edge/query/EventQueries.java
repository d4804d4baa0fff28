package dev.outpost.edge.query;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.governance.SmallerBatches;
import dev.outpost.edge.metrics.Histogram;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.governor.BatchScale;
import dev.outpost.store.EventLog;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Reads of the event log (GET /v1/events, and a node's log on a hub): the page and scan sizes in force, which the
 * governor scales down under latency pressure ({@link SmallerBatches}), and the query metrics.
 *
 * <p>Invariant: a limit the configuration allows is always served, as pages of at most {@link #limitMax()} events
 * with a cursor to go on; the sizes are read at each request, since a hub may change the query keys at runtime.
 */
public final class EventQueries {
    private final EventLog log;
    private final Supplier<OutpostConfig> config;
    private final BatchScale scale;
    private final LongSupplier clockNanos;
    private final LongAdder requests;
    private final LongAdder events;
    private final Histogram latency;

    /**
     * @param log the agent's own event log
     * @param config the configuration in force
     * @param scale how far the governor scaled batches down
     */
    public EventQueries(EventLog log, Supplier<OutpostConfig> config, BatchScale scale, Metrics metrics) {
        this.log = log;
        this.config = config;
        this.scale = scale;
        this.clockNanos = System::nanoTime;
        this.requests = metrics.counter("outpost_query_requests_total", "GET /v1/events requests served.");
        this.events = metrics.counter("outpost_query_events_total", "Events returned by GET /v1/events.");
        this.latency = metrics.histogram(
                "outpost_query_request_duration_seconds", "GET /v1/events latency until the response starts.");
    }

    /** The agent's own log. */
    public EventLog log() {
        return log;
    }

    /** query.limit_default as scaled now. */
    public int limitDefault() {
        return scale.apply(config.get().query().limitDefault(), SmallerBatches.PAGE_EVENTS_FLOOR);
    }

    /** query.limit_max as scaled now: larger limits are served as pages of this many. */
    public int limitMax() {
        return scale.apply(config.get().query().limitMax(), SmallerBatches.PAGE_EVENTS_FLOOR);
    }

    /** query.limit_max as configured: the largest limit a request may ask for. */
    public int limitAllowed() {
        return config.get().query().limitMax();
    }

    /** query.scan_records_max as scaled now. */
    public int scanRecordsMax() {
        return scale.apply(config.get().query().scanRecordsMax(), SmallerBatches.SCAN_RECORDS_FLOOR);
    }

    /** The sizes in force, in a few words (for the governor's reports). */
    public String sizes() {
        return "GET /v1/events pages " + limitDefault() + " events, at most " + limitMax() + ", scans "
                + scanRecordsMax() + " records";
    }

    /** Now, on the clock query latency is measured with. */
    public long startNanos() {
        return clockNanos.getAsLong();
    }

    /** A page started at {@code startNanos} is ready to be sent. */
    public void served(long startNanos) {
        requests.increment();
        latency.recordNanos(clockNanos.getAsLong() - startNanos);
    }

    /** A page sent {@code count} events. */
    public void returned(int count) {
        events.add(count);
    }
}

package dev.outpost.edge.status;

import dev.outpost.edge.Agent;
import dev.outpost.edge.upstream.Upstream;
import dev.outpost.governor.Dimension;
import dev.outpost.governor.Reading;
import dev.outpost.governor.Snapshot;
import dev.outpost.sync.PushCounters;
import dev.outpost.sync.Pusher;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples the agent for the status page every {@value #SAMPLE_INTERVAL_MILLIS} ms on its own thread
 * ({@code outpost-status}) into a {@link StatusHistory} of {@value #SAMPLES_MAX} samples: the last hour.
 *
 * <p>Design note. Invariants: the history is bounded ({@value #SAMPLES_MAX} samples, about 100 bytes each plus the
 * pressure array) and never written to disk; sampling only reads what {@code /v1/governor} and {@code /metrics} read
 * (the governor's latest snapshot, never a new one, so the page cannot change when the governor samples or acts;
 * data at risk reads at most {@value #AT_RISK_SCAN_RECORDS_MAX} uncounted records per lane); a failed sample is logged
 * and the next one is taken as usual. Created when the HTTP layer starts
 * ({@code HttpContext}, once the agent's services are in the context), stopped with it.
 */
@Singleton
public final class StatusRecorder implements AutoCloseable {
    /** Time between samples. */
    public static final long SAMPLE_INTERVAL_MILLIS = 5_000;

    /** Samples kept: one hour at the interval. */
    public static final int SAMPLES_MAX = (int) (3_600_000 / SAMPLE_INTERVAL_MILLIS);

    /** Most records one sample reads to bring the data at risk up to date, per lane. */
    static final int AT_RISK_SCAN_RECORDS_MAX = 50_000;

    /** Counter of records a hub stored from its nodes (registered by the hub). */
    static final String HUB_RECORDS_METRIC = "outpost_hub_records_stored_total";

    private static final Logger LOG = LoggerFactory.getLogger(StatusRecorder.class);

    /** The log field that says what to do about a warning (the agent's structured-log convention, issue #16). */
    private static final String ADVICE = "outpost.advice";

    private final Agent agent;
    private final StatusHistory history = new StatusHistory(SAMPLES_MAX);
    private final StatusSampler sampler = new StatusSampler(history);
    private final LongSupplier clock = System::currentTimeMillis;
    private final ScheduledExecutorService thread;

    public StatusRecorder(Agent agent) {
        this.agent = agent;
        this.thread = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("outpost-status").daemon().unstarted(r));
        thread.scheduleAtFixedRate(this::sampleContained, 0, SAMPLE_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The samples of the last hour. */
    public StatusHistory history() {
        return history;
    }

    private void sampleContained() {
        try {
            sampler.take(read(agent, clock.getAsLong()));
        } catch (RuntimeException e) {
            LOG.atWarn()
                    .addKeyValue(ADVICE, "none needed if it passes; if every sample fails, report it with this line")
                    .log("status page: taking a sample failed ({}); the chart skips it", e.toString());
        }
    }

    /** What the agent's counters say now. */
    static StatusSampler.Reading read(Agent agent, long nowMillis) {
        Snapshot s = agent.governor().snapshot();
        double[] pressure = new double[Dimension.values().length];
        Arrays.fill(pressure, Double.NaN);
        if (s != null) {
            for (Reading r : s.readings().values()) {
                pressure[r.dimension().ordinal()] = r.pressure();
            }
        }
        Upstream up = agent.upstream();
        Pusher p = up.pusher();
        PushCounters sent = p == null ? null : p.counters();
        Upstream.AtRisk risk = up.atRisk(AT_RISK_SCAN_RECORDS_MAX);
        long hub = agent.hub() == null ? 0 : Math.max(0, agent.metrics().value(HUB_RECORDS_METRIC));
        return new StatusSampler.Reading(
                nowMillis,
                agent.governor().level().name().toLowerCase(Locale.ROOT),
                pressure,
                agent.ingest().storedEvents(),
                sent == null ? 0 : sent.records(),
                sent == null ? 0 : sent.wireBytes(),
                hub,
                risk.events(),
                risk.bytes());
    }

    @Override
    @PreDestroy
    public void close() {
        thread.shutdownNow();
    }
}

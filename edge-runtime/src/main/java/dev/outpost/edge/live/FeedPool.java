package dev.outpost.edge.live;

import com.sun.management.OperatingSystemMXBean;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.metrics.Metrics;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the feeds of one kind share: the limits, the subscriber count (live.subscribers_max holds across them) and
 * the counters. The agent has one feed over its log; a hub adds one per node log it tails (FleetTail).
 */
public final class FeedPool {
    private static final Logger LOG = LoggerFactory.getLogger(FeedPool.class);

    final Subscriber.Limits limits;
    /** The limits in force: {@link #limits}, or half of them while the governor's memory action is on. */
    final AtomicReference<Subscriber.Limits> inForce = new AtomicReference<>();

    private final int subscribersMax;
    final long lagMax;
    final long heartbeatNanos;
    final boolean appendIsAcknowledged;
    final long busySendBytesPerSecond;
    final int busySendCpuPercent;
    final LiveCounters counters;
    private final AtomicInteger held = new AtomicInteger();

    /** Registers the pool's metrics as {@code prefix}_subscribers, {@code prefix}_messages_total, ... */
    public FeedPool(OutpostConfig config, Metrics metrics, String prefix) {
        OutpostConfig.Live c = config.live();
        this.limits = new Subscriber.Limits(
                c.bufferMessagesMax(),
                c.bufferBytesMax(),
                c.overflow().equals("disconnect") ? Subscriber.Overflow.DISCONNECT : Subscriber.Overflow.SKIP);
        this.inForce.set(limits);
        this.subscribersMax = config.liveSubscribersLimit();
        if (subscribersMax < c.subscribersMax()) {
            LOG.info(
                    "live subscribers: at most {} (live.subscribers_max {} is more than budget.connections less"
                            + " budget.probe_connections, or than a quarter of budget.memory holds in full"
                            + " buffers)",
                    subscribersMax,
                    c.subscribersMax());
        }
        this.lagMax = c.lagEventsMax();
        this.heartbeatNanos = TimeUnit.MILLISECONDS.toNanos(c.heartbeatMillis());
        this.appendIsAcknowledged = !config.log().durability().equals("fsync");
        this.busySendBytesPerSecond = c.busySendBytesPerSecondMax();
        this.busySendCpuPercent = c.busySendCpuPercentMax();
        this.counters = new LiveCounters(metrics, prefix);
        metrics.gauge(prefix + "_subscribers", "Live subscriptions held.", held::get);
    }

    /** The machine's CPU use since the last reading (JDK: /proc/stat on Linux); -1 where unknown. */
    private static final DoubleSupplier CPU_LOAD = cpuLoad();

    private static DoubleSupplier cpuLoad() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os) {
            return os::getCpuLoad;
        }
        return () -> -1;
    }

    /** A feed's send budget: live.busy_send_bytes_per_second_max and the CPU share, over the loops' write time. */
    SendBudget sendBudget() {
        return new SendBudget(
                        busySendBytesPerSecond,
                        busySendCpuPercent,
                        Runtime.getRuntime().availableProcessors(),
                        WriteTime.process()::nanos)
                .counting(counters.probes, counters.probesFound)
                .withCpuLoad(CPU_LOAD);
    }

    /** Takes a subscription slot; false (counted) when live.subscribers_max are held. */
    boolean take() {
        if (held.incrementAndGet() > subscribersMax) {
            held.decrementAndGet();
            counters.refused.increment();
            return false;
        }
        return true;
    }

    void release(int n) {
        held.addAndGet(-n);
    }

    /**
     * The governor's memory action (shrink-caches): while {@code shrunk}, every subscriber's buffer in memory is
     * half its configured size (what does not fit waits in the log). Any thread.
     */
    public void shrinkBuffers(boolean shrunk) {
        inForce.set(
                shrunk
                        ? new Subscriber.Limits(
                                Math.max(1, limits.messagesMax() / 2),
                                Math.max(1, limits.bytesMax() / 2),
                                limits.overflow())
                        : limits);
    }

    /** The messages a subscriber's buffer holds now (the governor may have halved it). */
    public int bufferMessagesMax() {
        return inForce.get().messagesMax();
    }

    /** How many subscriptions are held. */
    public int subscribers() {
        return held.get();
    }

    /** True when live.subscribers_max subscriptions are held. */
    public boolean full() {
        return held.get() >= subscribersMax;
    }
}

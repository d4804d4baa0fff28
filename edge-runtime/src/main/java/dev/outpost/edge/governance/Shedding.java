package dev.outpost.edge.governance;

import dev.outpost.edge.ingest.IngestOutcome;
import dev.outpost.edge.ingest.IngestStage;
import dev.outpost.edge.ingest.ParsedEvent;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.governor.Action;
import dev.outpost.governor.Dimension;
import dev.outpost.governor.Governor;
import dev.outpost.governor.Level;
import dev.outpost.governor.Reading;
import dev.outpost.governor.Snapshot;
import dev.outpost.store.LogFields;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shedding writes under pressure (BRIEF §6): the ingest pipeline's admission stage, and governor action
 * {@value #NAME}, which announces what it refuses.
 *
 * <p>Design note. Invariants:
 *
 * <ul>
 *   <li><b>One pressure.</b> The level is the governor's own, over the shedding dimensions only ({@link
 *       Governor#snapshotOf}): memory, disk and ingest rate. CPU pressure lowers compression effort and concurrency
 *       instead (refusing writes because the JIT is busy would lose data for nothing), and connections are refused at
 *       the gate. Disk is read live (it is tracked on every write), the others as last sampled.
 *   <li><b>By priority.</b> At HIGH, writes to {@code bulk} streams are refused; at CRITICAL, everything but {@code
 *       critical}; critical writes are refused last, only once the disk budget itself is used up.
 *   <li><b>Whole requests.</b> A request with one refused event is refused whole (nothing stored), as {@link
 *       IngestOutcome.Reason#DISK_BUDGET} when the disk is the worst shedding dimension, else {@link
 *       IngestOutcome.Reason#OVERLOADED}; every event of it counts in {@code outpost_ingest_shed_total}.
 *   <li><b>The announcement follows the same level</b>: the action reports each change of what is refused, once.
 * </ul>
 */
public final class Shedding implements IngestStage, Action {
    /** The action's name in logs, metrics and GET /v1/governor. */
    public static final String NAME = "shed-low-priority-writes";

    /** The dimensions whose pressure sheds writes. */
    static final Set<Dimension> DIMENSIONS = EnumSet.of(Dimension.MEMORY, Dimension.DISK, Dimension.INGEST_RATE);

    /** The shedding dimensions read live rather than as last sampled. */
    static final Set<Dimension> LIVE = EnumSet.of(Dimension.DISK);

    /** Seconds a refused client is told to wait (the governor samples every 0.5-2 s at HIGH and above). */
    static final int RETRY_AFTER_SECONDS = 1;

    /** At most one warning per lane in this time: every write is refused while the pressure lasts. */
    static final long WARN_EVERY_NANOS = 10_000_000_000L;

    private static final Logger LOG = LoggerFactory.getLogger(Shedding.class);

    private final Governor governor;
    private final Function<String, String> priorityOf;
    /** When each lane's refusal was last logged (System.nanoTime), by priority class. */
    private final Map<String, AtomicLong> warnedAt = Map.of(
            "critical", new AtomicLong(Long.MIN_VALUE / 2),
            "high", new AtomicLong(Long.MIN_VALUE / 2),
            "normal", new AtomicLong(Long.MIN_VALUE / 2),
            "bulk", new AtomicLong(Long.MIN_VALUE / 2));

    private final LongAdder shed;
    private Level announced = Level.LOW; // on the governor's thread only

    /**
     * @param governor whose level sheds
     * @param priorityOf the priority class of a stream (critical, high, normal or bulk)
     */
    Shedding(Governor governor, Function<String, String> priorityOf, Metrics metrics) {
        this.governor = governor;
        this.priorityOf = priorityOf;
        this.shed =
                metrics.counter("outpost_ingest_shed_total", "Events refused by shedding (429/507) under pressure.");
    }

    /** The governor's pressure over the shedding dimensions, disk read now. */
    Snapshot pressure() {
        return governor.snapshotOf(DIMENSIONS, LIVE);
    }

    @Override
    public IngestOutcome.Rejection check(Batch batch) {
        // The common case (below HIGH) asks for the level alone, which allocates nothing; the snapshot, with the
        // readings a refusal names, is built only when something may be refused.
        if (governor.levelOf(DIMENSIONS, LIVE).compareTo(Level.HIGH) < 0) {
            return null;
        }
        Snapshot s = pressure();
        Level level = s.level();
        if (level.compareTo(Level.HIGH) < 0) {
            return null;
        }
        Reading disk = s.readings().get(Dimension.DISK);
        boolean diskFull = disk != null && disk.usage() >= disk.limit();
        for (ParsedEvent e : batch.events()) {
            String priority = priorityOf.apply(e.stream());
            boolean refuse = switch (priority) {
                case "bulk" -> true;
                case "critical" -> diskFull;
                default -> level == Level.CRITICAL;
            };
            if (refuse) {
                shed.add(batch.events().size());
                IngestOutcome.Refused refused = refusal(s, priority, e.stream());
                warn(s, priority, e.stream());
                return refused;
            }
        }
        return null;
    }

    /** Says that {@code priority} writes are refused, naming the lane and stream and what to do (rate-limited). */
    private void warn(Snapshot s, String priority, String stream) {
        AtomicLong last = warnedAt.get(priority);
        long now = System.nanoTime();
        long was = last == null ? now : last.get();
        if (last == null || now - was < WARN_EVERY_NANOS || !last.compareAndSet(was, now)) {
            return;
        }
        Reading worst = worst(s);
        Dimension d = worst == null ? Dimension.DISK : worst.dimension();
        LOG.atWarn()
                .addKeyValue(LogFields.LANE, priority)
                .addKeyValue(LogFields.STREAM, stream)
                .addKeyValue(LogFields.ADVICE, advice(d, priority))
                .log(
                        "ingest: refusing {} writes (stream '{}' first) at level {}: {} at {} % of its budget;"
                                + " clients get 429/507 with Retry-After",
                        priority,
                        stream,
                        s.level(),
                        d.name().toLowerCase(Locale.ROOT),
                        worst == null ? "?" : Math.round(worst.pressure() * 100));
    }

    /** What an operator can do about writes refused under pressure on {@code d}. */
    static String advice(Dimension d, String priority) {
        return switch (d) {
            case DISK ->
                "raise budget.disk, shorten retention_seconds of the " + priority + " streams, or restore the"
                        + " upstream link (sync.upstream) so synced data can be retired";
            case MEMORY -> "raise budget.memory, or lower live.subscribers_max and the dedup windows";
            case INGEST_RATE -> "raise budget.ingest_rate or slow the senders down";
            default -> "see GET /v1/governor for the dimension under pressure";
        };
    }

    private static Reading worst(Snapshot s) {
        Reading worst = null;
        for (Reading r : s.readings().values()) {
            if (worst == null || r.pressure() > worst.pressure()) {
                worst = r;
            }
        }
        return worst;
    }

    private static IngestOutcome.Refused refusal(Snapshot s, String priority, String stream) {
        Reading worst = worst(s);
        boolean onDisk = worst != null && worst.dimension() == Dimension.DISK;
        String why = "the agent is at level " + s.level() + " ("
                + (worst == null
                        ? "?"
                        : worst.dimension().name().toLowerCase(Locale.ROOT) + " at "
                                + Math.round(worst.pressure() * 100) + " % of budget")
                + "); " + priority + " writes to stream '" + stream + "' are refused for now; retry later";
        return new IngestOutcome.Refused(
                onDisk ? IngestOutcome.Reason.DISK_BUDGET : IngestOutcome.Reason.OVERLOADED, why, RETRY_AFTER_SECONDS);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String onLevel(Level ignored, Snapshot snapshot) {
        Level was = announced;
        Level level = pressure().level();
        announced = level;
        if (level.compareTo(Level.HIGH) < 0) {
            return was.compareTo(Level.HIGH) >= 0 ? "stopped shedding" : null;
        }
        if (level == was) {
            return null;
        }
        return level == Level.HIGH
                ? "refusing bulk writes"
                : "refusing bulk, normal and high writes (critical only while the disk has room)";
    }
}

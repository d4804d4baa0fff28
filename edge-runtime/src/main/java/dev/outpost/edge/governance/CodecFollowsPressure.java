package dev.outpost.edge.governance;

import dev.outpost.compress.Pressure;
import dev.outpost.governor.Action;
import dev.outpost.governor.Dimension;
import dev.outpost.governor.Level;
import dev.outpost.governor.Reading;
import dev.outpost.governor.Snapshot;
import dev.outpost.store.LanedEventLog;

/**
 * Governor action {@value #NAME} (BRIEF §6, compression effort follows pressure): CPU at {@value #HIGH_AT} or more
 * keeps the hot log on LZ4 fast; disk at {@value #HIGH_AT} or more (CPU not) moves it to the densest codec. The log
 * decides per block from the hint; this action only tells it when the hint changes, and reports each change once.
 */
public final class CodecFollowsPressure implements Action {
    /** The action's name in logs, metrics and GET /v1/governor. */
    public static final String NAME = "codec-follows-pressure";

    /** Pressure (usage / budget) from which CPU or disk counts as high for the codec. */
    static final double HIGH_AT = 0.70;

    private final LanedEventLog log;
    private Pressure last = Pressure.NONE; // on the governor's thread only

    CodecFollowsPressure(LanedEventLog log) {
        this.log = log;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String onLevel(Level level, Snapshot s) {
        Pressure p = new Pressure(high(s, Dimension.CPU), high(s, Dimension.DISK));
        if (p.equals(last)) {
            return null;
        }
        last = p;
        log.pressure(p);
        return "hot-log codec pressure hint: cpu " + (p.cpuHigh() ? "high" : "normal") + ", disk "
                + (p.diskHigh() ? "high" : "normal");
    }

    private static boolean high(Snapshot s, Dimension d) {
        Reading r = s.readings().get(d);
        return r != null && r.pressure() >= HIGH_AT;
    }
}

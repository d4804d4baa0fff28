package dev.outpost.edge.governance;

import dev.outpost.edge.ingest.Ingestor;
import dev.outpost.edge.live.LiveFeed;
import dev.outpost.governor.Action;
import dev.outpost.governor.Dimension;
import dev.outpost.governor.Level;
import dev.outpost.governor.Reading;
import dev.outpost.governor.Snapshot;
import dev.outpost.store.Catalog;

/**
 * Governor action {@value #NAME} (BRIEF §6, first action): at memory pressure {@value #SHRINK_AT} or more, halves the
 * ingest dedup windows (keeping their newest entries) and keeps only {@value #DICTIONARIES_SHRUNK} decoded
 * dictionaries; below {@value #RESTORE_BELOW} both get their configured capacity back (they refill with traffic). The
 * gap between the two thresholds keeps it from flapping around one value. Reports only what it changed.
 *
 * <p>The trade-off: while shrunk, a retry of an event older than the smaller window is stored again (docs/API.md).
 */
public final class ShrinkCaches implements Action {
    /** The action's name in logs, metrics and GET /v1/governor. */
    public static final String NAME = "shrink-caches";

    /** Memory pressure (usage / budget) at which the caches shrink. */
    static final double SHRINK_AT = 0.80;

    /** Memory pressure under which the caches get their capacity back. */
    static final double RESTORE_BELOW = 0.70;

    /** Decoded dictionaries (each with native Zstd tables) kept while shrunk. */
    public static final int DICTIONARIES_SHRUNK = 4;

    private final Ingestor ingestor;
    private final Catalog catalog;
    private final int windowEvents;
    private final int windowRequests;
    private final LiveFeed live;
    private boolean shrunk; // on the governor's thread only

    ShrinkCaches(Ingestor ingestor, Catalog catalog, int windowEvents, int windowRequests, LiveFeed live) {
        this.live = live;
        this.ingestor = ingestor;
        this.catalog = catalog;
        this.windowEvents = windowEvents;
        this.windowRequests = windowRequests;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean everySample() {
        return true; // cheap, and restoring does not wait for a level change
    }

    @Override
    public String onLevel(Level level, Snapshot snapshot) {
        Reading memory = snapshot.readings().get(Dimension.MEMORY);
        if (memory == null) {
            return null; // not measured this time: keep things as they are
        }
        int percent = (int) Math.round(memory.pressure() * 100);
        if (!shrunk && memory.pressure() >= SHRINK_AT) {
            shrunk = true;
            ingestor.resizeWindows(windowEvents / 2, windowRequests / 2);
            catalog.dictionaryCacheMax(DICTIONARIES_SHRUNK);
            live.pool().shrinkBuffers(true);
            return "memory at " + percent + " %: dedup windows halved to " + ingestor.windowEvents()
                    + " event ids and " + ingestor.windowRequests()
                    + " request keys (older retries are stored again); decoded dictionaries kept: "
                    + DICTIONARIES_SHRUNK + "; live subscribers' buffers halved";
        }
        if (shrunk && memory.pressure() < RESTORE_BELOW) {
            shrunk = false;
            ingestor.resizeWindows(windowEvents, windowRequests);
            catalog.dictionaryCacheMax(Catalog.DICTIONARY_CACHE_MAX);
            live.pool().shrinkBuffers(false);
            return "memory at " + percent + " %: dedup windows back to " + windowEvents + " event ids and "
                    + windowRequests + " request keys; decoded dictionaries kept: " + Catalog.DICTIONARY_CACHE_MAX
                    + "; live subscribers' buffers restored";
        }
        return null;
    }
}

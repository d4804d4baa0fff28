package dev.outpost.edge.governance;

import dev.outpost.governor.Action;
import dev.outpost.governor.Level;
import dev.outpost.governor.Snapshot;
import java.util.function.LongSupplier;

/**
 * A disk action: from {@link #at} x budget.disk (usage tracked on every write, not the sample), one retention pass
 * frees down to {@link #target} x budget.disk; the report says how many events it deleted and the bytes freed. Runs
 * again on every sample while the disk stays above {@link #at} (the governor calls actions on every sample from
 * ELEVATED).
 */
abstract sealed class DiskRetentionAction implements Action permits RetireSyncedData, DropUnsyncedData {
    private final String name;
    private final double at;
    private final double target;
    private final LongSupplier budgetBytes;
    final DiskRetention retention;

    DiskRetentionAction(String name, double at, double target, LongSupplier budgetBytes, DiskRetention retention) {
        this.name = name;
        this.at = at;
        this.target = target;
        this.budgetBytes = budgetBytes;
        this.retention = retention;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String onLevel(Level level, Snapshot s) {
        long budget = budgetBytes.getAsLong();
        long used = retention.disk().bytes();
        if (used < at * budget) {
            return null;
        }
        long before = events();
        long freed = free(used - (long) (target * budget));
        if (freed == 0) {
            return null;
        }
        retention.disk().reconcile();
        return report(events() - before, freed);
    }

    /** One retention pass freeing at least {@code bytes}, if it can; returns the bytes freed. */
    abstract long free(long bytes);

    /** The events this action's passes deleted so far. */
    abstract long events();

    /** What a pass that deleted {@code events} events and freed {@code bytes} did, in a few words. */
    abstract String report(long events, long bytes);
}

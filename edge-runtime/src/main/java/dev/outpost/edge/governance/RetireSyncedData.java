package dev.outpost.edge.governance;

import java.util.function.LongSupplier;

/**
 * Governor action {@value #NAME} (BRIEF §6, retire data in a planned order, first step): at disk usage {@value #AT} x
 * budget.disk, deletes the oldest log cycle files whose every record upstream has acknowledged, down to {@value
 * #TARGET} x budget.disk. Nothing is lost: upstream has it.
 */
public final class RetireSyncedData extends DiskRetentionAction {
    /** The action's name in logs, metrics and GET /v1/governor. */
    public static final String NAME = "retire-synced-data";

    /** Disk pressure at which synced data is retired (the HIGH level). */
    static final double AT = 0.85;

    /** Disk pressure that retiring synced data brings usage back under. */
    static final double TARGET = 0.70;

    RetireSyncedData(LongSupplier budgetBytes, DiskRetention retention) {
        super(NAME, AT, TARGET, budgetBytes, retention);
    }

    @Override
    long free(long bytes) {
        return retention.retireSynced(bytes);
    }

    @Override
    long events() {
        return retention.retiredEvents();
    }

    @Override
    String report(long events, long bytes) {
        return "retired " + events + " synced events (" + bytes + " bytes)";
    }
}

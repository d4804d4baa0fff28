package dev.outpost.edge.governance;

import dev.outpost.store.Lane;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Governor action {@value #NAME} (BRIEF §6, retire data in a planned order, last step): at disk usage {@value #AT} x
 * budget.disk, deletes the oldest log cycle files of the {@code bulk} lane, then of the {@code normal} lane, synced
 * or not, down to {@value #TARGET} x budget.disk. This is counted loss (GET /v1/retention says what); the high and
 * critical lanes are never dropped, so critical writes go on until the budget itself is full.
 */
public final class DropUnsyncedData extends DiskRetentionAction {
    /** The action's name in logs, metrics and GET /v1/governor. */
    public static final String NAME = "drop-unsynced-bulk-then-normal";

    /** Lanes that may be dropped before upstream has them, in this order. */
    static final List<Lane> ORDER = List.of(Lane.BULK, Lane.NORMAL);

    /** Disk pressure at which unsynced data is dropped (the CRITICAL level). */
    static final double AT = 0.95;

    /** Disk pressure that dropping unsynced data brings usage back under. */
    static final double TARGET = 0.85;

    DropUnsyncedData(LongSupplier budgetBytes, DiskRetention retention) {
        super(NAME, AT, TARGET, budgetBytes, retention);
    }

    @Override
    long free(long bytes) {
        return retention.dropUnsynced(bytes, ORDER);
    }

    @Override
    long events() {
        return retention.droppedEvents();
    }

    @Override
    String report(long events, long bytes) {
        return "dropped " + events + " unsynced events of lanes " + ORDER + "; see GET /v1/retention (" + bytes
                + " bytes)";
    }
}

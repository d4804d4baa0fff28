package dev.outpost.edge.governance;

import dev.outpost.governor.Action;
import dev.outpost.governor.Dimension;
import dev.outpost.governor.Level;
import dev.outpost.governor.Reading;
import dev.outpost.governor.Snapshot;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Governor action {@value #NAME} (BRIEF §6, second action; compression effort is {@code codec-follows-pressure}): at
 * CPU pressure {@value #LOWER_AT} or more, the connection gate admits new connections only up to half of
 * budget.connections (never fewer than {@value #CONNECTIONS_FLOOR}); open connections are not cut. Below
 * {@value #RESTORE_BELOW} the full budget is back. Fewer connections means fewer requests parsed, validated and
 * compressed at once, which is the CPU the agent can shed without refusing writes already accepted.
 */
public final class LowerConcurrency implements Action {
    /** The action's name in logs, metrics and GET /v1/governor. */
    public static final String NAME = "lower-concurrency";

    /** CPU pressure (process CPU / budget.cpu) at which the connection limit is lowered. */
    static final double LOWER_AT = 0.70;

    /** CPU pressure under which the full budget.connections is admitted again. */
    static final double RESTORE_BELOW = 0.60;

    /** Fewest connections the lowered gate admits (a budget under it is not lowered at all). */
    static final int CONNECTIONS_FLOOR = 16;

    private final AtomicInteger connectionsLimit;
    private final int budgetConnections;
    private boolean lowered; // on the governor's thread only

    /**
     * @param connectionsLimit what the connection gate admits; set here
     * @param budgetConnections budget.connections
     */
    LowerConcurrency(AtomicInteger connectionsLimit, int budgetConnections) {
        this.connectionsLimit = connectionsLimit;
        this.budgetConnections = budgetConnections;
    }

    /** The lowered limit: half the budget, but at least the floor (or the budget, if it is smaller). */
    public static int loweredConnections(int budgetConnections) {
        return Math.max(Math.min(budgetConnections, CONNECTIONS_FLOOR), budgetConnections / 2);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean everySample() {
        return true; // restoring below 60 % happens inside the MEDIUM band, with no level change
    }

    @Override
    public String onLevel(Level level, Snapshot snapshot) {
        Reading cpu = snapshot.readings().get(Dimension.CPU);
        if (cpu == null) {
            return null;
        }
        int percent = (int) Math.round(cpu.pressure() * 100);
        if (!lowered && cpu.pressure() >= LOWER_AT) {
            lowered = true;
            int limit = loweredConnections(budgetConnections);
            connectionsLimit.set(limit);
            return "CPU at " + percent + " %: new connections admitted up to " + limit + " (budget.connections "
                    + budgetConnections + "); open ones are kept";
        }
        if (lowered && cpu.pressure() < RESTORE_BELOW) {
            lowered = false;
            connectionsLimit.set(budgetConnections);
            return "CPU at " + percent + " %: connections admitted up to budget.connections " + budgetConnections
                    + " again";
        }
        return null;
    }
}

package dev.outpost.edge.engine.rollup;

/**
 * Bounds of the rollups of one agent.
 *
 * @param groupsMax (window, group) summaries held in memory over all rollups; past it the rollups flush and
 *     drop what they hold (nothing is lost: it is on disk and read back when its group sees another event).
 *     At ~0.5 to 2 KiB each (see {@link WindowSummary}), the default holds 100,000 in roughly 50 to 200 MiB.
 * @param rollupsMax rollups that may be defined at once
 */
public record Limits(int groupsMax, int rollupsMax) {
    /** The default of {@link #groupsMax}. */
    public static final int GROUPS_MAX_DEFAULT = 100_000;
    /** The default of {@link #rollupsMax}. */
    public static final int ROLLUPS_MAX_DEFAULT = 64;
    /** The smallest {@link #groupsMax}: each event may add one summary per rollup of its stream. */
    public static final int GROUPS_MAX_MIN = 2 * ROLLUPS_MAX_DEFAULT;

    /** The defaults. */
    public static final Limits DEFAULT = new Limits(GROUPS_MAX_DEFAULT, ROLLUPS_MAX_DEFAULT);

    public Limits {
        if (rollupsMax < 1) {
            throw new IllegalArgumentException("rollupsMax must be at least 1, not " + rollupsMax);
        }
        if (groupsMax < Math.max(GROUPS_MAX_MIN, 2 * rollupsMax)) {
            throw new IllegalArgumentException(
                    "groupsMax must be at least " + Math.max(GROUPS_MAX_MIN, 2 * rollupsMax) + ", not " + groupsMax);
        }
    }
}

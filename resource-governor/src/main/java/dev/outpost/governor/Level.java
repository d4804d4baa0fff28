package dev.outpost.governor;

/** Pressure level; the governor samples faster the higher it is (BRIEF §6). */
public enum Level {
    /** pressure &lt; 0.50, sampled every 60 s. */
    LOW(60_000),
    /** 0.50 &lt;= pressure &lt; 0.70, every 15 s. */
    MEDIUM(15_000),
    /** 0.70 &lt;= pressure &lt; 0.85, every 5 s. */
    ELEVATED(5_000),
    /** 0.85 &lt;= pressure &lt; 0.95, every 2 s. */
    HIGH(2_000),
    /** pressure &gt;= 0.95, every 500 ms. */
    CRITICAL(500);

    private final long sampleIntervalMillis;

    Level(long sampleIntervalMillis) {
        this.sampleIntervalMillis = sampleIntervalMillis;
    }

    /** How long the governor waits before the next sample while at this level. */
    public long sampleIntervalMillis() {
        return sampleIntervalMillis;
    }

    /** The level of one pressure (usage / limit); lower bounds are inclusive; NaN and negatives are LOW. */
    public static Level of(double pressure) {
        if (pressure >= 0.95) {
            return CRITICAL;
        }
        if (pressure >= 0.85) {
            return HIGH;
        }
        if (pressure >= 0.70) {
            return ELEVATED;
        }
        if (pressure >= 0.50) {
            return MEDIUM;
        }
        return LOW;
    }
}

package dev.outpost.governor;

/**
 * The agent's one budget. Parsing units ("512MiB", "20000/s") belongs to the configuration layer.
 *
 * @param memoryBytes memory limit in bytes, against the process RSS (the cgroup's usage is reported, not budgeted: see docs/DECISIONS.md); must be positive
 * @param cpuCores CPU limit in cores, fractions allowed; must be positive
 * @param diskBytes data-directory limit in bytes; must be positive
 * @param connections maximum open connections; must be positive
 * @param ingestEventsPerSecond ingest-rate limit in events per second; 0 = no limit (the dimension is not governed)
 */
public record Budget(long memoryBytes, double cpuCores, long diskBytes, int connections, long ingestEventsPerSecond) {

    public Budget {
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException("memoryBytes must be positive: " + memoryBytes);
        }
        if (!(cpuCores > 0) || Double.isInfinite(cpuCores)) {
            throw new IllegalArgumentException("cpuCores must be positive and finite: " + cpuCores);
        }
        if (diskBytes <= 0) {
            throw new IllegalArgumentException("diskBytes must be positive: " + diskBytes);
        }
        if (connections <= 0) {
            throw new IllegalArgumentException("connections must be positive: " + connections);
        }
        if (ingestEventsPerSecond < 0) {
            throw new IllegalArgumentException(
                    "ingestEventsPerSecond must be >= 0 (0 = none): " + ingestEventsPerSecond);
        }
    }

    /** The limit of one dimension in its probe's unit (CPU in milli-cores); 0 = not governed. */
    long limit(Dimension dimension) {
        return switch (dimension) {
            case MEMORY -> memoryBytes;
            case CPU -> Math.max(1, Math.round(cpuCores * 1000));
            case DISK -> diskBytes;
            case CONNECTIONS -> connections;
            case INGEST_RATE -> ingestEventsPerSecond;
        };
    }
}

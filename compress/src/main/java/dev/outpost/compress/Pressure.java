package dev.outpost.compress;

/**
 * The governor's hint about the resources codec choice trades: CPU pressure asks for a cheaper
 * codec, disk pressure for a stronger one. When both are high, CPU wins: an agent that cannot keep
 * up loses data sooner than one whose disk fills more slowly.
 *
 * @param cpuHigh CPU pressure is high (governor level elevated or above on CPU)
 * @param diskHigh disk pressure is high (elevated or above on disk)
 */
public record Pressure(boolean cpuHigh, boolean diskHigh) {
    /** No pressure. */
    public static final Pressure NONE = new Pressure(false, false);
}

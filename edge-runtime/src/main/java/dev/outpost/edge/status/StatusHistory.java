package dev.outpost.edge.status;

import java.util.ArrayList;
import java.util.List;

/**
 * What the status page charts: the last {@code capacity} samples of the agent's pressure, rates and data at risk, in
 * memory only (a ring; nothing of it is written to disk, so a restart starts an empty chart).
 *
 * <p>Design note. Invariants: at most {@code capacity} samples are held, whatever the run time (the oldest is
 * overwritten); samples are kept in the order their times say, oldest first: one whose time is before the newest
 * held (the wall clock stepped back) replaces nothing and is dropped, so a chart's time axis never runs backwards.
 * Time is passed in by the caller ({@link StatusSampler} reads the clock), so tests control it. Thread-safe: the
 * sampler's thread adds while HTTP threads read copies.
 */
public final class StatusHistory {
    /**
     * One sample.
     *
     * @param atMillis when it was taken (wall clock, epoch milliseconds)
     * @param level the governor's level then, lower case ({@code low} .. {@code critical})
     * @param pressure each governed dimension's usage / limit then, in {@link dev.outpost.governor.Dimension} order
     *     (NaN for a dimension not measured)
     * @param rates the rates over the time since the previous sample
     * @param atRiskEvents events no upstream has acknowledged
     * @param atRiskBytes their payload bytes
     */
    public record Sample(
            long atMillis, String level, double[] pressure, Rates rates, long atRiskEvents, long atRiskBytes) {
        public Sample {
            pressure = pressure.clone();
        }

        @Override
        public double[] pressure() {
            return pressure.clone();
        }
    }

    /**
     * Per-second rates between two samples.
     *
     * @param ingestEvents events stored
     * @param syncRecords records pushed to the upstream hub
     * @param syncWireBytes bytes pushed (compressed, as sent)
     * @param hubRecords records received from nodes (hub mode; 0 otherwise)
     */
    public record Rates(double ingestEvents, double syncRecords, double syncWireBytes, double hubRecords) {
        public static final Rates NONE = new Rates(0, 0, 0, 0);
    }

    private final Sample[] ring;
    private int next; // where the next sample goes
    private int size;

    /** @param capacity most samples held (at least 1) */
    public StatusHistory(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        }
        this.ring = new Sample[capacity];
    }

    /** Adds a sample, overwriting the oldest when full; false (and nothing kept) if it is older than the newest. */
    public synchronized boolean add(Sample s) {
        if (size > 0 && s.atMillis() < newest().atMillis()) {
            return false;
        }
        ring[next] = s;
        next = (next + 1) % ring.length;
        size = Math.min(size + 1, ring.length);
        return true;
    }

    /** The samples taken after {@code fromMillis} (exclusive), oldest first. */
    public synchronized List<Sample> since(long fromMillis) {
        List<Sample> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            Sample s = ring[(next - size + i + ring.length) % ring.length];
            if (s.atMillis() > fromMillis) {
                out.add(s);
            }
        }
        return out;
    }

    /** How many samples are held. */
    public synchronized int size() {
        return size;
    }

    /** Most samples held. */
    public int capacity() {
        return ring.length;
    }

    private Sample newest() {
        return ring[(next - 1 + ring.length) % ring.length];
    }
}

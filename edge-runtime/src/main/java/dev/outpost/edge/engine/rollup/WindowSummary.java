package dev.outpost.edge.engine.rollup;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.encoding.ByteArrayInput;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;
import com.datadoghq.sketch.ddsketch.mapping.LogarithmicMapping;
import com.datadoghq.sketch.ddsketch.store.PaginatedStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The mergeable state of one group over one window: the event count and, per numeric field the aggregates
 * read, how many values were counted, their sum, min and max, and a DDSketch of them when a quantile of the
 * field is asked. It is what a window row stores ({@link #encode}) and what syncs: summaries of the same
 * (rollup, window, group) from several nodes or several flushes {@linkplain #mergeWith merge} into the
 * summary of all their events; count, min and max merge exactly, sums up to floating-point rounding, and
 * quantiles stay within {@link #RELATIVE_ACCURACY} of the true value whatever the merge order (DDSketch
 * merges bin by bin, so merging is exact and commutative).
 *
 * <p>Invariants: {@code stats} holds four doubles per field: values counted (exact up to 2^53), sum, min,
 * max (+inf/-inf while none); a field's sketch, when present, has counted the same values. Values that are
 * not finite or lie beyond the sketch's range are refused by {@link #accepts} and never counted.
 *
 * <p>Memory: one small object, one {@code double[4 x fields]}, and per sketched field a DDSketch on a {@link
 * PaginatedStore} (pages of 32 bins, allocated where values fall): ~0.4 KiB for values within one page, about
 * 2 KiB for values over two orders of magnitude.
 */
public final class WindowSummary {
    /** The sketches' relative accuracy: a quantile is within 1 % of the true value. Same on every node. */
    public static final double RELATIVE_ACCURACY = 0.01;

    /** The one mapping every sketch uses, so that all of them merge; immutable, shared. */
    static final IndexMapping MAPPING = new LogarithmicMapping(RELATIVE_ACCURACY);

    /** The first byte of {@link #encode}'s form; a new form gets a new number. */
    static final byte FORMAT = 1;

    private static final int STATS_PER_FIELD = 4;

    private long count;
    private final double[] stats;
    private final DDSketch[] sketches;

    /** Changed since it was last written (bookkeeping of {@link Rollups}; not encoded). */
    boolean dirty;

    /** An empty summary over {@code sketched.length} fields; {@code sketched[i]}: keep a sketch of field i. */
    WindowSummary(boolean[] sketched) {
        stats = new double[STATS_PER_FIELD * sketched.length];
        sketches = new DDSketch[sketched.length];
        for (int i = 0; i < sketched.length; i++) {
            stats[i * STATS_PER_FIELD + 2] = Double.POSITIVE_INFINITY;
            stats[i * STATS_PER_FIELD + 3] = Double.NEGATIVE_INFINITY;
            if (sketched[i]) {
                sketches[i] = new DDSketch(MAPPING, PaginatedStore::new);
            }
        }
    }

    private WindowSummary(long count, double[] stats, DDSketch[] sketches) {
        this.count = count;
        this.stats = stats;
        this.sketches = sketches;
    }

    /** Whether {@link #addValue} would count {@code v}: finite and within the sketches' range. */
    static boolean accepts(double v) {
        return Double.isFinite(v) && Math.abs(v) <= MAPPING.maxIndexableValue();
    }

    void addEvent() {
        count++;
    }

    /** Counts value {@code v} of field {@code field}; {@code v} must pass {@link #accepts}. */
    void addValue(int field, double v) {
        int s = field * STATS_PER_FIELD;
        stats[s]++;
        stats[s + 1] += v;
        stats[s + 2] = Math.min(stats[s + 2], v);
        stats[s + 3] = Math.max(stats[s + 3], v);
        if (sketches[field] != null) {
            sketches[field].accept(v);
        }
    }

    /** Events counted. */
    public long count() {
        return count;
    }

    /**
     * Adds {@code other}'s events to this summary (same rollup, window and group, e.g. from another node).
     *
     * @throws IllegalArgumentException if the two were not built for the same aggregates
     */
    public void mergeWith(WindowSummary other) {
        if (other.stats.length != stats.length) {
            throw new IllegalArgumentException("summaries of " + fields() + " and " + other.fields() + " fields");
        }
        for (int i = 0; i < sketches.length; i++) {
            if ((sketches[i] == null) != (other.sketches[i] == null)) {
                throw new IllegalArgumentException("field " + i + " is sketched in only one summary");
            }
        }
        count += other.count;
        for (int i = 0; i < fields(); i++) {
            int s = i * STATS_PER_FIELD;
            stats[s] += other.stats[s];
            stats[s + 1] += other.stats[s + 1];
            stats[s + 2] = Math.min(stats[s + 2], other.stats[s + 2]);
            stats[s + 3] = Math.max(stats[s + 3], other.stats[s + 3]);
            if (sketches[i] != null) {
                sketches[i].mergeWith(other.sketches[i]);
            }
        }
    }

    /** The summary of both, as stored bytes (for the hub: rows of several nodes for one window and group). */
    public static byte[] merge(byte[] a, byte[] b) {
        WindowSummary m = decode(a);
        m.mergeWith(decode(b));
        return m.encode();
    }

    private int fields() {
        return sketches.length;
    }

    /**
     * Each aggregate's value, by label, in the spec's order: {@code count} a Long; the others a Double, or
     * null when no value of the field was counted. Quantiles are clamped to the exact min and max.
     */
    public Map<String, Object> values(RollupSpec spec) {
        double[] v = valueArray(spec);
        Map<String, Object> values = new LinkedHashMap<>();
        List<Aggregate> aggregates = spec.aggregates();
        for (int i = 0; i < aggregates.size(); i++) {
            values.put(aggregates.get(i).label(), value(aggregates.get(i), v[i]));
        }
        return values;
    }

    /** A value of {@link #valueArray} as answered: count a Long, NaN null, else the Double. */
    static Object value(Aggregate a, double v) {
        if (a.field() == null) {
            return (long) v;
        }
        return Double.isNaN(v) ? null : v;
    }

    /** Each aggregate's value in the spec's order, NaN where {@link #values} has null. */
    double[] valueArray(RollupSpec spec) {
        return valueArray(spec.valueFields(), spec.aggregates());
    }

    /** {@link #valueArray(RollupSpec)} of a summary built over {@code fields} (an ad-hoc {@link Aggregation}). */
    double[] valueArray(List<String> fields, List<Aggregate> aggregates) {
        double[] out = new double[aggregates.size()];
        for (int i = 0; i < out.length; i++) {
            Aggregate a = aggregates.get(i);
            if (a.field() == null) {
                out[i] = count;
                continue;
            }
            int f = fields.indexOf(a.field());
            int s = f * STATS_PER_FIELD;
            double n = stats[s];
            out[i] = n == 0
                    ? Double.NaN
                    : switch (a.function()) {
                        case "sum" -> stats[s + 1];
                        case "min" -> stats[s + 2];
                        case "max" -> stats[s + 3];
                        case "mean" -> stats[s + 1] / n;
                        default -> Math.clamp(sketches[f].getValueAtQuantile(a.quantile()), stats[s + 2], stats[s + 3]);
                    };
        }
        return out;
    }

    /** The stored form: format byte, count, fields, then per field its stats and its encoded sketch. */
    public byte[] encode() {
        GrowingByteArrayOutput sketchBytes = GrowingByteArrayOutput.withInitialCapacity(64);
        int[] ends = new int[fields()];
        try {
            for (int i = 0; i < fields(); i++) {
                if (sketches[i] != null) {
                    sketches[i].encode(sketchBytes, false); // with its mapping: a summary is self-describing
                }
                ends[i] = sketchBytes.numWrittenBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to a byte array does not fail
        }
        ByteBuffer b = ByteBuffer.allocate(
                1 + 8 + 1 + fields() * (STATS_PER_FIELD * 8 + 1 + 4) + sketchBytes.numWrittenBytes());
        b.put(FORMAT).putLong(count).put((byte) fields());
        int start = 0;
        for (int i = 0; i < fields(); i++) {
            for (int k = 0; k < STATS_PER_FIELD; k++) {
                b.putDouble(stats[i * STATS_PER_FIELD + k]);
            }
            b.put((byte) (sketches[i] != null ? 1 : 0)).putInt(ends[i] - start);
            b.put(sketchBytes.backingArray(), start, ends[i] - start);
            start = ends[i];
        }
        return b.array();
    }

    /**
     * Reads {@link #encode}'s form.
     *
     * @throws IllegalArgumentException if the bytes are not a summary of a known form
     */
    public static WindowSummary decode(byte[] bytes) {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            if (b.get() != FORMAT) {
                throw new IllegalArgumentException("unknown summary format " + bytes[0]);
            }
            long count = b.getLong();
            int fields = b.get();
            double[] stats = new double[fields * STATS_PER_FIELD];
            DDSketch[] sketches = new DDSketch[fields];
            for (int i = 0; i < fields; i++) {
                for (int k = 0; k < STATS_PER_FIELD; k++) {
                    stats[i * STATS_PER_FIELD + k] = b.getDouble();
                }
                boolean sketched = b.get() == 1;
                int len = b.getInt();
                if (sketched) {
                    sketches[i] = DDSketch.decode(
                            ByteArrayInput.wrap(bytes, b.position(), len), PaginatedStore::new, MAPPING);
                }
                b.position(b.position() + len);
            }
            return new WindowSummary(count, stats, sketches);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a window summary: " + e.getMessage(), e);
        }
    }
}

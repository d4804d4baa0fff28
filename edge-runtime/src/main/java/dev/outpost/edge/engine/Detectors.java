package dev.outpost.edge.engine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The state of the anomaly detectors: per (detector, group), an exponentially weighted moving mean and variance of a
 * numeric field, from which each new value gets a z-score.
 *
 * <p>Design note. A detector is one {@code anomaly} condition of a rule; its id ({@link #detectorId}) names the rule,
 * the condition, the stream, the field and the parameters, so a changed definition starts from nothing. The group is
 * the value of the rule's {@code group_by} field ("" without one). Invariants:
 *
 * <ul>
 *   <li><b>Deterministic.</b> The state depends only on the sequence of {@link #observe} calls (no clock): a replay of
 *       the log from a checkpoint ({@link #snapshot()}, {@link #restore}) yields the same z-scores, so the engine's
 *       decisions, and its exactly-once alerts, do not change across a crash.
 *   <li><b>Scored before learning.</b> A value is scored against the state before it, then folded in; a detector gives
 *       no score until it has seen its warm-up count of values for that group.
 *   <li><b>Bounded.</b> At most {@code groupsMax} (detector, group) entries; beyond, the least recently observed is
 *       forgotten (counted in {@link #evicted()}) and starts a new warm-up if its group comes back.
 *   <li>Not thread-safe: one evaluator's thread owns it.
 * </ul>
 */
final class Detectors {
    /** Default bound on (detector, group) entries (engine.detector_groups_max). */
    static final int GROUPS_MAX_DEFAULT = 100_000;

    /** Snapshot format version (first int of {@link #snapshot()}). */
    private static final int FORMAT = 1;

    /** A (detector, group) pair; equality written out, as the record's generated one costs more per event. */
    private static final class Key {
        final String detector;
        final String group;
        final int hash;

        Key(String detector, String group) {
            this.detector = detector;
            this.group = group;
            this.hash = 31 * detector.hashCode() + group.hashCode();
        }

        String detector() {
            return detector;
        }

        String group() {
            return group;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            // Detector ids are the compiled rule's own strings: identity first.
            return o instanceof Key k
                    && hash == k.hash
                    && (detector == k.detector || detector.equals(k.detector))
                    && group.equals(k.group);
        }
    }

    /** One group's moving statistics. */
    private static final class Ewma {
        long count;
        double mean;
        double variance;
    }

    private final int groupsMax;
    private final LinkedHashMap<Key, Ewma> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long evicted;
    private boolean changed;

    Detectors(int groupsMax) {
        assert groupsMax > 0;
        this.groupsMax = groupsMax;
    }

    /** The id of the detector declared by condition {@code at} of {@code rule}. */
    static String detectorId(RuleSpec rule, String at, String field, double alpha, long warmup) {
        return String.join(
                "\u0000", rule.name(), at, rule.stream(), field, Double.toString(alpha), Long.toString(warmup));
    }

    /**
     * Scores {@code x} for the group against what the detector saw before, then folds it in.
     *
     * @param alpha the weight of a new value, in (0, 1)
     * @param warmup values a group must have seen before it is scored
     * @return |x - mean| / standard deviation; infinity when the variance is 0 and x differs from the mean; NaN while
     *     warming up
     */
    double observe(String detector, String group, double x, double alpha, long warmup) {
        Key key = new Key(detector, group);
        Ewma e = entries.get(key);
        if (e == null) {
            e = new Ewma();
            entries.put(key, e);
            evictBeyondBound();
        }
        changed = true;
        double z = Double.NaN;
        if (e.count >= warmup) {
            double deviation = Math.abs(x - e.mean);
            double sd = Math.sqrt(e.variance);
            z = deviation == 0 ? 0 : deviation / sd; // sd 0: infinity, any departure from a constant is anomalous
        }
        fold(e, x, alpha);
        return z;
    }

    /** West's incremental EWMA of mean and variance. */
    private static void fold(Ewma e, double x, double alpha) {
        if (e.count++ == 0) {
            e.mean = x;
            e.variance = 0;
            return;
        }
        double diff = x - e.mean;
        double step = alpha * diff;
        e.mean += step;
        e.variance = (1 - alpha) * (e.variance + diff * step);
    }

    private void evictBeyondBound() {
        if (entries.size() > groupsMax) {
            Iterator<Map.Entry<Key, Ewma>> eldest = entries.entrySet().iterator();
            eldest.next();
            eldest.remove();
            evicted++;
        }
    }

    /** Forgets the detectors not in {@code live} (after a rule set change). */
    void retain(Set<String> live) {
        if (entries.keySet().removeIf(k -> !live.contains(k.detector()))) {
            changed = true;
        }
    }

    /** (detector, group) entries held. */
    int size() {
        return entries.size();
    }

    /** Entries forgotten to stay within the bound, since start. */
    long evicted() {
        return evicted;
    }

    /** True if anything was observed or forgotten since the last {@link #snapshot()}. */
    boolean changedSinceSnapshot() {
        return changed;
    }

    /** The entries, least recently observed first, for a checkpoint; detector ids are written once. */
    byte[] snapshot() {
        Map<String, Integer> ids = new HashMap<>();
        List<String> names = new ArrayList<>();
        for (Key k : entries.keySet()) {
            if (ids.putIfAbsent(k.detector(), names.size()) == null) {
                names.add(k.detector());
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + entries.size() * 40);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(FORMAT);
            out.writeInt(names.size());
            for (String n : names) {
                out.writeUTF(n);
            }
            out.writeInt(entries.size());
            for (Map.Entry<Key, Ewma> e : entries.entrySet()) {
                out.writeInt(ids.get(e.getKey().detector()));
                out.writeUTF(e.getKey().group());
                out.writeLong(e.getValue().count);
                out.writeDouble(e.getValue().mean);
                out.writeDouble(e.getValue().variance);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
        changed = false;
        return bytes.toByteArray();
    }

    /** Replaces the entries with those of a {@link #snapshot()} (an empty array restores nothing). */
    void restore(byte[] snapshot) {
        entries.clear();
        changed = false;
        if (snapshot.length == 0) {
            return;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
            int format = in.readInt();
            if (format != FORMAT) {
                throw new IllegalArgumentException("detector snapshot format " + format + ", expected " + FORMAT);
            }
            String[] names = new String[in.readInt()];
            for (int i = 0; i < names.length; i++) {
                names[i] = in.readUTF();
            }
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                Key key = new Key(names[in.readInt()], in.readUTF());
                Ewma e = new Ewma();
                e.count = in.readLong();
                e.mean = in.readDouble();
                e.variance = in.readDouble();
                entries.put(key, e);
                evictBeyondBound(); // a smaller bound than before keeps the most recently observed
            }
        } catch (IOException | ArrayIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("detector snapshot is cut short or damaged", e);
        }
    }
}

package dev.outpost.edge.engine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * When each (rule, group) last raised an alert, so a rule with a cooldown raises at most one alert per group per
 * cooldown (no alert storms).
 *
 * <p>Design note. Invariants:
 *
 * <ul>
 *   <li><b>Deterministic.</b> Time is the source events' ingest time, passed in, never the wall clock; the order of
 *       entries (least recently raised first) depends only on the sequence of calls. So a replay of the log from a
 *       checkpoint ({@link #snapshot()}, {@link #restore}) takes exactly the decisions the first run took, which is
 *       what makes alerts exactly once across crashes (see {@link Engine}).
 *   <li><b>Bounded.</b> At most {@link #GROUPS_MAX} entries; beyond, the least recently raised is forgotten (counted in
 *       {@link #evicted()}): its group may alert again before its cooldown ends. Rules without a cooldown keep no
 *       entry.
 *   <li>Not thread-safe: the engine's thread owns it.
 * </ul>
 */
final class Cooldowns {
    /** Most (rule, group) entries remembered. */
    static final int GROUPS_MAX = 100_000;

    /** Snapshot format version (first int of {@link #snapshot()}). */
    private static final int FORMAT = 1;

    private final int groupsMax;
    private final LinkedHashMap<String, Long> lastRaised;
    private long evicted;
    private boolean changed;

    Cooldowns() {
        this(GROUPS_MAX);
    }

    Cooldowns(int groupsMax) {
        assert groupsMax > 0;
        this.groupsMax = groupsMax;
        this.lastRaised = new LinkedHashMap<>(16, 0.75f, true);
    }

    /**
     * True if {@code rule} may alert for {@code group} at {@code atMillis}; then the alert is recorded and the group's
     * cooldown starts again. With {@code cooldownMillis} 0 every alert is allowed and nothing is kept.
     */
    boolean admit(String rule, String group, long cooldownMillis, long atMillis) {
        if (cooldownMillis <= 0) {
            return true;
        }
        String key = rule + '\u0000' + (group == null ? "" : group);
        Long last = lastRaised.get(key);
        if (last != null && atMillis < last + cooldownMillis) {
            return false;
        }
        lastRaised.put(key, atMillis);
        changed = true;
        if (lastRaised.size() > groupsMax) {
            Iterator<Map.Entry<String, Long>> eldest = lastRaised.entrySet().iterator();
            eldest.next();
            eldest.remove();
            evicted++;
        }
        return true;
    }

    /** Entries held. */
    int size() {
        return lastRaised.size();
    }

    /** Entries forgotten to stay within the bound, since start. */
    long evicted() {
        return evicted;
    }

    /** True if an alert was admitted since the last {@link #snapshot()}. */
    boolean changedSinceSnapshot() {
        return changed;
    }

    /** The entries, least recently raised first, for a checkpoint. */
    byte[] snapshot() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + lastRaised.size() * 48);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(FORMAT);
            out.writeInt(lastRaised.size());
            for (Map.Entry<String, Long> e : lastRaised.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
        changed = false;
        return bytes.toByteArray();
    }

    /** Replaces the entries with those of a {@link #snapshot()} (an empty array restores nothing). */
    void restore(byte[] snapshot) {
        lastRaised.clear();
        if (snapshot.length == 0) {
            return;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
            int format = in.readInt();
            if (format != FORMAT) {
                throw new IllegalArgumentException("cooldown snapshot format " + format + ", expected " + FORMAT);
            }
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String key = in.readUTF();
                long at = in.readLong();
                if (lastRaised.size() < groupsMax) {
                    lastRaised.put(key, at);
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cooldown snapshot is cut short", e);
        }
        changed = false;
    }
}

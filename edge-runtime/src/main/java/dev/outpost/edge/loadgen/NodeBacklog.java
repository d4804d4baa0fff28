package dev.outpost.edge.loadgen;

import dev.outpost.compress.Choice;
import dev.outpost.compress.CodecPolicy;
import dev.outpost.compress.FrameCodec;
import dev.outpost.compress.NativeCodecs;
import dev.outpost.compress.Pressure;
import dev.outpost.compress.Purpose;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.sync.wire.PushBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One simulated node's backlog: events {@code 1..K} of its log (node-wide sequence numbers), each in lane high or
 * normal, and per lane the ranges the hub acknowledged, as the edge's cursors hold them.
 *
 * <p>Design note. Batches follow the wire format's rule: a batch of lane L covering {@code from..to} holds every
 * record of L numbered in that range (numbers of the other lane in it are simply not L's). Lane high goes first, as
 * the edge's schedule drains lanes by priority. An event's payload and time are a function of (seed, node, sequence
 * number), so a resend is byte for byte the same event and nothing needs to be kept but the encoded first batches
 * (pre-encoded before the run: the simulated nodes are other machines, their encoding is not the hubs' CPU).
 */
final class NodeBacklog {
    /** The lanes a simulated node writes, in the order they drain. */
    static final List<Lane> LANES = List.of(Lane.HIGH, Lane.NORMAL);

    /** The stream of the generated events. */
    static final String STREAM = "fleet";

    /** A batch ready to send: its range and lane, records, payload bytes and wire body. */
    record Batch(Lane lane, long from, long to, int records, long payloadBytes, byte[] body) {}

    private final int index;
    private final FleetOptions o;
    private final long baseHlc;
    private final Map<Lane, AckedRanges> acked = new EnumMap<>(Lane.class);
    private final Map<Long, Batch> encoded = new HashMap<>();

    NodeBacklog(int index, FleetOptions o, long baseMillis) {
        this.index = index;
        this.o = o;
        this.baseHlc = HybridClock.atMillis(baseMillis);
        for (Lane l : LANES) {
            acked.put(l, new AckedRanges());
        }
    }

    /** The lane of event {@code seq}: the first {@code high-percent} of every hundred are high. */
    Lane laneOf(long seq) {
        return (seq - 1) % 100 < o.highPercent() ? Lane.HIGH : Lane.NORMAL;
    }

    /** Encodes the batches a fresh node sends (nothing acknowledged yet) now, so the run only sends them. */
    void preEncode(FrameCodec codec, String node) {
        Map<Lane, AckedRanges> planned = new EnumMap<>(Lane.class);
        LANES.forEach(l -> planned.put(l, new AckedRanges()));
        for (Lane l : LANES) {
            Range r;
            while ((r = nextRange(l, planned.get(l))) != null) {
                encoded.put(key(l, r.from), encode(codec, node, l, r));
                planned.get(l).add(r.from, r.to);
            }
        }
    }

    /** The next batch to send, or null when every event is acknowledged. */
    Batch next(FrameCodec codec, String node) {
        for (Lane l : LANES) {
            Range r = nextRange(l, acked.get(l));
            if (r != null) {
                Batch b = encoded.get(key(l, r.from));
                return b != null && b.to() == r.to ? b : encode(codec, node, l, r);
            }
        }
        return null;
    }

    /** The hub acknowledged {@code b}: its range joins the lane's cursor (and its pre-encoded body is let go). */
    void acknowledged(Batch b) {
        acked.get(b.lane()).add(b.from(), b.to());
        encoded.remove(key(b.lane(), b.from()));
    }

    /** The hub says it holds {@code ranges} of {@code lane}: they replace this node's cursor (the hub is authoritative). */
    void replace(Lane lane, AckedRanges ranges) {
        if (acked.containsKey(lane)) {
            acked.put(lane, ranges);
        }
    }

    /** True if {@code ranges} hold every event of {@code lane}. */
    boolean covers(Lane lane, AckedRanges ranges) {
        return nextRange(lane, ranges) == null;
    }

    /** Events and payload bytes not yet acknowledged, approximately (for the backlog headers). */
    long remainingRecords() {
        long left = 0;
        for (Lane l : LANES) {
            left += Math.max(0, laneCount(l) - acked.get(l).acknowledgedCount());
        }
        return Math.max(0, left);
    }

    long eventBytes() {
        return o.eventBytes();
    }

    /** How many of the node's events are in {@code lane} (acked ranges also count other lanes' numbers: approximate). */
    private long laneCount(Lane lane) {
        long k = o.eventsPerNode();
        long high = (k / 100) * o.highPercent() + Math.min(k % 100, o.highPercent());
        return lane == Lane.HIGH ? high : k - high;
    }

    private record Range(long from, long to, int records) {}

    /** The first run of {@code lane}'s unacknowledged events, at most batch-max records, or null if none is left. */
    private Range nextRange(Lane lane, AckedRanges done) {
        long k = o.eventsPerNode();
        long s = 1;
        while (s <= k && (laneOf(s) != lane || done.contains(s))) {
            s = laneOf(s) != lane ? s + 1 : done.firstGap(s);
        }
        if (s > k) {
            return null;
        }
        long to = s;
        int n = 0;
        for (long q = s; q <= k && n < o.batchRecordsMax(); q++) {
            if (laneOf(q) != lane) {
                continue;
            }
            if (done.contains(q)) {
                break;
            }
            to = q;
            n++;
        }
        return new Range(s, to, n);
    }

    private Batch encode(FrameCodec codec, String node, Lane lane, Range r) {
        List<PushBatch.Record> records = new ArrayList<>(r.records);
        long bytes = 0;
        for (long q = r.from; q <= r.to; q++) {
            if (laneOf(q) == lane) {
                byte[] payload = payload(q);
                bytes += payload.length;
                records.add(new PushBatch.Record(q, baseHlc + q, STREAM, payload));
            }
        }
        // The edge's choice for a batch without a wire dictionary (Pusher.post).
        Choice choice = CodecPolicy.choose(
                (int) Math.min(bytes, Integer.MAX_VALUE),
                Purpose.WIRE,
                Pressure.NONE,
                false,
                NativeCodecs.status().zstd());
        byte[] body = new PushBatch(node, lane, r.from, r.to, records).encode(codec, choice, null);
        return new Batch(lane, r.from, r.to, records.size(), bytes, body);
    }

    /** Event {@code seq}'s stored JSON: the same bytes on every call. */
    private byte[] payload(long seq) {
        SplittableRandom rnd = new SplittableRandom(o.seed() * 0x9E3779B97F4A7C15L ^ ((long) index << 32) ^ seq);
        return Payloads.event(rnd, STREAM, o.eventBytes()).getBytes(StandardCharsets.UTF_8);
    }

    private static long key(Lane lane, long from) {
        return from * 4 + lane.ordinal();
    }
}

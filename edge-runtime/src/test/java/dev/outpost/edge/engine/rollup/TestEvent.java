package dev.outpost.edge.engine.rollup;

import dev.outpost.store.json.JsonTree;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * An event as the log stores it, for tests: its sequence number and ingest time beside the stored JSON.
 *
 * @param ts the event's own time, or null for none (then the ingest time counts)
 * @param data the event's data member
 */
record TestEvent(long seq, long ingestMillis, String stream, String key, Long ts, Map<String, Object> data) {
    /** The stored form: one line of JSON. */
    byte[] json() {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("stream", stream);
        if (key != null) {
            event.put("key", key);
        }
        if (ts != null) {
            event.put("ts", ts);
        }
        event.put("id", "e" + seq);
        event.put("data", data);
        return JsonTree.write(event);
    }

    /** Feeds the event to {@code rollups}. */
    void applyTo(Rollups rollups) {
        byte[] json = json();
        rollups.apply(seq, ingestMillis, stream, json, 0, json.length);
    }

    /** 2 Dec 2024, a round minute: the start of the tests' event times. */
    static final long BASE_MILLIS = 1_733_097_600_000L;

    /**
     * A seeded log of {@code n} traffic events (and every fifth on another stream): times mostly increasing
     * over ~{@code spanMillis}, some up to {@code disorderMillis} out of order; {@code sources} source IPs;
     * bytes as integers, latency as decimals; a few events lack bytes or carry it as a string.
     */
    static List<TestEvent> traffic(long seed, int n, int sources, long spanMillis, long disorderMillis) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<TestEvent> log = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            long ingest = BASE_MILLIS + spanMillis * i / n;
            long ts = Math.max(BASE_MILLIS, ingest - (disorderMillis > 0 ? rnd.nextLong(disorderMillis) : 0));
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("source_ip", "10.0.0." + rnd.nextInt(sources));
            data.put("protocol", rnd.nextInt(4) == 0 ? "UDP" : "TCP");
            int shape = rnd.nextInt(20);
            if (shape == 0) {
                data.put("bytes", "many"); // not a number: skipped and counted
            } else if (shape != 1) { // shape 1: no bytes at all
                data.put("bytes", (long) rnd.nextInt(1, 2_000_000));
            }
            data.put("http", Map.of("latency_ms", Math.round(rnd.nextDouble(0.5, 900) * 100) / 100.0));
            String stream = i % 5 == 0 ? "other" : "traffic";
            log.add(new TestEvent(i, ingest, stream, "k" + (i % 3), rnd.nextInt(10) == 0 ? null : ts, data));
        }
        return log;
    }
}

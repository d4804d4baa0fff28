package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import dev.outpost.store.json.JsonTree;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue #12 point 6, summarise then drop: under a 64 MiB disk budget with a writer at full speed, retention drops raw
 * bulk and normal cycles of streams that have rollups only once the rollups cover them. Afterwards each rollup's
 * counts include every event that was acknowledged, dropped or not (totals match exactly), and GET /v1/retention says
 * of every dropped event of those streams that it was summarised.
 */
@Tag("slow") // a full-speed writer until retention has dropped cycles of both lanes
class SummariseThenDropTest extends AgentHttpTest {
    static final List<String> STREAMS = List.of("bulky", "usual");

    @Test
    void everyDroppedEventIsCountedInItsRollupsFirst() throws Exception {
        start("""
                  body_bytes_max: 128KiB
                log:
                  block_bytes: 1MiB
                  roll_cycle: SECONDLY
                  compression: none
                ingest:
                  batch_events_max: 1000
                state:
                  documents_max: 16
                  doc_bytes_max: 64KiB
                budget:
                  disk: 64MiB
                  memory: 16GiB
                streams:
                  bulky:
                    priority: bulk
                  usual:
                    priority: normal
                rollups:
                  bulky-per-minute:
                    stream: bulky
                    window: 1m
                    aggregates: [count, sum(n)]
                  usual-per-minute:
                    stream: usual
                    group_by: [site]
                    window: 1m
                    aggregates: [count]
                """);
        Map<String, AtomicLong> acked = new ConcurrentHashMap<>();
        STREAMS.forEach(s -> acked.put(s, new AtomicLong()));
        AtomicLong ackedN = new AtomicLong(); // the sum of n over acknowledged bulky events
        AtomicBoolean stop = new AtomicBoolean();
        String pad = "x".repeat(150);
        Thread writer = Thread.ofPlatform().start(() -> {
            long i = 0;
            while (!stop.get()) {
                String stream = STREAMS.get((int) (i++ % 2));
                StringBuilder body = new StringBuilder();
                for (int k = 0; k < 500; k++) {
                    body.append("{\"stream\":\"")
                            .append(stream)
                            .append("\",\"data\":{\"n\":")
                            .append(k)
                            .append(",\"site\":\"s")
                            .append(k % 3)
                            .append("\",\"pad\":\"")
                            .append(pad)
                            .append("\"}}\n");
                }
                try {
                    HttpResponse<String> r = send("POST", "/v1/events", "application/x-ndjson", body.toString());
                    if (r.statusCode() == 200) {
                        acked.get(stream).addAndGet(500);
                        if (stream.equals("bulky")) {
                            ackedN.addAndGet(500L * 499 / 2);
                        }
                    } else {
                        assertTrue(r.statusCode() == 507 || r.statusCode() == 429, r.statusCode() + " " + r.body());
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
        });
        Await.atMost(Duration.ofSeconds(180)).until(() -> {
            String log = send("GET", "/v1/retention?limit=1000", null, null).body();
            return log.contains("\"lane\":\"bulk\"") && log.contains("\"lane\":\"normal\"");
        });
        stop.set(true);
        writer.join(60_000);
        long last = Long.parseLong(send("GET", "/v1/events?limit=1", null, null)
                .headers()
                .firstValue("X-Outpost-Last-Seq")
                .orElseThrow());
        for (String rollup : List.of("bulky-per-minute", "usual-per-minute")) {
            Await.atMost(Duration.ofSeconds(60)).until(() -> coveredSeq(rollup) >= last);
        }
        assertEquals(acked.get("bulky").get(), total("bulky-per-minute", "count"), "bulky: every event counted");
        assertEquals(ackedN.get(), total("bulky-per-minute", "sum(n)"), "bulky: every value summed");
        assertEquals(acked.get("usual").get(), total("usual-per-minute", "count"), "usual: every event counted");
        long dropped = 0;
        Map<?, ?> retention =
                json(send("GET", "/v1/retention?limit=1000", null, null).body());
        for (Object o : (List<?>) retention.get("deleted_cycles")) {
            Map<?, ?> streams = (Map<?, ?>) ((Map<?, ?>) o).get("streams");
            for (String s : STREAMS) {
                Map<?, ?> counts = (Map<?, ?>) streams.get(s);
                if (counts != null) {
                    long events = ((Number) counts.get("events")).longValue();
                    assertEquals(events, ((Number) counts.get("summarised")).longValue(), "summarised, then dropped");
                    dropped += events;
                }
            }
        }
        assertTrue(dropped > 0, "retention must have dropped events of the summarised streams");
        System.out.printf(
                "summarise then drop: %d acknowledged, %d dropped after their rollups counted them%n",
                acked.get("bulky").get() + acked.get("usual").get(), dropped);
    }

    private long coveredSeq(String rollup) throws Exception {
        List<String> lines = send("GET", "/v1/rollups/" + rollup + "?limit=1", null, null)
                .body()
                .lines()
                .toList();
        Map<?, ?> status = (Map<?, ?>) json(lines.getLast()).get("status");
        return ((Number) status.get("covered_seq")).longValue();
    }

    private long total(String rollup, String value) throws Exception {
        long sum = 0;
        String cursor = null;
        while (true) {
            String q = "/v1/rollups/" + rollup + "?limit=10000" + (cursor == null ? "" : "&cursor=" + cursor);
            List<String> lines = send("GET", q, null, null).body().lines().toList();
            for (String line : lines.subList(0, lines.size() - 1)) {
                sum += ((Number) ((Map<?, ?>) json(line).get("values")).get(value)).longValue();
            }
            Object next = json(lines.getLast()).get("next_cursor");
            if (!(next instanceof String c)) {
                return sum;
            }
            cursor = c;
        }
    }

    private static Map<?, ?> json(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return (Map<?, ?>) JsonTree.parse(b, 0, b.length);
    }
}

package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.json.JsonTree;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** GET /v1/aggregate on a real agent over loopback HTTP: exact values, quantiles, bounds, cursors, refusals. */
class AggregateApiTest extends AgentHttpTest {
    private static final String HOSTS_AGG =
            "count,sum(bytes),min(bytes),max(bytes),mean(bytes),p50(latency),p99(latency)";

    /** Per host: count, sum, min, max of bytes, and every latency posted. */
    private final Map<String, long[]> bytes = new HashMap<>();

    private final Map<String, List<Double>> latencies = new HashMap<>();

    @Test
    void exactValuesPerGroupAndQuantilesWithinTheSketchAccuracy() throws Exception {
        start("");
        post(traffic(new Random(8), 300, "other")); // another stream: never counted
        bytes.clear();
        latencies.clear();
        post(traffic(new Random(7), 2_000, "net"));
        post("{\"stream\":\"net\",\"data\":{\"bytes\":5}}\n{\"stream\":\"net\",\"data\":{\"host\":{\"x\":1}}}\n");

        Map<?, ?> a = get("/v1/aggregate?stream=net&group_by=host&agg=" + enc(HOSTS_AGG));
        assertEquals(true, a.get("complete"), a.toString());
        assertEquals(JsonTree.NULL, a.get("next_cursor"));
        assertEquals(JsonTree.NULL, a.get("stopped"));
        assertEquals(2_002L, a.get("matched"));
        assertEquals(List.of("host"), a.get("group_by"));
        List<?> groups = (List<?>) a.get("groups");
        assertEquals(bytes.size() + 1, groups.size()); // + the group of events without a (scalar) host
        assertEquals(groups.size(), ((Number) a.get("groups_total")).intValue());
        for (Object o : groups) {
            Map<?, ?> g = (Map<?, ?>) o;
            Map<?, ?> v = (Map<?, ?>) g.get("values");
            Object host = ((Map<?, ?>) g.get("group")).get("host");
            if (host == JsonTree.NULL) {
                assertEquals(2L, v.get("count"), "no host, or an object there: one group of its own");
                assertEquals(5.0, num(v.get("sum(bytes)")));
                assertEquals(JsonTree.NULL, v.get("p99(latency)"), "no latency counted: null, not 0");
                continue;
            }
            long[] e = bytes.get((String) host);
            assertEquals(e[0], v.get("count"), host.toString());
            assertEquals(e[1], num(v.get("sum(bytes)")));
            assertEquals(e[2], num(v.get("min(bytes)")));
            assertEquals(e[3], num(v.get("max(bytes)")));
            assertEquals((double) e[1] / e[0], num(v.get("mean(bytes)")), 1e-9);
            double[] l = latencies.get((String) host).stream()
                    .mapToDouble(d -> d)
                    .sorted()
                    .toArray();
            assertQuantile(l, 0.50, num(v.get("p50(latency)")));
            assertQuantile(l, 0.99, num(v.get("p99(latency)")));
        }
        // largest group first
        long first = (Long) ((Map<?, ?>) ((Map<?, ?>) groups.getFirst()).get("values")).get("count");
        assertEquals(bytes.values().stream().mapToLong(e -> e[0]).max().orElseThrow(), first);
    }

    @Test
    void fromAndToBoundTheIngestTime() throws Exception {
        start("");
        post("{\"stream\":\"s\",\"data\":{\"n\":1}}\n".repeat(3));
        long from = pause();
        post("{\"stream\":\"s\",\"data\":{\"n\":10}}\n".repeat(4));
        long to = pause();
        post("{\"stream\":\"s\",\"data\":{\"n\":100}}\n".repeat(5));

        Map<?, ?> mid = get("/v1/aggregate?stream=s&agg=count,sum(n)&from=" + from + "&to=" + to);
        assertEquals(40.0, num(values(mid).get("sum(n)")), mid.toString());
        assertEquals(4L, values(mid).get("count"));
        assertEquals(from, mid.get("from"));
        assertEquals(to, mid.get("to"));
        Map<?, ?> after = get("/v1/aggregate?stream=s&agg=sum(n)&from="
                + enc(java.time.Instant.ofEpochMilli(to).toString()));
        assertEquals(500.0, num(values(after).get("sum(n)")));
        Map<?, ?> before = get("/v1/aggregate?stream=s&agg=sum(n)&to=" + from);
        assertEquals(3.0, num(values(before).get("sum(n)")));
        assertEquals(true, before.get("complete"));
    }

    @Test
    void aScanBoundStopsEarlyAndTheCursorContinuesToTheEndWithExactTotals() throws Exception {
        start("query:\n  scan_records_max: 100\n");
        StringBuilder b = new StringBuilder();
        Map<String, long[]> expected = new HashMap<>();
        for (int i = 0; i < 1_000; i++) {
            String stream = i % 3 == 0 ? "noise" : "m";
            String k = "k" + (i % 7);
            b.append("{\"stream\":\"")
                    .append(stream)
                    .append("\",\"data\":{\"k\":\"")
                    .append(k);
            b.append("\",\"v\":").append(i).append("}}\n");
            if (stream.equals("m")) {
                long[] e = expected.computeIfAbsent(k, x -> new long[2]);
                e[0]++;
                e[1] += i;
            }
        }
        post(b.toString());

        String query = "/v1/aggregate?stream=m&group_by=k&agg=" + enc("count,sum(v)");
        Map<String, long[]> total = new HashMap<>();
        long matched = 0;
        long nextFrom = -1;
        int answers = 0;
        for (String cursor = null; ; answers++) {
            Map<?, ?> a = get(query + (cursor == null ? "" : "&cursor=" + cursor));
            if (nextFrom >= 0) {
                assertEquals(nextFrom, a.get("from_seq"), "each answer starts where the last one stopped");
            }
            nextFrom = (Long) a.get("to_seq") + 1;
            matched += (Long) a.get("matched");
            for (Object o : (List<?>) a.get("groups")) {
                Map<?, ?> g = (Map<?, ?>) o;
                long[] t = total.computeIfAbsent((String) ((Map<?, ?>) g.get("group")).get("k"), x -> new long[2]);
                t[0] += (Long) ((Map<?, ?>) g.get("values")).get("count");
                t[1] += (long) num(((Map<?, ?>) g.get("values")).get("sum(v)"));
            }
            if (a.get("complete") == Boolean.TRUE) {
                assertEquals(JsonTree.NULL, a.get("next_cursor"));
                break;
            }
            assertEquals("scan_records_max", a.get("stopped"));
            assertEquals(100L, a.get("scanned"));
            cursor = (String) a.get("next_cursor");
            assertNotNull(cursor);
        }
        assertEquals(10, answers, "1,000 records at 100 a pass (the last pass finds the end)");
        assertEquals(expected.values().stream().mapToLong(e -> e[0]).sum(), matched);
        assertEquals(expected.keySet(), total.keySet());
        expected.forEach((k, e) -> assertTrue(Arrays.equals(e, total.get(k)), k));
    }

    @Test
    void pastTheGroupBoundItStopsBeforeTheNewGroupAndContinues() throws Exception {
        start("");
        int n = AggregateController.GROUPS_MAX + 5;
        for (int from = 0; from < n; from += 5_000) {
            StringBuilder b = new StringBuilder();
            for (int i = from; i < Math.min(n, from + 5_000); i++) {
                b.append("{\"stream\":\"g\",\"data\":{\"id\":").append(i).append("}}\n");
            }
            post(b.toString());
        }
        Map<?, ?> a = get("/v1/aggregate?stream=g&group_by=id&limit=3");
        assertEquals(false, a.get("complete"));
        assertEquals("groups_max", a.get("stopped"));
        assertEquals((long) AggregateController.GROUPS_MAX, a.get("matched"));
        assertEquals(AggregateController.GROUPS_MAX, ((Number) a.get("groups_total")).intValue());
        assertEquals(3, ((List<?>) a.get("groups")).size(), "limit bounds the groups returned");
        Map<?, ?> rest = get("/v1/aggregate?stream=g&group_by=id&limit=3&cursor=" + a.get("next_cursor"));
        assertEquals(true, rest.get("complete"));
        assertEquals(5L, rest.get("matched"));
    }

    @Test
    void aForgedOrForeignCursorIs400() throws Exception {
        start("query:\n  scan_records_max: 2\n");
        post("{\"stream\":\"s\",\"data\":{\"n\":1}}\n".repeat(5));
        String cursor = (String) get("/v1/aggregate?stream=s").get("next_cursor");
        assertNotNull(cursor);
        char last = cursor.charAt(cursor.length() - 1);
        String forged = cursor.substring(0, cursor.length() - 1) + (last == 'A' ? 'B' : 'A');
        assertProblem("/v1/aggregate?stream=s&cursor=" + forged, "cursor");
        assertProblem("/v1/aggregate?stream=t&cursor=" + cursor, "cursor"); // issued for another query
        assertProblem("/v1/aggregate?stream=s&agg=sum(n)&cursor=" + cursor, "cursor");
        assertProblem("/v1/aggregate?stream=s&cursor=bm90LWEtY3Vyc29y", "cursor");
        assertEquals(
                200,
                send("GET", "/v1/aggregate?stream=s&cursor=" + cursor, null, null)
                        .statusCode());
    }

    @Test
    void badParametersAre400NamingThem() throws Exception {
        start("");
        assertProblem("/v1/aggregate", "stream");
        assertProblem("/v1/aggregate?stream=" + enc("a b"), "stream");
        assertProblem("/v1/aggregate?stream=s&agg=" + enc("median(x)"), "agg");
        assertProblem("/v1/aggregate?stream=s&agg=sum", "agg");
        assertProblem("/v1/aggregate?stream=s&agg=" + enc("count,count"), "agg");
        assertProblem("/v1/aggregate?stream=s&agg=" + enc("sum(a..b)"), "agg");
        assertProblem("/v1/aggregate?stream=s&group_by=" + enc("a..b"), "group_by");
        assertProblem("/v1/aggregate?stream=s&group_by=" + enc("a,b,c,d,e"), "group_by");
        assertProblem("/v1/aggregate?stream=s&limit=0", "limit");
        assertProblem("/v1/aggregate?stream=s&limit=10001", "limit");
        assertProblem("/v1/aggregate?stream=s&limit=x", "limit");
        assertProblem("/v1/aggregate?stream=s&from=yesterday", "from");
        assertProblem("/v1/aggregate?stream=s&to=-5", "to");
        assertProblem("/v1/aggregate?stream=s&groupby=a", "groupby");
        assertProblem("/v1/aggregate?stream=s&stream=t", "stream");
    }

    @Test
    void aJsonPointerGroupsOnTheWholeEventAndTwoFieldsMakeOneGroupEach() throws Exception {
        start("");
        post("{\"stream\":\"s\",\"key\":\"a\",\"data\":{\"z\":{\"c\":1},\"n\":2}}\n".repeat(3)
                + "{\"stream\":\"s\",\"key\":\"a\",\"data\":{\"z\":{\"c\":2},\"n\":7}}\n"
                + "{\"stream\":\"s\",\"key\":\"b\",\"data\":{\"z\":{\"c\":1},\"n\":1}}\n");
        Map<?, ?> a = get("/v1/aggregate?stream=s&group_by=" + enc("/key,z.c") + "&agg=" + enc("count,max(n)"));
        List<?> groups = (List<?>) a.get("groups");
        assertEquals(3, groups.size(), a.toString());
        Map<?, ?> top = (Map<?, ?>) groups.getFirst();
        assertEquals(Map.of("/key", "a", "z.c", "1"), top.get("group"));
        assertEquals(3L, ((Map<?, ?>) top.get("values")).get("count"));
        assertEquals(2.0, num(((Map<?, ?>) top.get("values")).get("max(n)")));
        Map<?, ?> second = (Map<?, ?>) groups.get(1);
        assertEquals(Map.of("/key", "a", "z.c", "2"), second.get("group"), "ties by value: (a,2) before (b,1)");
    }

    @Test
    void aStreamWithNoEventsGivesAnEmptyCompleteAnswer() throws Exception {
        start("");
        post("{\"stream\":\"s\",\"data\":{\"n\":1}}\n");
        Map<?, ?> a = get("/v1/aggregate?stream=nothing&group_by=n&agg=" + enc("count,p99(n)"));
        assertEquals(List.of(), a.get("groups"));
        assertEquals(0L, a.get("matched"));
        assertEquals(1L, a.get("scanned"));
        assertEquals(true, a.get("complete"));
        assertEquals(JsonTree.NULL, a.get("next_cursor"));
    }

    /** {@code count} events of {@code stream} over 5 hosts, recording the expectations. */
    private String traffic(Random rnd, int count, String stream) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < count; i++) {
            String host = "h" + rnd.nextInt(5);
            long by = rnd.nextInt(1_000_000);
            double latency = 0.5 + rnd.nextDouble() * rnd.nextDouble() * 2_000;
            b.append("{\"stream\":\"")
                    .append(stream)
                    .append("\",\"data\":{\"host\":\"")
                    .append(host);
            b.append("\",\"bytes\":")
                    .append(by)
                    .append(",\"latency\":")
                    .append(latency)
                    .append("}}\n");
            long[] e = bytes.computeIfAbsent(host, h -> new long[] {0, 0, Long.MAX_VALUE, Long.MIN_VALUE});
            e[0]++;
            e[1] += by;
            e[2] = Math.min(e[2], by);
            e[3] = Math.max(e[3], by);
            latencies.computeIfAbsent(host, h -> new ArrayList<>()).add(latency);
        }
        return b.toString();
    }

    /** Within the sketch's 1 % of a value at the quantile's rank (the rank may fall between two values). */
    private static void assertQuantile(double[] sorted, double q, double actual) {
        double rank = q * (sorted.length - 1);
        double lo = sorted[(int) Math.floor(rank)] * (1 - 0.01);
        double hi = sorted[(int) Math.ceil(rank)] * (1 + 0.01);
        assertTrue(
                actual >= lo && actual <= hi, "p" + q + " " + actual + " not within 1 % of [" + lo + ", " + hi + "]");
    }

    /** A moment between two posts: later than the first's ingest time, earlier than the next's. */
    private static long pause() throws InterruptedException {
        Thread.sleep(20);
        long t = System.currentTimeMillis();
        Thread.sleep(20);
        return t;
    }

    private void post(String ndjson) throws Exception {
        HttpResponse<String> r = send("POST", "/v1/events", "application/x-ndjson", ndjson);
        assertEquals(200, r.statusCode(), r.body());
    }

    private Map<?, ?> get(String path) throws Exception {
        HttpResponse<String> r = send("GET", path, null, null);
        assertEquals(200, r.statusCode(), r.body());
        byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
        return (Map<?, ?>) JsonTree.parse(body, 0, body.length);
    }

    private void assertProblem(String path, String field) throws Exception {
        HttpResponse<String> r = send("GET", path, null, null);
        assertEquals(400, r.statusCode(), path + " " + r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith(Problems.MEDIA_TYPE), path);
        byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
        assertEquals(field, ((Map<?, ?>) JsonTree.parse(body, 0, body.length)).get("field"), path + " " + r.body());
    }

    private static Map<?, ?> values(Map<?, ?> answer) {
        List<?> groups = (List<?>) answer.get("groups");
        assertEquals(1, groups.size(), answer.toString());
        return (Map<?, ?>) ((Map<?, ?>) groups.getFirst()).get("values");
    }

    private static double num(Object o) {
        return ((Number) o).doubleValue();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}

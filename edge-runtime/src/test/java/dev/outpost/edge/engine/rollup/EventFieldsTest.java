package dev.outpost.edge.engine.rollup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Field extraction from stored events: dotted paths under data, pointers, arrays, number text, event time. */
class EventFieldsTest {
    static final String EVENT = """
            {"stream":"s","key":"k/1","ts":1733450000000,"id":"x","data":{"source_ip":"10.0.0.1",\
            "http":{"status":200,"latency_ms":12.50},"tags":["a","b"],"a.b":"dotted","skip":{"deep":[1,{"x":2}]},\
            "n":null,"o":{"p":1},"big":1e400}}""";

    EventFields read(String json, String... fields) {
        EventFields f = new EventFields(List.of(fields));
        byte[] b = ("  " + json + "  ").getBytes(StandardCharsets.UTF_8);
        assertTrue(f.read(b, 2, b.length - 4));
        return f;
    }

    @Test
    void dottedPathsAreUnderDataAndPointersAgainstTheEvent() {
        EventFields f = read(EVENT, "source_ip", "http.status", "http.latency_ms", "/key", "/data/a.b", "/data/tags/1");
        assertEquals("10.0.0.1", f.text(f.slot("source_ip")));
        assertEquals("200", f.text(f.slot("http.status")));
        assertEquals(200.0, f.number(f.slot("http.status")));
        assertEquals("12.50", f.text(f.slot("http.latency_ms")), "a number's JSON text, as written");
        assertEquals(12.5, f.number(f.slot("http.latency_ms")));
        assertEquals("k/1", f.text(f.slot("/key")));
        assertEquals("dotted", f.text(f.slot("/data/a.b")));
        assertEquals("b", f.text(f.slot("/data/tags/1")));
        assertTrue(Double.isNaN(f.number(f.slot("source_ip"))));
        assertEquals(1_733_450_000_000L, f.eventMillis(5));
    }

    @Test
    void missingNullObjectsAndNonFiniteNumbersLeaveTheSlotEmpty() {
        EventFields f = read(EVENT, "nope", "n", "o", "o.p", "big", "http.status.x");
        assertNull(f.text(f.slot("nope")));
        assertNull(f.text(f.slot("n")));
        assertNull(f.text(f.slot("o")));
        assertEquals(1.0, f.number(f.slot("o.p")), "a path may be both a leaf and a prefix");
        assertTrue(Double.isNaN(f.number(f.slot("big"))));
        assertNull(f.text(f.slot("http.status.x")));
    }

    @Test
    void eventTimeIsTsInMillisOrIsoElseTheIngestTime() {
        assertEquals(
                1_733_097_600_000L,
                read("{\"ts\":\"2024-12-02T00:00:00Z\",\"data\":{}}").eventMillis(7));
        assertEquals(
                1_733_097_600_000L,
                read("{\"ts\":\"2024-12-02T01:00:00+01:00\",\"data\":{}}").eventMillis(7));
        assertEquals(7, read("{\"data\":{}}").eventMillis(7));
        assertEquals(7, read("{\"ts\":\"yesterday\",\"data\":{}}").eventMillis(7));
        assertEquals(7, read("{\"ts\":-5,\"data\":{}}").eventMillis(7));
    }

    @Test
    void anUnreadableEventLeavesEverySlotEmpty() {
        EventFields f = new EventFields(List.of("a"));
        byte[] b = "{\"data\":{\"a\":\"x\"} trailing".getBytes(StandardCharsets.UTF_8);
        f.read(b, 0, b.length);
        byte[] notObject = "[1]".getBytes(StandardCharsets.UTF_8);
        assertFalse(f.read(notObject, 0, notObject.length));
        assertNull(f.text(f.slot("a")));
    }
}

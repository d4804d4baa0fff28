package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.outpost.store.json.JsonText;
import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Whatever a log holds, a reader gets one line of UTF-8 JSON or nothing (counted). */
class PayloadRepairTest {
    private static final String EVENT = "{\"stream\":\"s\",\"data\":{\"t\":\"é😀\",\"n\":1.50}}";

    private final PayloadRepair repair = new PayloadRepair();

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    private PayloadRepair.Verdict inspect(byte[] b) {
        // At an offset inside a larger buffer, as a log record view shows it.
        byte[] framed = cat(new byte[] {'x', 'y'}, b, new byte[] {'z'});
        return repair.inspect(framed, 2, b.length);
    }

    private String repairedText() {
        byte[] r = repair.repaired();
        assertNull(JsonText.check(r, 0, r.length), "the repair is clean UTF-8");
        return new String(r, StandardCharsets.UTF_8);
    }

    @Test
    void aCleanEventIsEmittedAsStored() {
        assertEquals(PayloadRepair.Verdict.CLEAN, inspect(EVENT.getBytes(StandardCharsets.UTF_8)));
        assertNull(repair.repaired());
        assertEquals(
                PayloadRepair.Verdict.CLEAN,
                inspect("{\"stream\" : \"s\",\t\"data\":{}}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void otherEncodingsAreReencoded() {
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        assertEquals(PayloadRepair.Verdict.REPAIRED, inspect(cat(bom, EVENT.getBytes(StandardCharsets.UTF_8))));
        assertEquals(EVENT, repairedText());
        for (String cs : new String[] {"UTF-16LE", "UTF-16BE", "UTF-16", "UTF-32LE", "UTF-32BE"}) {
            assertEquals(PayloadRepair.Verdict.REPAIRED, inspect(EVENT.getBytes(Charset.forName(cs))), cs);
            assertEquals(EVENT, repairedText(), cs);
        }
        assertEquals(
                PayloadRepair.Verdict.REPAIRED,
                inspect("{\n  \"stream\": \"s\",\n  \"data\": {}\n}".getBytes(StandardCharsets.UTF_8)));
        assertEquals("{\"stream\":\"s\",\"data\":{}}", repairedText());
    }

    @Test
    void malformedUtf8AndLoneSurrogatesBecomeReplacementCharacters() {
        byte[] overlong = cat(
                "{\"stream\":\"s\",\"data\":{\"a\":\"x".getBytes(StandardCharsets.UTF_8),
                new byte[] {(byte) 0xC0, (byte) 0xAF, (byte) 0xED, (byte) 0xA0, (byte) 0x80},
                "y\"}}".getBytes(StandardCharsets.UTF_8));
        assertEquals(PayloadRepair.Verdict.REPAIRED, inspect(overlong));
        String r = repairedText();
        assertEquals("{\"stream\":\"s\",\"data\":{\"a\":\"x", r.substring(0, r.indexOf('x') + 1));
        assertEquals("y\"}}", r.substring(r.indexOf('y')));
        assertEquals(
                true, r.substring(r.indexOf('x') + 1, r.indexOf('y')).chars().allMatch(c -> c == 0xFFFD), r);
        assertEquals(
                PayloadRepair.Verdict.REPAIRED,
                inspect("{\"stream\":\"s\",\"data\":{\"\\udc00k\":\"a\\ud800b\\ud83d\\ude00\"}}"
                        .getBytes(StandardCharsets.UTF_8)));
        assertEquals("{\"stream\":\"s\",\"data\":{\"\uFFFDk\":\"a\uFFFDb😀\"}}", repairedText());
    }

    @Test
    void whatIsNotAJsonObjectInAnyEncodingIsUnreadable() {
        for (String bad : new String[] {
            "not json",
            "{}",
            "[1,2]",
            "{\"a\":1} trailing",
            "{\"a\":",
            "{\"a\":\"x\u0000y\"}",
            "",
            "\"s\"",
            "{\"a\":1}{\"b\":2}"
        }) {
            assertEquals(PayloadRepair.Verdict.UNREADABLE, inspect(bad.getBytes(StandardCharsets.UTF_8)), bad);
            assertNull(repair.repaired());
        }
        assertEquals(PayloadRepair.Verdict.UNREADABLE, inspect(new byte[] {(byte) 0xFF, (byte) 0xFE, (byte) 0xFD}));
    }
}

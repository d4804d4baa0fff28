package dev.outpost.store.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The UTF-8 / I-JSON byte checks that guard every JSON body the agent parses and every line it emits. */
class JsonTextTest {
    /** {@code "{\"a\":\"" + bytes + "\"}"} as raw bytes. */
    private static byte[] inString(int... bytes) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes("{\"a\":\"".getBytes(StandardCharsets.US_ASCII));
        for (int x : bytes) {
            b.write(x);
        }
        b.writeBytes("\"}".getBytes(StandardCharsets.US_ASCII));
        return b.toByteArray();
    }

    private static JsonText.Fault check(byte[] b) {
        return JsonText.check(b, 0, b.length);
    }

    private static JsonText.Fault check(String s) {
        return check(s.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertFault(byte[] b, int offset, String reasonPart) {
        JsonText.Fault f = check(b);
        assertNotNull(f, "expected a fault containing '" + reasonPart + "'");
        assertEquals(offset, f.offset(), f.reason());
        assertTrue(f.reason().contains(reasonPart), f.reason());
    }

    @Test
    void wellFormedUtf8AndPairedEscapesAreClean() {
        assertNull(check("{\"a\":\"plain\",\"b\":[1,2.5,-3e2,true,null],\"c\":{}}"));
        assertNull(check("{\"é\":\"€ 𝄞 😀 \\u00e9 \\ud83d\\ude00 \\\" \\\\ \\n \\t\"}"));
        assertNull(check("{\"nul\":\"\\u0000\"}"), "an escaped NUL is JSON; only a raw one is not");
        assertNull(check("{\n\t\"a\" : 1\r\n}"), "whitespace between tokens");
        assertNull(check("{\"a\":\"\\\\ud800\"}"), "an escaped backslash followed by 'ud800' is no escape");
        assertNull(check("{\"a\":\"\u007f\"}"), "DEL is not a control character JSON forbids");
        assertNull(check(inString(0xF4, 0x8F, 0xBF, 0xBF)), "U+10FFFF");
        assertNull(check(inString(0xEF, 0xBF, 0xBD)), "U+FFFD");
        assertNull(check(inString(0xED, 0x9F, 0xBF)), "U+D7FF, just below the surrogates");
    }

    @Test
    void malformedUtf8IsAFaultAtItsFirstByte() {
        assertFault(inString(0xC0, 0xAF), 6, "overlong");
        assertFault(inString(0xC1, 0xBF), 6, "overlong");
        assertFault(inString(0xE0, 0x80, 0xAF), 6, "overlong");
        assertFault(inString(0xF0, 0x80, 0x80, 0xAF), 6, "overlong");
        assertFault(inString(0xED, 0xA0, 0x80), 6, "surrogate");
        assertFault(inString(0xED, 0xBF, 0xBF), 6, "surrogate");
        assertFault(inString(0xF4, 0x90, 0x80, 0x80), 6, "above U+10FFFF");
        assertFault(inString(0xF5, 0x80, 0x80, 0x80), 6, "never occurs");
        assertFault(inString(0xFF), 6, "never occurs");
        assertFault(inString(0x80), 6, "continuation byte without a lead");
        assertFault(inString(0xE2, 0x82), 6, "truncated");
        assertFault(inString(0xE2, 0x82, 0x41), 6, "truncated");
        assertFault(inString('x', 0xC3), 7, "truncated");
        byte[] atEnd = {'{', (byte) 0xE2, (byte) 0x82};
        assertFault(atEnd, 1, "truncated");
    }

    @Test
    void rawControlCharactersAreFaultsButEscapedOnesAreNot() {
        assertFault(inString(0x00), 6, "U+0000 (NUL)");
        assertFault(inString(0x01), 6, "U+0001");
        assertFault(inString(0x1F), 6, "U+001F");
    }

    @Test
    void loneSurrogateEscapesAreFaults() {
        assertFault("{\"a\":\"\\ud800\"}".getBytes(StandardCharsets.UTF_8), 6, "lone surrogate escape \\uD800");
        assertFault("{\"a\":\"\\uDBFFx\"}".getBytes(StandardCharsets.UTF_8), 6, "\\uDBFF");
        assertFault("{\"a\":\"\\ud800\\u0041\"}".getBytes(StandardCharsets.UTF_8), 6, "\\uD800");
        assertFault("{\"a\":\"x\\udc00\"}".getBytes(StandardCharsets.UTF_8), 7, "\\uDC00");
        assertFault("{\"a\":\"\\ud800\\ud800\\udc00\"}".getBytes(StandardCharsets.UTF_8), 6, "\\uD800");
    }

    @Test
    void otherEncodingsAreNamed() {
        String json = "{\"a\":1}";
        assertEquals("UTF-16LE", foreign(bytes(json, StandardCharsets.UTF_16LE)));
        assertEquals("UTF-16BE", foreign(bytes(json, StandardCharsets.UTF_16BE)));
        assertEquals(
                "UTF-16LE",
                foreign(cat(new byte[] {(byte) 0xFF, (byte) 0xFE}, bytes(json, StandardCharsets.UTF_16LE))));
        assertEquals(
                "UTF-16BE",
                foreign(cat(new byte[] {(byte) 0xFE, (byte) 0xFF}, bytes(json, StandardCharsets.UTF_16BE))));
        assertEquals("UTF-16LE", foreign(bytes(" " + json, StandardCharsets.UTF_16LE)), "leading whitespace");
        assertEquals("UTF-32LE", foreign(bytes(json, Charset.forName("UTF-32LE"))));
        assertEquals("UTF-32BE", foreign(bytes(json, Charset.forName("UTF-32BE"))));
        assertEquals(
                "UTF-32LE",
                foreign(cat(new byte[] {(byte) 0xFF, (byte) 0xFE, 0, 0}, bytes(json, Charset.forName("UTF-32LE")))));
        assertEquals(
                "UTF-32BE",
                foreign(cat(new byte[] {0, 0, (byte) 0xFE, (byte) 0xFF}, bytes(json, Charset.forName("UTF-32BE")))));
        assertNull(foreign(bytes(json, StandardCharsets.UTF_8)));
        assertNull(foreign(new byte[0]));
        byte[] utf16 = bytes(json, StandardCharsets.UTF_16LE);
        JsonText.Fault f = check(utf16);
        assertTrue(f.reason().contains("UTF-16LE") && f.reason().contains("must be UTF-8"), f.reason());
    }

    @Test
    void aByteOrderMarkIsMeasuredAndAFaultWhereverItIsChecked() {
        byte[] bom = "\uFEFF{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        assertEquals(3, JsonText.bomLength(bom, 0, bom.length));
        assertEquals(0, JsonText.bomLength(bom, 3, bom.length - 3));
        assertFault(bom, 0, "byte-order mark");
        assertNull(JsonText.check(bom, 3, bom.length - 3));
        assertNull(check("{\"a\":\"\uFEFF\"}"), "U+FEFF inside a string is a character like any other");
    }

    @Test
    void aCleanLineHasNoLineBreak() {
        byte[] b = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        assertTrue(JsonText.isCleanLine(b, 0, b.length));
        byte[] two = "{\"a\":\n1}".getBytes(StandardCharsets.UTF_8);
        assertTrue(!JsonText.isCleanLine(two, 0, two.length));
        byte[] cr = "{\"a\":\r1}".getBytes(StandardCharsets.UTF_8);
        assertTrue(!JsonText.isCleanLine(cr, 0, cr.length));
    }

    @Test
    void jsonTreeParseSkipsALeadingBomAndRefusesEverythingElseNotUtf8() {
        byte[] withBom = bom("{\"a\":1}");
        assertEquals(
                "{\"a\":1}",
                new String(JsonTree.write(JsonTree.parse(withBom, 0, withBom.length)), StandardCharsets.UTF_8));
        for (byte[] bad : new byte[][] {
            bytes("{\"a\":1}", StandardCharsets.UTF_16LE),
            bytes("{\"a\":1}", Charset.forName("UTF-32BE")),
            inString(0xC0, 0xAF),
            inString(0xED, 0xA0, 0x80),
            "{\"a\":\"\\udc00\"}".getBytes(StandardCharsets.UTF_8),
            cat(bom(""), bom("{\"a\":1}"))
        }) {
            JsonTreeException e = assertThrows(JsonTreeException.class, () -> JsonTree.parse(bad, 0, bad.length));
            assertTrue(e.getMessage().contains("(byte "), e.getMessage());
        }
    }

    @Test
    void storedJsonReadsBackWhatEarlierVersionsWrote() {
        byte[] lone = "{\"a\":\"\\ud800\"}".getBytes(StandardCharsets.UTF_8);
        assertThrows(JsonTreeException.class, () -> JsonTree.parse(lone, 0, lone.length));
        Object tree = JsonTree.parseStored(lone, 0, lone.length);
        assertEquals("{\"a\":\"\\uD800\"}", new String(JsonTree.write(tree), StandardCharsets.UTF_8));
    }

    private static byte[] bom(String s) {
        return cat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, s.getBytes(StandardCharsets.UTF_8));
    }

    private static String foreign(byte[] b) {
        return JsonText.foreignEncoding(b, 0, b.length);
    }

    private static byte[] bytes(String s, Charset c) {
        return s.getBytes(c);
    }

    private static byte[] cat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

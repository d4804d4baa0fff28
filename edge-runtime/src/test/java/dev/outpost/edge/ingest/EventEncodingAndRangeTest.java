package dev.outpost.edge.ingest;

import static dev.outpost.edge.ingest.IngestOutcome.Fault.BAD_ENCODING;
import static dev.outpost.edge.ingest.IngestOutcome.Fault.EMPTY_BODY;
import static dev.outpost.edge.ingest.IngestOutcome.Fault.MALFORMED_EVENT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue #11 points 5a and 5b at the parser: only UTF-8 JSON is stored, and ts fits its range. */
class EventEncodingAndRangeTest {
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    private final EventParser parser = new EventParser(10, 4096);

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    private InvalidInput single(byte[] body) {
        return assertThrows(InvalidInput.class, () -> parser.parseSingle(body));
    }

    private InvalidInput batch(byte[] body) {
        return assertThrows(InvalidInput.class, () -> parser.parseBatch(body));
    }

    private static void assertProblem(
            InvalidInput e, IngestOutcome.Fault fault, int line, String field, String detailPart) {
        assertEquals(fault, e.fault(), e.getMessage());
        assertEquals(line, e.line(), e.getMessage());
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().contains(detailPart), e.getMessage());
    }

    @Test
    void aLeadingByteOrderMarkIsSkippedAndNeverStored() {
        String ev = "{\"stream\":\"s\",\"data\":{\"a\":1}}";
        assertArrayEquals(
                utf8(ev), parser.parseSingle(cat(BOM, utf8(ev))).getFirst().bytes());
        assertArrayEquals(
                utf8(ev),
                parser.parseSingle(cat(BOM, utf8("  " + ev + "\n"))).getFirst().bytes());
        List<ParsedEvent> b = parser.parseBatch(cat(BOM, utf8(ev + "\n" + ev + "\n")));
        assertEquals(2, b.size());
        assertArrayEquals(utf8(ev), b.get(0).bytes());
        assertArrayEquals(utf8(ev), b.get(1).bytes());
        // Only at the start of the body: one at the start of a later line is a fault of that line.
        assertProblem(batch(cat(utf8(ev + "\n"), BOM, utf8(ev))), MALFORMED_EVENT, 2, null, "byte-order mark");
        assertProblem(single(BOM), EMPTY_BODY, 0, null, "no event");
    }

    @Test
    void utf16AndUtf32BodiesAreRefusedNamingTheirEncoding() {
        String ev = "{\"stream\":\"s\",\"data\":{\"a\":1}}";
        for (String cs : List.of("UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE")) {
            byte[] plain = ev.getBytes(Charset.forName(cs));
            assertProblem(single(plain), BAD_ENCODING, 0, null, "the body is " + cs);
            assertProblem(batch(plain), BAD_ENCODING, 0, null, "must be UTF-8");
        }
        byte[] utf16WithBom = ev.getBytes(StandardCharsets.UTF_16); // big-endian with FE FF
        assertProblem(single(utf16WithBom), BAD_ENCODING, 0, null, "UTF-16BE");
        byte[] le = cat(new byte[] {(byte) 0xFF, (byte) 0xFE}, ev.getBytes(StandardCharsets.UTF_16LE));
        assertProblem(batch(le), BAD_ENCODING, 0, null, "UTF-16LE");
        assertEquals(BAD_ENCODING, single(le).fault());
    }

    @Test
    void malformedUtf8IsRefusedNamingLineAndField() {
        byte[] overlongInData =
                cat(utf8("{\"stream\":\"s\",\"data\":{\"a\":\""), new byte[] {(byte) 0xC0, (byte) 0xAF}, utf8("\"}}"));
        assertProblem(single(overlongInData), MALFORMED_EVENT, 0, "data", "overlong");
        byte[] surrogateInKey = cat(
                utf8("{\"stream\":\"s\",\"key\":\""),
                new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                utf8("\",\"data\":{}}"));
        assertProblem(single(surrogateInKey), MALFORMED_EVENT, 0, "key", "surrogate");
        byte[] ok = utf8("{\"stream\":\"s\",\"data\":{}}\n");
        byte[] truncatedInId = cat(
                utf8("{\"stream\":\"s\",\"id\":\"x"), new byte[] {(byte) 0xE2, (byte) 0x82}, utf8("\",\"data\":{}}"));
        assertProblem(batch(cat(ok, ok, truncatedInId)), MALFORMED_EVENT, 3, "id", "line 3: invalid UTF-8");
        byte[] stray = cat(utf8("{\"stream\":\"s\",\"data\":{\"k\":\""), new byte[] {(byte) 0x80}, utf8("\"}}"));
        assertProblem(single(stray), MALFORMED_EVENT, 0, "data", "at byte 28 of the event");
    }

    @Test
    void loneSurrogateEscapesAndRawNulsAreRefused() {
        assertProblem(
                single(utf8("{\"stream\":\"s\",\"data\":{\"a\":\"\\ud800\"}}")),
                MALFORMED_EVENT,
                0,
                "data",
                "lone surrogate");
        assertProblem(
                single(utf8("{\"stream\":\"s\",\"data\":{\"a\":\"\\udfff\\ud800\"}}")),
                MALFORMED_EVENT,
                0,
                "data",
                "lone surrogate");
        assertProblem(
                single(utf8("{\"stream\":\"s\",\"data\":{\"a\":\"x\u0000y\"}}")), MALFORMED_EVENT, 0, "data", "NUL");
        // A paired escape and an escaped NUL in data are JSON like any other.
        parser.parseSingle(utf8("{\"stream\":\"s\",\"data\":{\"a\":\"\\ud83d\\ude00 \\u0000\"}}"));
    }

    @Test
    void keyAndIdHoldNoControlCharacters() {
        assertProblem(
                single(utf8("{\"stream\":\"s\",\"id\":\"a\\u0000b\",\"data\":{}}")),
                MALFORMED_EVENT,
                0,
                "id",
                "U+0000");
        assertProblem(
                single(utf8("{\"stream\":\"s\",\"key\":\"a\\nb\",\"data\":{}}")), MALFORMED_EVENT, 0, "key", "U+000A");
        assertProblem(
                single(utf8("{\"stream\":\"s\",\"key\":\"\\u007f\",\"data\":{}}")),
                MALFORMED_EVENT,
                0,
                "key",
                "U+007F");
        parser.parseSingle(utf8("{\"stream\":\"s\",\"key\":\"é/ü €\",\"id\":\"😀\",\"data\":{}}"));
    }

    @Test
    void tsBeyond64BitsOrOutsideTheCalendarIsRefusedNamingTheField() {
        for (String ts : List.of(
                "99999999999999999999999",
                "-99999999999999999999999",
                "9223372036854775808",
                "-1",
                "253402300800000",
                "\"+10000-01-01T00:00:00Z\"",
                "\"9999-12-31T23:00:00-05:00\"",
                "\"1969-12-31T23:59:59.999Z\"",
                "1.5",
                "1e3",
                "true")) {
            InvalidInput e = single(utf8("{\"stream\":\"s\",\"ts\":" + ts + ",\"data\":{}}"));
            assertProblem(e, MALFORMED_EVENT, 0, "ts", "ts ");
        }
        InvalidInput big = single(utf8("{\"stream\":\"s\",\"ts\":99999999999999999999999,\"data\":{}}"));
        assertTrue(
                big.getMessage().contains("ts is 99999999999999999999999")
                        && big.getMessage().contains("253402300799999"),
                big.getMessage());
        InvalidInput inBatch = batch(
                utf8("{\"stream\":\"s\",\"data\":{}}\n{\"stream\":\"s\",\"ts\":18446744073709551616,\"data\":{}}\n"));
        assertProblem(inBatch, MALFORMED_EVENT, 2, "ts", "line 2: ts is 18446744073709551616");
        for (String ts : List.of(
                "0",
                "-0",
                "253402300799999",
                "1795410041516",
                "null",
                "\"1970-01-01T00:00:00Z\"",
                "\"9999-12-31T23:59:59.999Z\"",
                "\"2026-11-23T04:48:17+01:00\"")) {
            parser.parseSingle(utf8("{\"stream\":\"s\",\"ts\":" + ts + ",\"data\":{}}"));
        }
    }
}

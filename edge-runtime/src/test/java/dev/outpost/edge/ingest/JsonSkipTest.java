package dev.outpost.edge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * JsonSkip against jackson (configured as EventParser configures it) as the oracle: whatever the scanner accepts,
 * jackson accepts too and ends at the same byte; on valid inputs of the common shapes the scanner is sure; and on tens
 * of thousands of mutated inputs it never accepts what jackson rejects.
 */
class JsonSkipTest {
    private static final JsonFactory JACKSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(EventParser.NESTING_DEPTH_MAX)
                    .build())
            .build();

    private static final List<String> VALID = List.of(
            "{}",
            "{ }",
            "{\"a\":1}",
            "{\"a\" : -0.5e+10 , \"b\":[1,2.25,-3E-2,0,[]],\"c\":{\"d\":null}}",
            "{\"s\":\"x\\\"y\\\\z\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\",\"t\":true,\"f\":false}",
            "{\"é\":\"ünïcödé 😀\",\"n\":[null,true,false,{},[{}]]}",
            "{\"readings\":[12.5,13.25,14.0],\"unit\":\"C\",\"ok\":true,\"note\":\"padding padding\"}",
            "{\"deep\":[[[[[[[[[[1]]]]]]]]]]}",
            "{\"a\":\t\n\r1\r\n}");

    @Test
    void validObjectsOfTheCommonShapesAreReadToTheirEnd() throws IOException {
        for (String v : VALID) {
            byte[] b = v.getBytes(StandardCharsets.UTF_8);
            assertEquals(b.length, JsonSkip.object(b, 0, b.length), v);
            assertEquals(b.length, jacksonEnd(b), v);
        }
    }

    @Test
    void itIsNeverSureOfWhatJacksonRejects() throws IOException {
        List<String> invalid = List.of(
                "{\"a\":01}",
                "{\"a\":1.}",
                "{\"a\":.5}",
                "{\"a\":+1}",
                "{\"a\":-}",
                "{\"a\":1e}",
                "{\"a\":NaN}",
                "{\"a\":tru}",
                "{\"a\":truex}",
                "{\"a\":[1,]}",
                "{\"a\":1,}",
                "{'a':1}",
                "{a:1}",
                "{\"a\":\"\u0001\"}",
                "{\"a\":\"\\x\"}",
                "{\"a\":\"\\u12G4\"}",
                "{\"a\" 1}",
                "{\"a\":1 \"b\":2}",
                "{\"a\":[1 2]}",
                "{\"a\":/*c*/1}",
                "{\"a\":\"unterminated}",
                "{\"a\":[1,2}",
                "{\"a\":{\"b\":1]}",
                "{\"a\":1");
        for (String v : invalid) {
            byte[] b = v.getBytes(StandardCharsets.UTF_8);
            assertEquals(JsonSkip.UNSURE, JsonSkip.object(b, 0, b.length), v);
            assertEquals(-1, jacksonEnd(b), "jackson rejects it too: " + v);
        }
        String deep = "{\"a\":" + "[".repeat(70) + "]".repeat(70) + "}";
        byte[] d = deep.getBytes(StandardCharsets.UTF_8);
        assertEquals(JsonSkip.UNSURE, JsonSkip.object(d, 0, d.length), "deeper than it reads: jackson's");
    }

    @Test
    void mutatedInputsItAcceptsJacksonAcceptsAlike() throws IOException {
        Random r = new Random(14);
        String alphabet = "{}[]\":,\\ -+.eE0123456789tfnulr\u0001\t\n/'aZé";
        int accepted = 0;
        for (int i = 0; i < 40_000; i++) {
            StringBuilder s = new StringBuilder(VALID.get(r.nextInt(VALID.size())));
            for (int m = 1 + r.nextInt(3); m > 0 && !s.isEmpty(); m--) {
                int at = r.nextInt(s.length());
                char c = alphabet.charAt(r.nextInt(alphabet.length()));
                switch (r.nextInt(3)) {
                    case 0 -> s.deleteCharAt(at);
                    case 1 -> s.insert(at, c);
                    default -> s.setCharAt(at, c);
                }
            }
            byte[] b = s.toString().getBytes(StandardCharsets.UTF_8);
            if (b.length == 0 || b[0] != '{') {
                continue;
            }
            int end = JsonSkip.object(b, 0, b.length);
            if (end >= 0) {
                accepted++;
                byte[] prefix = java.util.Arrays.copyOf(b, end);
                assertEquals(end, jacksonEnd(prefix), "accepted, so jackson must read it alike: " + s);
            }
        }
        assertTrue(accepted > 1_000, "the mutations left valid inputs too: " + accepted);
    }

    /** Where jackson ends reading the object at the start of {@code b}, or -1 if it rejects it. */
    private static int jacksonEnd(byte[] b) throws IOException {
        try (JsonParser p = JACKSON.createParser(b)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return -1;
            }
            p.skipChildren();
            int end = (int) p.currentLocation().getByteOffset();
            return p.nextToken() == null ? end : -1;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return -1;
        }
    }
}

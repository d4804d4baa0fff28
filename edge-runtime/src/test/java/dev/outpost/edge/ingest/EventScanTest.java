package dev.outpost.edge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.json.JsonText;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * EventScan against the parser's jackson reading as the oracle: whatever the scanner returns, jackson returns too
 * (same stream, id and bytes); the plain shapes are the scanner's; and on tens of thousands of generated and mutated
 * events it never returns an event jackson refuses or reads differently.
 */
class EventScanTest {
    private final EventParser parser = new EventParser(1000, 1 << 20);

    private static final String[] DATA = {
        "{}", "{\"t\":21.5,\"ok\":true}", "{\"a\":[1,2,{\"b\":null}],\"s\":\"x\\ny\"}", "{\"é\":\"ü\"}"
    };

    @Test
    void thePlainShapesAreTheScannersAndReadAsJacksonReadsThem() {
        List<String> plain = List.of(
                "{\"stream\":\"s\",\"data\":{}}",
                "{\"stream\":\"bench\",\"key\":\"dev-17\",\"data\":{\"v\":1}}",
                "{ \"data\" : {\"x\":[1,2]} , \"stream\" : \"a.b-c_d\" , \"id\":\"e 1/2\"}",
                "{\"priority\":\"high\",\"stream\":\"s\",\"data\":{},\"key\":\"k\"}");
        for (String e : plain) {
            byte[] b = e.getBytes(StandardCharsets.UTF_8);
            ParsedEvent scanned = EventScan.plain(b, 0, b.length);
            assertNotNull(scanned, e);
            assertSame(parser.parseWithJackson(b, 0, b.length, 0), scanned, e);
        }
    }

    @Test
    void neverReturnsWhatJacksonRefusesOrReadsDifferently() {
        Random r = new Random(20261207);
        int scanned = 0;
        for (int n = 0; n < 40_000; n++) {
            byte[] b = mutate(event(r), r);
            int end = b.length;
            while (end > 0 && (b[end - 1] == ' ' || b[end - 1] == '\t' || b[end - 1] == '\n' || b[end - 1] == '\r')) {
                end--;
            }
            if (end == 0 || JsonText.check(b, 0, end) != null) {
                continue; // refused before either reader looks
            }
            ParsedEvent s = EventScan.plain(b, 0, end);
            if (s == null) {
                continue;
            }
            scanned++;
            String text = new String(b, 0, end, StandardCharsets.UTF_8);
            ParsedEvent j;
            try {
                j = parser.parseWithJackson(b, 0, end, 0);
            } catch (InvalidInput refused) {
                throw new AssertionError("scanned what jackson refuses (" + refused.getMessage() + "): " + text);
            }
            assertSame(j, s, text);
        }
        assertTrue(scanned > 2_000, "the scanner took " + scanned + " of the generated events");
    }

    private static void assertSame(ParsedEvent expected, ParsedEvent actual, String event) {
        assertEquals(expected.stream(), actual.stream(), event);
        assertEquals(expected.id(), actual.id(), event);
        assertEquals(
                new String(expected.json(), expected.offset(), expected.length(), StandardCharsets.UTF_8),
                new String(actual.json(), actual.offset(), actual.length(), StandardCharsets.UTF_8),
                event);
    }

    /** An event of random fields in random order, sometimes with a field missing, repeated or unknown. */
    private static String event(Random r) {
        List<String> fields = new ArrayList<>();
        String[] streams = {"s", "bench", "a.b-c_d", "_state", "", "x y", "é"};
        fields.add("\"stream\":\"" + streams[r.nextInt(streams.length)] + "\"");
        fields.add("\"data\":" + DATA[r.nextInt(DATA.length)]);
        if (r.nextBoolean()) {
            fields.add("\"id\":" + pick(r, "\"e1\"", "\"\"", "null", "\"a\\\"b\"", "7"));
        }
        if (r.nextBoolean()) {
            fields.add("\"key\":" + pick(r, "\"k\"", "\"dev-1\"", "\"" + "k".repeat(300) + "\""));
        }
        if (r.nextInt(4) == 0) {
            fields.add("\"priority\":" + pick(r, "\"high\"", "\"urgent\"", "\"bulk\""));
        }
        if (r.nextInt(6) == 0) {
            fields.add("\"ts\":" + pick(r, "1700000000000", "\"2026-11-23T04:48:17Z\"", "-1"));
        }
        if (r.nextInt(10) == 0) {
            fields.add(fields.get(r.nextInt(fields.size()))); // repeated
        }
        if (r.nextInt(10) == 0) {
            fields.remove(r.nextInt(fields.size())); // missing
        }
        if (r.nextInt(20) == 0) {
            fields.add("\"extra\":1");
        }
        java.util.Collections.shuffle(fields, r);
        String sep = pick(r, ",", ", ", " ,\t");
        return "{" + String.join(sep, fields) + "}";
    }

    private static String pick(Random r, String... options) {
        return options[r.nextInt(options.length)];
    }

    /** Half unchanged; else one byte replaced, inserted or removed. */
    private static byte[] mutate(String event, Random r) {
        byte[] b = event.getBytes(StandardCharsets.UTF_8);
        if (r.nextBoolean() || b.length == 0) {
            return b;
        }
        byte[] alphabet = "{}[]\":,\\ \t\nabe01-._\u007f".getBytes(StandardCharsets.UTF_8);
        int at = r.nextInt(b.length);
        byte c = alphabet[r.nextInt(alphabet.length)];
        return switch (r.nextInt(3)) {
            case 0 -> {
                b[at] = c;
                yield b;
            }
            case 1 -> {
                byte[] out = new byte[b.length + 1];
                System.arraycopy(b, 0, out, 0, at);
                out[at] = c;
                System.arraycopy(b, at, out, at + 1, b.length - at);
                yield out;
            }
            default -> {
                byte[] out = new byte[b.length - 1];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(b, at + 1, out, at, b.length - at - 1);
                yield out;
            }
        };
    }
}

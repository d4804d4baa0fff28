package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link EventReader} against jackson-core ({@link JacksonReference}), differentially: random events (nested objects
 * and arrays, names and strings with escapes, non-ASCII and surrogate pairs raw or escaped, numbers of every shape,
 * duplicates, whitespace) read along random paths must fill every slot as jackson reads it; and damaged events
 * (truncated, a byte dropped, inserted, replaced, a span repeated) must be refused when jackson refuses them, and read
 * when jackson reads them unless their UTF-8 is malformed (then the reader may be stricter than jackson).
 * The counters at the end check the generator reached each case it exists for. A failure prints the seed and the event.
 */
class EventReaderModelTest {
    /** Names the generator writes and paths use, so that paths hit; "0".."2" also index arrays. */
    static final String[] NAMES = {
        "data", "key", "ts", "a", "b", "c", "0", "1", "2", "10", "", "x y", "q\"t", "é", "ключ", "😀", "tab\t", "a\\b"
    };

    static final String[] NUMBERS = {
        "0",
        "-0",
        "0.0",
        "-0.0",
        "1",
        "-1",
        "1e5",
        "1E+5",
        "1e-5",
        "-2.5e-3",
        "0.1",
        "1.5",
        "123.456",
        "1e22",
        "1e23",
        "9007199254740993",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "0.1000000000000000055511151231257827",
        "1e400",
        "-1e400",
        "4.9e-324",
        "2.2250738585072014E-308",
        "1.7976931348623157e308",
        "12345678901234567.5",
        "0e0",
        "0.000001",
        "100000000000000000000000",
        "3.141592653589793238462643383279",
        "1E-2",
        "-0e-0"
    };

    static final String WHITESPACE = " \n\r\t";

    static final byte[] INSERTED = {
        '{',
        '}',
        '[',
        ']',
        ',',
        ':',
        '"',
        '\\',
        'a',
        'u',
        '0',
        '9',
        '-',
        '+',
        '.',
        'e',
        ' ',
        't',
        'n',
        0x01,
        0x1f,
        (byte) 0x80,
        (byte) 0xbf,
        (byte) 0xc3,
        (byte) 0xe2,
        (byte) 0xf0,
        (byte) 0xff
    };

    int escapedStrings;
    int surrogates;
    int bigIntegers;
    int slowDoubles;
    int stringSlots;
    int numberSlots;
    int refused;
    int damagedButRead;
    int stricter;
    int wideNodes;

    @Test
    void randomEventsAreReadAsJacksonReadsThemAndDamagedOnesRefusedAsJacksonRefusesThem() {
        SplittableRandom seeds = new SplittableRandom(Long.getLong("outpost.eventreader.seed", 20261206L));
        for (int round = 0; round < 400; round++) {
            long seed = seeds.nextLong();
            SplittableRandom rnd = new SplittableRandom(seed);
            List<List<String>> paths = paths(rnd);
            if (round % 4 == 3) {
                // Every name under data as well: a node with more members than a scan serves (a hash table).
                for (String name : NAMES) {
                    if (!paths.contains(List.of("data", name))) {
                        paths.add(List.of("data", name));
                    }
                }
                wideNodes++;
            }
            FieldTree tree = new FieldTree();
            boolean[] keepText = new boolean[paths.size()];
            for (int i = 0; i < paths.size(); i++) {
                keepText[i] = rnd.nextInt(3) == 0;
                int slot = tree.slot(new FieldPath(String.join("/", paths.get(i)), paths.get(i)), keepText[i]);
                assertEquals(i, slot);
            }
            JacksonReference reference = new JacksonReference(paths);
            EventReader reader = new EventReader();
            EventFields fields = new EventFields(tree.slots(), 0);
            for (int n = 0; n < 50; n++) {
                byte[] event = event(rnd);
                check(seed, event, tree, keepText, reference, reader, fields, false);
                for (int d = 0; d < 4; d++) {
                    check(seed, damage(rnd, event), tree, keepText, reference, reader, fields, true);
                }
            }
        }
        String counts = String.format(
                Locale.ROOT,
                "escaped %d, surrogates %d, big integers %d, slow doubles %d, string slots %d, number slots %d,"
                        + " refused %d, damaged but read %d, stricter on malformed UTF-8 %d, wide nodes %d",
                escapedStrings,
                surrogates,
                bigIntegers,
                slowDoubles,
                stringSlots,
                numberSlots,
                refused,
                damagedButRead,
                stricter,
                wideNodes);
        System.out.println(counts);
        assertTrue(escapedStrings > 1000 && surrogates > 1000 && bigIntegers > 500 && slowDoubles > 500, counts);
        assertTrue(stringSlots > 5000 && numberSlots > 5000 && refused > 20_000 && damagedButRead > 2000, counts);
    }

    private void check(
            long seed,
            byte[] event,
            FieldTree tree,
            boolean[] keepText,
            JacksonReference reference,
            EventReader reader,
            EventFields fields,
            boolean damaged) {
        String where = "seed " + seed + ", event " + new String(event, StandardCharsets.UTF_8);
        JacksonReference.Value[] expected = reference.read(event);
        // The event sits inside a larger buffer, with bytes around it that must not be read.
        byte[] framed = new byte[event.length + 8];
        framed[3] = '{';
        System.arraycopy(event, 0, framed, 4, event.length);
        framed[framed.length - 4] = '}';
        fields.clear(tree.slots());
        boolean read = reader.read(tree, framed, 4, event.length, fields);
        if (expected == null) {
            assertFalse(read, "jackson refuses, the reader must too: " + where);
            refused++;
            return;
        }
        if (!read) {
            // Stricter than jackson only where jackson lets malformed UTF-8 through (in a name with an escape, say):
            // ingest refuses such bytes, so they can only come from damage, and refusing damage is the safe side.
            assertFalse(wellFormedUtf8(event), "jackson reads it, the reader must too: " + where);
            stricter++;
            return;
        }
        damagedButRead += damaged ? 1 : 0;
        for (int s = 0; s < expected.length; s++) {
            slot(expected[s], fields, s, keepText[s], where + ", slot " + s);
        }
    }

    private void slot(JacksonReference.Value v, EventFields f, int s, boolean keepText, String where) {
        if (v == null) {
            assertEquals(EventFields.MISSING, f.kinds[s], where);
            return;
        }
        assertEquals(v.kind(), f.kinds[s], where);
        switch (v.kind()) {
            case EventFields.STRING -> {
                stringSlots++;
                assertEquals(v.text(), new String(f.chars[s], 0, f.lengths[s]), where);
            }
            case EventFields.LONG -> {
                numberSlots++;
                assertEquals(v.longValue(), f.longs[s], where);
            }
            case EventFields.DOUBLE -> {
                numberSlots++;
                assertEquals(Double.doubleToLongBits(v.doubleValue()), Double.doubleToLongBits(f.doubles[s]), where);
            }
            default -> {}
        }
        if (keepText && (v.kind() == EventFields.LONG || v.kind() == EventFields.DOUBLE)) {
            assertEquals(v.text(), new String(f.chars[s], 0, f.lengths[s]), where + " (the number's text)");
        }
    }

    static boolean wellFormedUtf8(byte[] b) {
        try {
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** Up to eight distinct paths of one to four tokens (a list that can grow). */
    static List<List<String>> paths(SplittableRandom rnd) {
        Set<List<String>> paths = new LinkedHashSet<>();
        int n = 1 + rnd.nextInt(8);
        while (paths.size() < n) {
            List<String> p = new ArrayList<>();
            p.add(rnd.nextInt(3) == 0 ? NAMES[rnd.nextInt(3)] : "data");
            for (int d = rnd.nextInt(4); d > 0; d--) {
                p.add(NAMES[rnd.nextInt(NAMES.length)]);
            }
            paths.add(List.copyOf(p));
        }
        return new ArrayList<>(paths);
    }

    /** A random event object, as UTF-8. */
    byte[] event(SplittableRandom rnd) {
        StringBuilder json = new StringBuilder();
        space(rnd, json);
        json.append('{');
        int members = 1 + rnd.nextInt(5);
        for (int i = 0; i < members; i++) {
            if (i > 0) {
                json.append(',');
            }
            space(rnd, json);
            string(rnd, json, i == members - 1 || rnd.nextBoolean() ? "data" : NAMES[rnd.nextInt(NAMES.length)]);
            space(rnd, json);
            json.append(':');
            value(rnd, json, 0);
            space(rnd, json);
        }
        json.append('}');
        space(rnd, json);
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void value(SplittableRandom rnd, StringBuilder json, int depth) {
        space(rnd, json);
        int kind = rnd.nextInt(depth > 4 ? 5 : 7);
        switch (kind) {
            case 0 -> json.append(rnd.nextBoolean() ? "true" : rnd.nextBoolean() ? "false" : "null");
            case 1, 2 -> string(rnd, json, text(rnd));
            case 3, 4 -> number(rnd, json);
            case 5 -> {
                json.append('{');
                int n = rnd.nextInt(5);
                for (int i = 0; i < n; i++) {
                    json.append(i > 0 ? "," : "");
                    space(rnd, json);
                    string(rnd, json, NAMES[rnd.nextInt(NAMES.length)]);
                    space(rnd, json);
                    json.append(':');
                    value(rnd, json, depth + 1);
                }
                space(rnd, json);
                json.append('}');
            }
            default -> {
                json.append('[');
                int n = rnd.nextInt(5);
                for (int i = 0; i < n; i++) {
                    json.append(i > 0 ? "," : "");
                    value(rnd, json, depth + 1);
                }
                space(rnd, json);
                json.append(']');
            }
        }
        space(rnd, json);
    }

    private void number(SplittableRandom rnd, StringBuilder json) {
        String n = switch (rnd.nextInt(4)) {
            case 0 -> NUMBERS[rnd.nextInt(NUMBERS.length)];
            case 1 -> Long.toString(rnd.nextLong() >> rnd.nextInt(64));
            case 2 -> Double.toString(rnd.nextDouble(-1e6, 1e6));
            default -> Double.toString(Double.longBitsToDouble(rnd.nextLong() & 0x7fefffffffffffffL));
        };
        String digits = n.replaceAll("[^0-9]", "");
        if (n.matches("-?[0-9]+") ? digits.length() > 18 : digits.length() > 15) {
            if (n.matches("-?[0-9]+")) {
                bigIntegers += new java.math.BigInteger(n).bitLength() >= 64 ? 1 : 0;
            } else {
                slowDoubles++;
            }
        }
        json.append(n);
    }

    /** Random text: ASCII, characters that must be escaped, non-ASCII, characters beyond the BMP. */
    private String text(SplittableRandom rnd) {
        StringBuilder s = new StringBuilder();
        for (int n = rnd.nextInt(12); n > 0; n--) {
            switch (rnd.nextInt(8)) {
                case 0 -> s.append((char) rnd.nextInt(0x20)); // a control character
                case 1 -> s.append(rnd.nextBoolean() ? '"' : '\\');
                case 2 -> s.append((char) rnd.nextInt(0x80, 0x800));
                case 3 -> s.append((char) rnd.nextInt(0x800, 0xD800));
                case 4 -> s.appendCodePoint(rnd.nextInt(0x10000, 0x110000));
                default -> s.append((char) rnd.nextInt(0x20, 0x7f));
            }
        }
        return s.toString();
    }

    /** Writes {@code s} as a JSON string, escaping what must be and, at random, what may be. */
    private void string(SplittableRandom rnd, StringBuilder json, String s) {
        json.append('"');
        boolean escaped = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            surrogates += Character.isHighSurrogate(c) ? 1 : 0;
            if (c == '"' || c == '\\' || c < 0x20 || rnd.nextInt(10) == 0) {
                escaped = true;
                String shortForm = switch (c) {
                    case '"' -> "\\\"";
                    case '\\' -> "\\\\";
                    case '\n' -> "\\n";
                    case '\t' -> "\\t";
                    case '/' -> "\\/";
                    default -> null;
                };
                json.append(
                        shortForm != null && rnd.nextBoolean()
                                ? shortForm
                                : String.format(rnd.nextBoolean() ? "\\u%04x" : "\\u%04X", (int) c));
            } else {
                json.append(c);
            }
        }
        escapedStrings += escaped ? 1 : 0;
        json.append('"');
    }

    private static void space(SplittableRandom rnd, StringBuilder json) {
        while (rnd.nextInt(6) == 0) {
            json.append(WHITESPACE.charAt(rnd.nextInt(WHITESPACE.length())));
        }
    }

    /** The event with one random damage. */
    static byte[] damage(SplittableRandom rnd, byte[] event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = rnd.nextInt(event.length);
        switch (rnd.nextInt(5)) {
            case 0 -> out.write(event, 0, at); // truncated
            case 1 -> {
                out.write(event, 0, at);
                out.write(event, at + 1, event.length - at - 1);
            }
            case 2 -> {
                out.write(event, 0, at);
                out.write(INSERTED[rnd.nextInt(INSERTED.length)]);
                out.write(event, at, event.length - at);
            }
            case 3 -> {
                out.write(event, 0, at);
                out.write(INSERTED[rnd.nextInt(INSERTED.length)]);
                out.write(event, at + 1, event.length - at - 1);
            }
            default -> {
                int len = rnd.nextInt(Math.min(12, event.length - at) + 1);
                out.write(event, 0, at + len);
                out.write(event, at, event.length - at);
            }
        }
        return out.toByteArray();
    }

    @Test
    void edgeCasesAgreeWithJackson() {
        List<List<String>> paths = List.of(List.of("data", "n"), List.of("data", "s"));
        FieldTree tree = new FieldTree();
        for (List<String> p : paths) {
            tree.slot(new FieldPath(String.join(".", p), p), true);
        }
        JacksonReference reference = new JacksonReference(paths);
        String deep = "[".repeat(JsonScanner.DEPTH_MAX - 2) + "]".repeat(JsonScanner.DEPTH_MAX - 2);
        String tooDeep = "[".repeat(JsonScanner.DEPTH_MAX - 1) + "]".repeat(JsonScanner.DEPTH_MAX - 1);
        String digits = "1".repeat(1_000); // jackson-core bounds numbers to 1,000 digits where it checks
        List<String> events = List.of(
                "{\"data\":{\"x\":" + deep + ",\"n\":1}}",
                "{\"data\":{\"x\":" + tooDeep + ",\"n\":1}}",
                "{\"data\":{\"n\":" + deep + "}}",
                "{\"data\":{\"n\":" + tooDeep + "}}",
                "{\"data\":{\"x\":" + digits + ",\"n\":" + digits + "}}",
                "{\"data\":{\"x\":" + digits + "1}}",
                "{\"data\":{\"n\":" + digits + "1}}",
                "{\"data\":{\"n\":0." + digits + "}}",
                "{\"data\":{\"s\":\"\\ud83d\\ude00 \\ud800 \\udc00x\"}}",
                "{\"data\":{\"s\":\"\u00e9\",\"s\":\"last\"}}",
                "{\"data\":{\"n\":1},\"data\":{\"x\":2}}",
                "{\"data\":{\"\\u006e\":7,\"\\u0073\":\"escaped names\"}}",
                "{\"data\":{\"n\":01}}",
                "{\"data\":{\"n\":1.}}",
                "{\"data\":{\"n\":.5}}",
                "{\"data\":{\"n\":-}}",
                "{\"data\":{\"n\":+1}}",
                "{\"data\":{\"n\":NaN}}",
                "{\"data\":{\"n\":tru}}",
                "{\"data\":{\"n\":truex}}",
                "{\"data\":{\"s\":\"\\x\"}}",
                "{\"data\":{\"s\":\"\\u12G4\"}}",
                "{\"data\":{\"s\":\"a\u0001\"}}",
                "{\"data\":{\"n\":1}} {\"data\":{}}",
                "{\"data\":{\"n\":1}}  \n",
                "{} ",
                "[]",
                "\"data\"",
                "",
                "   ");
        EventReader reader = new EventReader();
        EventFields fields = new EventFields(tree.slots(), 0);
        for (String e : events) {
            byte[] b = e.getBytes(StandardCharsets.UTF_8);
            JacksonReference.Value[] expected = reference.read(b);
            fields.clear(tree.slots());
            boolean read = reader.read(tree, b, 0, b.length, fields);
            String where = e.length() > 80 ? e.substring(0, 40) + "..." + e.substring(e.length() - 40) : e;
            assertEquals(expected != null, read, where);
            for (int s = 0; expected != null && s < expected.length; s++) {
                slot(expected[s], fields, s, true, where);
            }
        }
        // Stricter than jackson: a byte order mark (which jackson skips) is refused; the agent stores events without.
        byte[] bom = "\uFEFF{\"data\":{\"n\":1}}".getBytes(StandardCharsets.UTF_8);
        assertFalse(reader.read(tree, bom, 0, bom.length, fields));
        byte[] badUtf8 = {'{', '"', 'd', (byte) 0xc3, '"', ':', '1', '}'};
        assertNull(reference.read(badUtf8));
        fields.clear(tree.slots());
        assertFalse(reader.read(tree, badUtf8, 0, badUtf8.length, fields));
        assertNotNull(reference.read("{\"data\":{}}".getBytes(StandardCharsets.UTF_8)));
    }
}

package dev.outpost.edge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.ingest.IngestOutcome.Fault;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventParserTest {
    private final EventParser parser = new EventParser(5, 1024);

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private InvalidInput single(String json) {
        return assertThrows(InvalidInput.class, () -> parser.parseSingle(b(json)));
    }

    @Test
    void acceptsTheEventModel() {
        List<ParsedEvent> e = parser.parseSingle(
                b(
                        "  {\"stream\":\"traffic\",\"key\":\"k\",\"ts\":\"2026-11-23T04:48:17Z\",\"priority\":\"high\",\"id\":\"e1\",\"data\":{\"x\":[1,{\"y\":2}]}}\n"));
        assertEquals("traffic", e.getFirst().stream());
        assertEquals("e1", e.getFirst().id());
        assertTrue(new String(e.getFirst().bytes(), StandardCharsets.UTF_8).startsWith("{\"stream\""));
        assertNull(parser.parseSingle(b("{\"stream\":\"s\",\"ts\":1795410041516,\"data\":{}}"))
                .getFirst()
                .id());
    }

    /**
     * The fast path lends a reused scratch array longer than the body, holding an earlier body's bytes after it: only
     * the first {@code length} bytes are the body, and the events are slices of the array itself, not copies.
     */
    @Test
    void aBodyIsTheFirstLengthBytesOfItsArrayAndEventsAreSlicesOfIt() {
        String body = "{\"stream\":\"a\",\"data\":{}}\n\n{\"stream\":\"b\",\"data\":{\"x\":1}}";
        byte[] scratch = b(body + "\n{\"stream\":\"stale\",\"data\":{}}\n{garbage\u0000\u00ff");
        int length = b(body).length;

        List<ParsedEvent> batch = parser.parseBatch(scratch, length);
        assertEquals(List.of("a", "b"), batch.stream().map(ParsedEvent::stream).toList());
        assertEquals(
                "{\"stream\":\"b\",\"data\":{\"x\":1}}", new String(batch.get(1).bytes(), StandardCharsets.UTF_8));
        assertTrue(batch.stream().allMatch(e -> e.json() == scratch), "slices of the body, not copies");

        byte[] single = b("{\"stream\":\"s\",\"data\":{}}  ]]] stale");
        List<ParsedEvent> one = parser.parseSingle(single, b("{\"stream\":\"s\",\"data\":{}}  ").length);
        assertEquals("{\"stream\":\"s\",\"data\":{}}", new String(one.getFirst().bytes(), StandardCharsets.UTF_8));
        assertTrue(one.getFirst().json() == single);
        assertEquals(0, one.getFirst().offset());
    }

    @Test
    void multiLineEventIsStoredCompact() {
        String json = new String(
                parser.parseSingle(b("{\n  \"stream\": \"s\",\n  \"data\": {\"a\": \"x y\"}\n}"))
                        .getFirst()
                        .bytes(),
                StandardCharsets.UTF_8);
        assertEquals("{\"stream\":\"s\",\"data\":{\"a\":\"x y\"}}", json);
    }

    @Test
    void rejectsWhatTheModelDoesNotAllowNamingTheField() {
        assertEquals("stream", single("{\"data\":{}}").field());
        assertEquals("data", single("{\"stream\":\"s\"}").field());
        assertEquals("data", single("{\"stream\":\"s\",\"data\":[1]}").field());
        assertEquals(
                "extra", single("{\"stream\":\"s\",\"data\":{},\"extra\":1}").field());
        assertEquals("stream", single("{\"stream\":\"bad name!\",\"data\":{}}").field());
        assertEquals("stream", single("{\"stream\":5,\"data\":{}}").field());
        assertTrue(single("{\"stream\":\"_state\",\"data\":{}}").getMessage().contains("reserved"));
        assertEquals(
                "priority",
                single("{\"stream\":\"s\",\"priority\":\"urgent\",\"data\":{}}").field());
        assertEquals(
                "ts",
                single("{\"stream\":\"s\",\"ts\":\"yesterday\",\"data\":{}}").field());
        assertEquals("ts", single("{\"stream\":\"s\",\"ts\":true,\"data\":{}}").field());
        assertEquals("id", single("{\"stream\":\"s\",\"id\":\"\",\"data\":{}}").field());
        assertEquals(
                "stream",
                single("{\"stream\":\"s\",\"stream\":\"t\",\"data\":{}}").field());
        assertEquals(Fault.MALFORMED_EVENT, single("[1,2]").fault());
        assertEquals(
                Fault.MALFORMED_EVENT, single("{\"stream\":\"s\",\"data\":{}").fault());
        assertEquals(
                Fault.MALFORMED_EVENT,
                single("{\"stream\":\"s\",\"data\":{}} {}").fault());
        assertEquals(Fault.EMPTY_BODY, single("   ").fault());
        assertEquals(
                Fault.EVENT_TOO_LARGE,
                single("{\"stream\":\"s\",\"data\":{\"a\":\"" + "x".repeat(2000) + "\"}}")
                        .fault());
        StringBuilder deep = new StringBuilder("{\"stream\":\"s\",\"data\":");
        deep.append("{\"a\":".repeat(100)).append("1").append("}".repeat(100)).append("}");
        assertEquals(Fault.MALFORMED_EVENT, single(deep.toString()).fault());
    }

    @Test
    void batchNamesTheBadLineAndSkipsBlankLines() {
        List<ParsedEvent> ok =
                parser.parseBatch(b("{\"stream\":\"a\",\"data\":{}}\r\n\n{\"stream\":\"b\",\"data\":{}}"));
        assertEquals(2, ok.size());
        InvalidInput e = assertThrows(
                InvalidInput.class,
                () -> parser.parseBatch(
                        b("{\"stream\":\"a\",\"data\":{}}\n{\"stream\":\"b\",\"data\":{}}\n{\"stream\":\"c\"}\n")));
        assertEquals(3, e.line());
        assertEquals("data", e.field());
        assertTrue(e.getMessage().startsWith("line 3: "), e.getMessage());
        InvalidInput tooMany = assertThrows(
                InvalidInput.class, () -> parser.parseBatch(b("{\"stream\":\"a\",\"data\":{}}\n".repeat(6))));
        assertEquals(Fault.BATCH_TOO_LARGE, tooMany.fault());
        assertEquals(
                Fault.EMPTY_BATCH,
                assertThrows(InvalidInput.class, () -> parser.parseBatch(b("\n\n")))
                        .fault());
    }
}

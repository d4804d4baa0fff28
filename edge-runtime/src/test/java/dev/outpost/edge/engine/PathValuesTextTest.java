package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/** {@link PathValues#textHash} and {@link PathValues#textEquals} agree with {@link PathValues#text} for every kind. */
class PathValuesTextTest {
    @Test
    void hashAndEqualityAgreeWithTheText() {
        String longText = "x".repeat(EventFields.STRING_CHARS_MAX + 1);
        List<String> events = List.of(
                "{\"a\":\"store-1\",\"b\":12.50,\"c\":true,\"d\":false,\"e\":null,\"f\":{\"g\":1},\"h\":[1]}",
                "{\"a\":\"\",\"b\":-3,\"c\":\"true\",\"d\":\"" + longText + "\"}",
                "{\"a\":\"caf\\u00e9\",\"b\":1e3}",
                "not json");
        List<String> others = List.of("store-1", "12.50", "true", "false", "", "-3", "café", "1e3", "null", longText);
        PathValues values = new PathValues(List.of(
                List.of("a"),
                List.of("b"),
                List.of("c"),
                List.of("d"),
                List.of("e"),
                List.of("f"),
                List.of("h"),
                List.of("missing")));
        for (String event : events) {
            byte[] b = event.getBytes(StandardCharsets.UTF_8);
            values.read(b, 0, b.length);
            for (int i = 0; i < 8; i++) {
                String text = values.text(i);
                assertEquals(Objects.hashCode(text), values.textHash(i), event + " path " + i);
                assertTrue(values.textEquals(i, text), event + " path " + i);
                for (String other : others) {
                    assertEquals(
                            Objects.equals(text, other), values.textEquals(i, other), event + " " + i + " " + other);
                }
                if (text != null) {
                    assertFalse(values.textEquals(i, null));
                }
            }
        }
    }
}

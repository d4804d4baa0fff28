package dev.outpost.edge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.ChronicleEventLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The shipped docs/outpost.example.yaml against the key definitions: every key documented, no
 * documented key unknown, every default shown as the code has it, every allowed value listed, the
 * stated ranges and live marks as the code has them. The docs cannot drift from the code.
 */
class ExampleConfigTest {
    private static final Path EXAMPLE = Path.of("..", "docs", "outpost.example.yaml");
    private static final Pattern RANGE = Pattern.compile("Range (\\d+[KMGTP]?(?:iB)?)-(\\d+[KMGTP]?(?:iB)?)[.;]");

    private static Map<?, ?> yaml() throws IOException {
        return new Yaml().load(Files.readString(EXAMPLE));
    }

    /** Each documented key ("section.leaf", or a top-level key) with the comment lines just above it. */
    private static Map<String, String> comments() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        String section = "";
        StringBuilder comment = new StringBuilder();
        for (String line : Files.readAllLines(EXAMPLE)) {
            if (line.matches(" *#.*")) {
                comment.append(line.strip().substring(1).strip()).append(' ');
                continue;
            }
            if (line.matches("[a-z_]+:.*")) {
                section = line.substring(0, line.indexOf(':'));
                out.put(section, comment.toString());
            } else if (line.matches("  [a-z_0-9]+:.*")) {
                out.put(section + "." + line.strip().substring(0, line.strip().indexOf(':')), comment.toString());
            }
            comment.setLength(0);
        }
        return out;
    }

    @Test
    void everyKeyIsDocumentedAndNoDocumentedKeyIsUnknown() throws IOException {
        Set<String> documented = new TreeSet<>();
        for (Map.Entry<?, ?> e : yaml().entrySet()) {
            String section = String.valueOf(e.getKey());
            if (section.equals(ConfigLoader.STREAMS)
                    || section.equals(ConfigLoader.RULES)
                    || section.equals(ConfigLoader.ROLLUPS)) {
                documented.add(section);
            } else if (e.getValue() instanceof Map<?, ?> m) {
                m.keySet().forEach(leaf -> documented.add(section + "." + leaf));
            } else {
                documented.add(section + " (not a mapping)");
            }
        }
        Set<String> defined = new TreeSet<>(List.of(ConfigLoader.STREAMS, ConfigLoader.RULES, ConfigLoader.ROLLUPS));
        OutpostConfig.KEYS.forEach(k -> defined.add(k.path()));
        assertEquals(defined, documented);
        assertEquals(
                ConfigLoader.topLevelKeys(),
                yaml().keySet().stream().map(String::valueOf).toList(),
                "sections in the order the loader lists them");
        // Each key has its own comment (the line-based reading sees the same keys as the YAML one).
        Map<String, String> comments = new LinkedHashMap<>(comments());
        OutpostConfig.SECTIONS.forEach(s -> comments.remove(s.name()));
        assertEquals(documented, new TreeSet<>(comments.keySet()));
        comments.forEach((key, comment) -> assertFalse(comment.isBlank(), key + " has no comment of its own"));
    }

    @Test
    void theExampleShowsEveryDefault() throws IOException {
        Map<?, ?> root = yaml();
        for (ConfigKey<?> k : OutpostConfig.KEYS) {
            Object shown = ((Map<?, ?>) root.get(k.section())).get(k.leaf());
            assertEquals(k.parse(k.defaultValue(), "default"), k.parse(shown, "example"), k.path());
        }
        assertEquals(ConfigLoader.defaults(), ConfigLoader.load(EXAMPLE));
    }

    @Test
    void everyAllowedValueIsListedAndNoOther() throws IOException {
        Map<String, String> comments = comments();
        for (ConfigKey<?> k : OutpostConfig.KEYS) {
            if (k.kind() != ConfigKey.Kind.ENUM) {
                continue;
            }
            String c = comments.get(k.path());
            int at = c.indexOf("One of:");
            assertTrue(at >= 0, k.path() + " lists its values after 'One of:': " + c);
            String list = c.substring(at + "One of:".length(), c.indexOf('.', at));
            List<String> listed =
                    Arrays.stream(list.split(",")).map(String::strip).toList();
            assertEquals(k.allowed(), listed, k.path());
        }
        assertEquals(
                ChronicleEventLog.ROLL_CYCLES,
                LogKeys.ROLL_CYCLE.allowed(),
                "the example lists every roll cycle the log accepts");
        String streams = comments.get(ConfigLoader.STREAMS);
        for (String p : dev.outpost.edge.ingest.EventParser.PRIORITIES) {
            assertTrue(streams.contains(p), "streams' comment lists priority " + p);
        }
    }

    /** A "Range a-b" in a key's comment states exactly its bounds. */
    @Test
    void statedRangesAreTheCodes() throws IOException {
        Map<String, String> comments = comments();
        List<String> checked = new ArrayList<>();
        for (ConfigKey<?> k : OutpostConfig.KEYS) {
            Matcher m = RANGE.matcher(comments.get(k.path()));
            if (m.find()) {
                assertEquals(k.min() + " to " + k.max(), size(m.group(1)) + " to " + size(m.group(2)), k.path());
                checked.add(k.path());
            }
        }
        assertTrue(checked.size() >= 25, "most keys state their range: " + checked);
    }

    /** "Live." in a key's comment marks exactly the keys a hub may change at runtime. */
    @Test
    void liveMarksAreTheLiveKeys() throws IOException {
        Set<String> markedLive = new TreeSet<>();
        comments().forEach((key, comment) -> {
            if (comment.contains(" Live.")) {
                markedLive.add(key);
            }
        });
        assertEquals(new TreeSet<>(LiveConfig.keys()), markedLive);
    }

    /** budget.memory is the process RSS; the cgroup is reported, not budgeted (docs/DECISIONS.md). */
    @Test
    void memoryBudgetSaysWhatIsMeasured() throws IOException {
        for (String doc : List.of(comments().get("budget.memory"), BudgetKeys.MEMORY.meaning())) {
            assertTrue(doc.contains("RSS") && doc.contains("not budgeted"), doc);
        }
    }

    private static long size(String s) {
        long unit = 1;
        for (String u : List.of("KiB", "MiB", "GiB", "TiB", "PiB")) {
            unit *= 1024;
            if (s.endsWith(u)) {
                return Long.parseLong(s.substring(0, s.length() - 3)) * unit;
            }
        }
        return Long.parseLong(s);
    }
}

package dev.outpost.sync.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * sync's main code builds no JSON from string pieces and finds nothing in JSON by searching text:
 * messages go through this package's types (jackson-core's generator, {@code JsonTree} to read).
 * Fails naming the file and line of a new offence.
 */
class NoHandBuiltJsonTest {
    /** A string literal holding a piece of JSON syntax: {"  ":  ,"  or a quoted key. */
    static final Pattern JSON_PIECE = Pattern.compile("\"[^\"]*(\\{\\\\\"|\\\\\":|,\\\\\")[^\"]*\"");

    /** Searching text for a quoted key, or taking numbers out by regex. */
    static final Pattern TEXT_SEARCH =
            Pattern.compile("(indexOf|startsWith|contains|lastIndexOf)\\(\"\\\\\"|replaceAll\\(\"\\\\\\\\D");

    @Test
    void noMainFileAssemblesOrSearchesJsonText() throws IOException {
        Path main = Path.of("src/main/java");
        assertTrue(Files.isDirectory(main), "run from the sync module: " + main.toAbsolutePath());
        List<String> offences = new ArrayList<>();
        try (Stream<Path> files = Files.walk(main)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    String code = lines.get(i).strip();
                    if (code.startsWith("*") || code.startsWith("/*") || code.startsWith("//")) {
                        continue; // documentation shows wire forms
                    }
                    if (JSON_PIECE.matcher(code).find()
                            || TEXT_SEARCH.matcher(code).find()) {
                        offences.add(f + ":" + (i + 1) + ": " + code);
                    }
                }
            }
        }
        assertEquals(List.of(), offences, "write JSON with JsonGenerator and read it with JsonTree");
    }

    @Test
    void thePatternsCatchWhatTheyAreFor() {
        assertTrue(JSON_PIECE.matcher("return \"{\\\"node\\\":\\\"\" + node;").find());
        assertTrue(JSON_PIECE.matcher("b.append(\",\\\"to\\\":\").append(to);").find());
        assertTrue(TEXT_SEARCH
                .matcher("int at = line.indexOf(\"\\\"kind\\\":\\\"\");")
                .find());
        assertTrue(TEXT_SEARCH
                .matcher("Long.parseLong(line.replaceAll(\"\\\\D\", \"\"))")
                .find());
        assertTrue(!JSON_PIECE.matcher("g.writeStringField(\"node\", node);").find());
        assertTrue(!TEXT_SEARCH.matcher("int colon = id.indexOf(':');").find());
    }
}

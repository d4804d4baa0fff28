package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Rules of the code base that a reviewer would otherwise have to remember (issue #11): one wire
 * format (no JSON assembled from string literals, no {@code indexOf} parsing), module boundaries
 * (sync sees only store's interfaces and owns what it needs of the governor; the governor depends on
 * nothing of ours), short classes and methods, and docs that point to nothing outside the repository.
 *
 * <p>Each rule reads the main sources of every module from the repository root. A file may be
 * exempted only here, with the reason beside it.
 */
class SourceRulesTest {
    /** Lines a main class may have unless its design note says why it is longer. */
    static final int CLASS_LINES_MAX = 500;

    /** Lines a method may have unless a comment right above it says why it is longer. */
    static final int METHOD_LINES_MAX = 70;

    /** The marker a comment carries to explain a longer class or method. */
    static final String LONG_MARKER = "Long because";

    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    static final List<String> MODULES = List.of("compress", "store", "resource-governor", "sync", "edge-runtime");

    /** A JSON member name inside a Java string literal: {@code "\"name\":"}. */
    static final Pattern JSON_MEMBER_LITERAL = Pattern.compile("\\\\\"[A-Za-z_][A-Za-z0-9_]*\\\\\"\\s*:");

    /** Looking for a quoted member by position: {@code indexOf("\"...")}. */
    static final Pattern INDEX_OF_QUOTE = Pattern.compile("indexOf\\(\\s*\"\\\\\"");

    /**
     * Files allowed to hold JSON member literals, and why. The load generator is a client that
     * stamps request bodies from byte templates at up to a million a second; it is not the API's
     * wire format and its output is parsed by the agent under test.
     */
    static final List<String> JSON_LITERAL_EXEMPT = List.of("edge-runtime/src/main/java/dev/outpost/edge/loadgen/");

    @Test
    void noJsonIsAssembledFromStringLiteralsOrParsedWithIndexOf() {
        List<String> found = new ArrayList<>();
        for (Path f : mainSources()) {
            String rel = ROOT.relativize(f).toString();
            if (JSON_LITERAL_EXEMPT.stream().anyMatch(rel::startsWith)) {
                continue;
            }
            List<String> lines = read(f);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (JSON_MEMBER_LITERAL.matcher(line).find()
                        || INDEX_OF_QUOTE.matcher(line).find()) {
                    found.add(rel + ":" + (i + 1) + ": " + line.strip());
                }
            }
        }
        assertEquals(
                List.of(),
                found,
                "JSON must be written with jackson-core's JsonGenerator (or Serde) and read with a parser");
    }

    /** A warning or error logged the plain way: {@code LOG.warn(...)}, {@code log.error(...)}. */
    static final Pattern PLAIN_WARNING = Pattern.compile("\\b(?:LOG|log|getLogger\\([^)]*\\))\\s*\\.(?:warn|error)\\(");

    /**
     * Issue #16 point 4: warnings and errors say what to do, as a field ({@code outpost.advice}, dev.outpost.store
     * .LogFields.ADVICE; the governor's {@code Governor.ADVICE_FIELD}): written {@code LOG.atWarn().addKeyValue(
     * LogFields.ADVICE, ...)...log(...)}, never {@code LOG.warn(...)}, so a new warning without advice fails here.
     */
    @Test
    void warningsAndErrorsCarryAdvice() {
        List<String> found = new ArrayList<>();
        Pattern fluent = Pattern.compile("\\.at(?:Warn|Error)\\(\\)");
        for (Path f : mainSources()) {
            String rel = ROOT.relativize(f).toString();
            if (rel.contains("/loadgen/") || rel.contains("/top/")) {
                continue; // command-line tools that print to the terminal, not the agent's log
            }
            String text = String.join("\n", read(f));
            Matcher plain = PLAIN_WARNING.matcher(text);
            while (plain.find()) {
                found.add(rel + ": " + plain.group());
            }
            Matcher m = fluent.matcher(text);
            while (m.find()) {
                int end = text.indexOf(".log(", m.end());
                String call = text.substring(m.start(), end < 0 ? text.length() : end);
                if (!call.contains("ADVICE")) {
                    found.add(rel + ": " + call.lines().findFirst().orElse("").strip() + " (no advice)");
                }
            }
        }
        assertEquals(List.of(), found, "warnings and errors carry LogFields.ADVICE: what the operator should do");
    }

    @Test
    void syncSeesOnlyStoreInterfacesAndNotTheGovernor() {
        List<String> found = new ArrayList<>();
        for (Path f : sources("sync")) {
            for (String line : read(f)) {
                if (line.startsWith("import ")
                        && (line.contains("net.openhft")
                                || line.contains("dev.outpost.store.Chronicle")
                                || line.contains("dev.outpost.store.LanedEventLog")
                                || line.contains("dev.outpost.governor"))) {
                    found.add(ROOT.relativize(f) + ": " + line);
                }
            }
            String text = String.join("\n", read(f));
            if (text.contains("dev.outpost.governor.") || text.contains("ChronicleEventLog")) {
                found.add(ROOT.relativize(f) + ": names the governor or a Chronicle class in code");
            }
        }
        assertEquals(List.of(), found, "sync may use store's interfaces only, and owns its batch scale");
        String pom = String.join("\n", read(ROOT.resolve("sync/pom.xml")));
        assertTrue(!pom.contains("outpost-resource-governor"), "sync must not depend on resource-governor");
    }

    @Test
    void theGovernorDependsOnNothingOfOurs() {
        List<String> found = new ArrayList<>();
        for (Path f : sources("resource-governor")) {
            for (String line : read(f)) {
                if (line.startsWith("import dev.outpost.") && !line.startsWith("import dev.outpost.governor.")) {
                    found.add(ROOT.relativize(f) + ": " + line);
                }
            }
        }
        assertEquals(List.of(), found);
    }

    @Test
    void classesAndMethodsAreShortOrSayWhy() {
        List<String> found = new ArrayList<>();
        for (String module : List.of("sync", "edge-runtime")) {
            for (Path f : sources(module)) {
                List<String> lines = read(f);
                String rel = ROOT.relativize(f).toString();
                if (lines.size() > CLASS_LINES_MAX && !headerSaysWhy(lines)) {
                    found.add(rel + ": " + lines.size() + " lines");
                }
                found.addAll(longMethods(rel, lines));
            }
        }
        assertEquals(List.of(), found, "split them, or say why in a comment containing '" + LONG_MARKER + "'");
    }

    @Test
    void theReadmePointsToNothingOutsideTheRepository() {
        String readme = String.join("\n", read(ROOT.resolve("README.md")));
        assertTrue(!readme.contains("../"), "README.md refers to a path outside the repository");
        assertTrue(!readme.contains("DEVELOPERS.md"), "README.md refers to a file that is not in the repository");
        Matcher m = Pattern.compile("`((?:docs|edge-runtime|store|compress|sync|resource-governor|native)/[^`*]+)`")
                .matcher(readme);
        List<String> missing = new ArrayList<>();
        while (m.find()) {
            String path = m.group(1).split(" ")[0];
            if (!Files.exists(ROOT.resolve(path))) {
                missing.add(path);
            }
        }
        assertEquals(List.of(), missing, "README.md names files that do not exist");
        assertTrue(Files.exists(ROOT.resolve("docs/ARCHITECTURE.md")));
    }

    /** The design note before the type declaration says why the class is long. */
    private static boolean headerSaysWhy(List<String> lines) {
        for (String line : lines) {
            if (line.contains(LONG_MARKER)) {
                return true;
            }
            if (line.matches("^(public |final |abstract |sealed )*(class|record|interface|enum) .*")) {
                return false;
            }
        }
        return false;
    }

    /** The first line of a member declaration: indented 4 or 8 (a type's or a nested type's member). */
    private static final Pattern MEMBER_START = Pattern.compile("^( {4}| {8})[A-Za-z<].*\\(.*");

    /** Words that start a statement or a type, not a method. */
    private static final Pattern NOT_A_METHOD =
            Pattern.compile("^\\s*(return|if|for|while|switch|try|catch|else|do|synchronized|new|throw|yield|case)\\b"
                    + "|\\b(class|record|interface|enum)\\s");

    static List<String> longMethods(String rel, List<String> lines) {
        List<String> found = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher m = MEMBER_START.matcher(line);
            if (!m.matches() || NOT_A_METHOD.matcher(line).find() || continuesAStatement(lines, i)) {
                continue;
            }
            int paren = line.indexOf('(');
            if (line.substring(0, paren).contains("=")) {
                continue; // a field initialised with a call, a lambda or an anonymous class
            }
            int bodyOpen = i;
            while (bodyOpen < lines.size()
                    && !lines.get(bodyOpen).endsWith("{")
                    && !lines.get(bodyOpen).endsWith(";")) {
                bodyOpen++;
            }
            if (bodyOpen == lines.size() || lines.get(bodyOpen).endsWith(";")) {
                continue; // abstract, or a field
            }
            String close = m.group(1) + "}";
            int end = bodyOpen + 1;
            while (end < lines.size() && !lines.get(end).equals(close)) {
                end++;
            }
            int length = end - i + 1;
            if (length > METHOD_LINES_MAX && !commentAboveSaysWhy(lines, i)) {
                found.add(rel + ":" + (i + 1) + ": method of " + length + " lines");
            }
            i = end;
        }
        return found;
    }

    /** The line before is unfinished (a wrapped argument or parameter list). */
    private static boolean continuesAStatement(List<String> lines, int i) {
        for (int j = i - 1; j >= 0; j--) {
            String prev = lines.get(j).strip();
            if (prev.isEmpty()) {
                return false;
            }
            return prev.endsWith(",")
                    || prev.endsWith("(")
                    || prev.endsWith("+")
                    || prev.endsWith("&&")
                    || prev.endsWith("||")
                    || prev.endsWith("?")
                    || prev.endsWith(":")
                    || prev.endsWith("->")
                    || prev.endsWith("=");
        }
        return false;
    }

    private static boolean commentAboveSaysWhy(List<String> lines, int start) {
        for (int j = start - 1; j >= 0 && j >= start - 30; j--) {
            String l = lines.get(j).strip();
            if (l.contains(LONG_MARKER)) {
                return true;
            }
            if (!(l.startsWith("*") || l.startsWith("/*") || l.startsWith("//") || l.startsWith("@"))) {
                return false;
            }
        }
        return false;
    }

    static List<Path> mainSources() {
        List<Path> all = new ArrayList<>();
        for (String module : MODULES) {
            all.addAll(sources(module));
        }
        return all;
    }

    static List<Path> sources(String module) {
        Path dir = ROOT.resolve(module).resolve("src/main/java");
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> read(Path f) {
        try {
            return Files.readAllLines(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

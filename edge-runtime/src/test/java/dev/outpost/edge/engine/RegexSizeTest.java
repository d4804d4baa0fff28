package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.re2j.Pattern;
import org.junit.jupiter.api.Test;

/** Patterns whose compiled program would be huge are told from their text; ordinary ones pass. */
class RegexSizeTest {
    @Test
    void nestedCountsBeyondAThousandAreTooLarge() {
        for (String p : new String[] {
            "(((a{100}){100}){100}){100}",
            "((a{1000}){1000}){1000}",
            "(a{1000}){2}",
            "(?:x{10}){101}",
            "(a{2}){2}{2}{2}{2}{2}{2}{2}{2}{2}",
            "([a-z]{40}|b){30}"
        }) {
            assertNotNull(RegexSize.tooLarge(p), p);
        }
    }

    @Test
    void manyCopiesAreTooLargeEvenWithoutNesting() {
        assertNotNull(RegexSize.tooLarge("a{1000}".repeat(11)));
        assertNotNull(RegexSize.tooLarge("(abcdefghijk){1000}"));
    }

    @Test
    void ordinaryPatternsPassAndStillCompile() {
        for (String p : new String[] {
            "^10\\.",
            "^[0-9a-f]{64}$",
            "\\d{1,3}(\\.\\d{1,3}){3}",
            "(a{1000})",
            "(a{10}){100}",
            "[{}]{3}x{",
            "\\x{41}{1000}",
            "\\p{Greek}{500}",
            "[[:alpha:]]{2,5}",
            "\\Q{1000}\\E",
            "a{,5}",
            "(?i)get|post",
            "[]{]{10}"
        }) {
            assertNull(RegexSize.tooLarge(p), p);
            Pattern.compile(p);
        }
    }
}

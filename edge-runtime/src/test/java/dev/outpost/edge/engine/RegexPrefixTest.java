package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.re2j.Pattern;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The literal prefix of anchored patterns: what it derives, and that it never refuses an input re2j would match. */
class RegexPrefixTest {
    @Test
    void derivesThePlainTextAfterTheAnchorOnly() {
        assertEquals("store-000", RegexPrefix.of("^store-000[1-3]$"));
        assertEquals("abc", RegexPrefix.of("^abc"));
        assertEquals("ab", RegexPrefix.of("^abc*"), "a quantified literal is optional");
        assertEquals("ab", RegexPrefix.of("^abc{2}"));
        assertEquals("ab", RegexPrefix.of("^abc?d"));
        assertEquals("a b:c", RegexPrefix.of("^a b:c.d"));
        assertEquals("", RegexPrefix.of("abc"), "not anchored");
        assertEquals("", RegexPrefix.of("^abc|def"), "an alternation may drop the anchor");
        assertEquals("", RegexPrefix.of("^(a|b)c"));
        assertEquals("", RegexPrefix.of("(?i)^abc"), "flags first: not a plain anchor");
        assertEquals("", RegexPrefix.of("^\\x41bc"), "escapes are not read");
        assertEquals("", RegexPrefix.of("^a*"));
        assertEquals("", RegexPrefix.of("^"));
        assertEquals("", RegexPrefix.of("^[ab]c"));
    }

    @Test
    void anInputWithoutThePrefixNeverMatches() {
        SplittableRandom rnd = new SplittableRandom(12);
        String alphabet = "ab-:. ";
        String meta = "ab-:.*+?{}[]()|^$\\ 2,1";
        int checked = 0;
        for (int p = 0; p < 3_000; p++) {
            String pattern = "^" + random(rnd, meta, 1 + rnd.nextInt(7));
            Pattern compiled;
            try {
                compiled = Pattern.compile(pattern);
            } catch (RuntimeException invalid) {
                continue;
            }
            String prefix = RegexPrefix.of(pattern);
            for (String input : inputs(rnd, alphabet, prefix)) {
                if (!input.startsWith(prefix)) {
                    checked++;
                    assertFalse(compiled.matcher(input).find(), pattern + " on '" + input + "', prefix " + prefix);
                }
            }
        }
        assertFalse(checked < 10_000, "too few refused inputs checked: " + checked);
    }

    private static List<String> inputs(SplittableRandom rnd, String alphabet, String prefix) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String tail = random(rnd, alphabet, rnd.nextInt(8));
            int cut = prefix.isEmpty() ? 0 : rnd.nextInt(prefix.length());
            out.add(prefix.substring(0, cut) + tail); // near misses of the prefix, and the tail alone
            out.add(tail);
        }
        return out;
    }

    private static String random(SplittableRandom rnd, String chars, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(chars.charAt(rnd.nextInt(chars.length())));
        }
        return sb.toString();
    }
}

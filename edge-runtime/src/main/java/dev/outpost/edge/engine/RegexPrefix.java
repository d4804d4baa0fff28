package dev.outpost.edge.engine;

/**
 * The literal text an anchored regex requires its input to start with, so a rule can refuse most inputs with a
 * comparison before running the regex engine (re2j does not skip ahead on a literal prefix itself: with it, one
 * anchored pattern was ~10 % of the engine's CPU).
 *
 * <p>Conservative by design: a prefix is derived only from a pattern that starts with {@code ^} followed by plain
 * ASCII letters, digits and punctuation that are never special outside a class, and that holds no {@code |} anywhere
 * (so no alternation can make the anchor optional); a literal directly followed by a quantifier is not part of it.
 * Anything else has the empty prefix, which refuses nothing. Invariant: for every input, "does not start with the
 * prefix" implies "the pattern does not match"; RegexPrefixTest checks it against re2j.
 */
final class RegexPrefix {
    private static final String PLAIN = "-_/:,;=@#%&~!\"'<> `";

    private RegexPrefix() {}

    /** The prefix every match of {@code pattern} (RE2 syntax, default flags) starts at the input's start with. */
    static String of(String pattern) {
        if (!pattern.startsWith("^") || pattern.indexOf('|') >= 0) {
            return "";
        }
        int end = 1;
        while (end < pattern.length() && plain(pattern.charAt(end))) {
            end++;
        }
        if (end < pattern.length() && quantifier(pattern.charAt(end))) {
            end--; // "^ab*": the b is optional
        }
        return end <= 1 ? "" : pattern.substring(1, end);
    }

    private static boolean plain(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || PLAIN.indexOf(c) >= 0;
    }

    private static boolean quantifier(char c) {
        return c == '*' || c == '?' || c == '+' || c == '{';
    }
}

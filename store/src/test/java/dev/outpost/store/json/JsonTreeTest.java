package dev.outpost.store.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTreeTest {
    static Object json(String s) {
        byte[] b = s.getBytes(UTF_8);
        return JsonTree.parse(b, 0, b.length);
    }

    static String text(Object tree) {
        return new String(JsonTree.write(tree), UTF_8);
    }

    private static String error(String s) {
        return assertThrows(JsonTreeException.class, () -> json(s)).getMessage();
    }

    @Test
    void parsesEachKindToPlainJavaValues() {
        Map<?, ?> m = (Map<?, ?>)
                json("{\"o\":{},\"a\":[1],\"s\":\"x\",\"i\":-7,\"d\":2.5,\"t\":true,\"f\":false,\"n\":null}");
        assertInstanceOf(LinkedHashMap.class, m.get("o"));
        assertInstanceOf(ArrayList.class, m.get("a"));
        assertEquals("x", m.get("s"));
        assertEquals(-7L, m.get("i"));
        assertEquals(new BigDecimal("2.5"), m.get("d"));
        assertEquals(Boolean.TRUE, m.get("t"));
        assertEquals(Boolean.FALSE, m.get("f"));
        assertSame(JsonTree.NULL, m.get("n"));
        assertEquals("null", JsonTree.NULL.toString());
        assertSame(JsonTree.NULL, json(" null "), "a scalar is a whole document too");
    }

    @Test
    void nullMemberDiffersFromMissingMember() {
        Map<?, ?> m = (Map<?, ?>) json("{\"n\":null}");
        assertTrue(m.containsKey("n"));
        assertSame(JsonTree.NULL, m.get("n"));
        assertNull(m.get("missing"));
    }

    @Test
    void keepsMemberOrderAndWritesCompactly() {
        String in = " { \"z\" : 1 ,\n \"a\" : [ true , null , { \"m\" : \"\" } ] , \"k\" : { } } ";
        assertEquals("{\"z\":1,\"a\":[true,null,{\"m\":\"\"}],\"k\":{}}", text(json(in)));
        assertEquals(List.of("z", "a", "k"), List.copyOf(((Map<?, ?>) json(in)).keySet()));
    }

    @Test
    void integersAreLongUntilTheyDoNotFit() {
        assertEquals(Long.MAX_VALUE, json("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, json("-9223372036854775808"));
        assertEquals(new BigInteger("9223372036854775808"), json("9223372036854775808"));
        assertEquals(new BigInteger("-123456789012345678901234567890"), json("-123456789012345678901234567890"));
        assertEquals("123456789012345678901234567890", text(json("123456789012345678901234567890")));
    }

    @Test
    void decimalsKeepTheirDigitsAndScale() {
        for (String s : List.of("1.50", "0.1", "-12.000", "100.0", "3.141592653589793238462643383279", "1.5E-10")) {
            assertEquals(s, text(json(s)));
            assertEquals(new BigDecimal(s), json(s));
        }
        // Exponents come back in BigDecimal's canonical form, with the same value and scale.
        assertEquals("1E+2", text(json("1e2")));
        assertEquals("[1E+400]", text(json("[1e400]")), "beyond double range, kept exactly");
        assertEquals("0.0", text(json("-0.0")), "BigDecimal has no negative zero");
    }

    @Test
    void stringsRoundTripWithEscapes() {
        String s = "q\" b\\ nl\n tab\t ctl\u0001 é 😀 /";
        Object tree = List.of(s);
        assertEquals(tree, json(text(tree)));
        assertEquals("\"\\u0000\"", text("\u0000"));
        assertEquals("é", json("\"\\u00e9\""));
    }

    @Test
    void parsesASliceOfTheArray() {
        byte[] b = "xx[1,2]yy".getBytes(UTF_8);
        assertEquals(List.of(1L, 2L), JsonTree.parse(b, 2, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> JsonTree.parse(b, 5, 5));
    }

    @Test
    void nestingIsBoundedAt64() {
        String ok = "[".repeat(64) + "]".repeat(64);
        assertEquals(ok, text(json(ok)));
        String deep = "{\"a\":" + "[".repeat(64) + "]".repeat(64) + "}";
        String e = error(deep);
        assertTrue(e.contains("deeper than 64") && e.contains("/a/0/0"), e);
    }

    @Test
    void malformedInputNamesWhere() {
        String e = error("{\"a\":[1,2,}");
        assertTrue(e.startsWith("malformed JSON at /a/2 (line 1, column 11)"), e);
        e = error("{\"a\":{\"b\":tru}}");
        assertTrue(e.startsWith("malformed JSON at /a/b"), e);
        e = error("{\"a\":1");
        assertTrue(e.startsWith("malformed JSON at /a (line 1, column 7): Unexpected end-of-input"), e);
        e = error("[1]]");
        assertTrue(e.startsWith("trailing content"), e);
        e = error("{\"a~/b\":[x]}");
        assertTrue(e.startsWith("malformed JSON at /a~0~1b/0"), e);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"NaN", "01", "'a'", "{a:1}", "[1,]", "// c\n1", "\"unterminated", "[1 2]", "+1", ".5", "1."})
    void rejectsWhatRfc8259Forbids(String s) {
        assertTrue(error(s).startsWith("malformed JSON"), s);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{} x", "1 2", "{}}", "[] []", "null,"})
    void rejectsTrailingContent(String s) {
        assertTrue(error(s).startsWith("trailing content after the JSON value"), s);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  \n\t"})
    void rejectsEmptyInput(String s) {
        assertEquals("empty input: expected a JSON value", error(s));
    }

    @Test
    void rejectsDuplicateMembers() {
        String e = error("{\"x\":{\"a\":1,\"a\":2}}");
        assertTrue(e.startsWith("duplicate member \"a\" in /x"), e);
    }

    @Test
    void equalComparesNumbersByValueAndObjectsUnordered() {
        assertTrue(JsonTree.equal(json("1"), json("1.0")));
        assertTrue(JsonTree.equal(json("1e0"), 1));
        assertTrue(JsonTree.equal(json("100"), json("1E2")));
        assertTrue(JsonTree.equal(new BigInteger("5"), 5.0));
        assertFalse(JsonTree.equal(json("1"), json("1.5")));
        assertFalse(JsonTree.equal(json("1"), json("\"1\"")));
        assertFalse(JsonTree.equal(json("1"), json("true")));
        assertFalse(JsonTree.equal(json("0"), JsonTree.NULL));
        assertTrue(JsonTree.equal(JsonTree.NULL, json("null")));
        assertTrue(JsonTree.equal(json("{\"a\":1,\"b\":[1,{}]}"), json("{\"b\":[1.0,{}],\"a\":1}")));
        assertFalse(JsonTree.equal(json("[1,2]"), json("[2,1]")));
        assertFalse(JsonTree.equal(json("{\"a\":null}"), json("{}")));
        assertFalse(JsonTree.equal(json("{\"a\":null}"), json("{\"b\":null}")));
        assertFalse(JsonTree.equal(json("[]"), json("{}")));
        assertFalse(JsonTree.equal(json("1"), json("[1]")));
        assertFalse(JsonTree.equal(json("[1]"), json("[1,1]")));
        assertThrows(JsonTreeException.class, () -> JsonTree.equal(new Object(), 1));
    }

    @Test
    void copyIsDeep() {
        Object tree = json("{\"a\":[{\"b\":1}],\"c\":{\"d\":null}}");
        Object copy = JsonTree.copy(tree);
        assertEquals(tree, copy);
        assertNotSame(tree, copy);
        @SuppressWarnings("unchecked")
        Map<String, Object> inner = (Map<String, Object>) ((List<?>) ((Map<?, ?>) copy).get("a")).get(0);
        inner.put("b", 2L);
        assertEquals("{\"a\":[{\"b\":1}],\"c\":{\"d\":null}}", text(tree));
    }

    @Test
    void rejectsValuesOutsideTheModel() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", new ArrayList<>(List.of(1, new Object())));
        String e =
                assertThrows(JsonTreeException.class, () -> JsonTree.write(m)).getMessage();
        assertTrue(e.startsWith("not a JSON value at /a/1: non-JSON java.lang.Object"), e);
        m.put("a", null);
        e = assertThrows(JsonTreeException.class, () -> JsonTree.write(m)).getMessage();
        assertTrue(e.contains("Java null (use JsonTree.NULL)"), e);
        assertThrows(JsonTreeException.class, () -> JsonTree.write(Double.NaN));
        assertThrows(JsonTreeException.class, () -> JsonTree.copy(Map.of(1, 2)));
        assertThrows(JsonTreeException.class, () -> JsonTree.copy(List.of(new StringBuilder())));
        // Values built in code are accepted when they are JSON numbers.
        assertEquals("[1,2,0.1,1.5]", text(List.of(1, (short) 2, 0.1, 1.5f)));
    }

    @Test
    void randomTreesRoundTrip() {
        for (long seed = 0; seed < 300; seed++) {
            Random r = new Random(seed);
            Object tree = randomTree(r, 4);
            String once = text(tree);
            Object back = json(once);
            long s = seed;
            assertTrue(JsonTree.equal(tree, back), () -> "seed " + s);
            assertEquals(once, text(back), "seed " + seed);
            assertEquals(once, text(JsonTree.copy(back)), "seed " + seed);
        }
    }

    private static final List<String> KEYS = List.of("a", "b", "", "-", "0", "a/b", "m~n", "~1", "é", "\"q\"");

    /** A random tree nesting at most {@code depth} deep, with keys that need pointer escapes. */
    static Object randomTree(Random r, int depth) {
        int kind = r.nextInt(depth > 0 ? 9 : 6);
        return switch (kind) {
            case 0 -> (long) r.nextInt(100) - 50;
            case 1 -> BigDecimal.valueOf(r.nextInt(10_000) - 5_000, r.nextInt(4));
            case 2 -> KEYS.get(r.nextInt(KEYS.size()));
            case 3 -> r.nextBoolean();
            case 4 -> JsonTree.NULL;
            case 5 -> new BigInteger(80, r);
            case 6, 7 -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    m.put(KEYS.get(r.nextInt(KEYS.size())), randomTree(r, depth - 1));
                }
                yield m;
            }
            default -> {
                List<Object> a = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    a.add(randomTree(r, depth - 1));
                }
                yield a;
            }
        };
    }
}

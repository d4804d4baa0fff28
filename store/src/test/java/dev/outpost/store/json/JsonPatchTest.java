package dev.outpost.store.json;

import static dev.outpost.store.json.JsonTreeTest.json;
import static dev.outpost.store.json.JsonTreeTest.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonPatchTest {
    /** Applies patch to doc, checks the result (as unordered JSON) and that the inputs did not change. */
    private static Object patches(String doc, String patch, String expected) {
        Object target = json(doc);
        Object p = json(patch);
        String before = text(target);
        String patchBefore = text(p);
        Object out = JsonPatch.apply(target, p);
        assertTrue(JsonTree.equal(json(expected), out), () -> "got " + text(out));
        assertEquals(before, text(target), "target unchanged");
        assertEquals(patchBefore, text(p), "patch unchanged");
        return out;
    }

    /** Applies a failing patch; checks the target is unchanged and returns the message. */
    private static String fails(String doc, String patch) {
        Object target = json(doc);
        String before = text(target);
        String e = assertThrows(JsonPatchException.class, () -> JsonPatch.apply(target, json(patch)))
                .getMessage();
        assertEquals(before, text(target), "target unchanged");
        return e;
    }

    // RFC 6902 Appendix A, in order.

    @Test
    void a01AddingAnObjectMember() {
        patches(
                "{\"foo\":\"bar\"}",
                "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
                "{\"baz\":\"qux\",\"foo\":\"bar\"}");
    }

    @Test
    void a02AddingAnArrayElement() {
        patches(
                "{\"foo\":[\"bar\",\"baz\"]}",
                "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
                "{\"foo\":[\"bar\",\"qux\",\"baz\"]}");
    }

    @Test
    void a03RemovingAnObjectMember() {
        patches("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]", "{\"foo\":\"bar\"}");
    }

    @Test
    void a04RemovingAnArrayElement() {
        patches(
                "{\"foo\":[\"bar\",\"qux\",\"baz\"]}",
                "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
                "{\"foo\":[\"bar\",\"baz\"]}");
    }

    @Test
    void a05ReplacingAValue() {
        patches(
                "{\"baz\":\"qux\",\"foo\":\"bar\"}",
                "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
                "{\"baz\":\"boo\",\"foo\":\"bar\"}");
    }

    @Test
    void a06MovingAValue() {
        patches(
                "{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
                "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
                "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}");
    }

    @Test
    void a07MovingAnArrayElement() {
        patches(
                "{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
                "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
                "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
    }

    @Test
    void a08TestingAValueSuccess() {
        String doc = "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}";
        patches(
                doc,
                "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
                doc);
    }

    @Test
    void a09TestingAValueError() {
        assertEquals(
                "operation 0 (test /baz): the string differs from the expected value",
                fails("{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]"));
    }

    @Test
    void a10AddingANestedMemberObject() {
        patches(
                "{\"foo\":\"bar\"}",
                "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
                "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}");
    }

    @Test
    void a11IgnoringUnrecognizedElements() {
        patches(
                "{\"foo\":\"bar\"}",
                "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
                "{\"foo\":\"bar\",\"baz\":\"qux\"}");
    }

    @Test
    void a12AddingToANonexistentTarget() {
        assertEquals(
                "operation 0 (add /baz/bat): path does not exist: no member \"baz\" in the document root",
                fails("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]"));
    }

    @Test
    void a13InvalidJsonPatchDocument() {
        // The duplicate "op" is refused by the parser, so the patch never reaches JsonPatch.
        String e = assertThrows(
                        JsonTreeException.class,
                        () -> json("[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"op\":\"remove\"}]"))
                .getMessage();
        assertTrue(e.startsWith("duplicate member \"op\" in /0"), e);
    }

    @Test
    void a14TildeEscapeOrdering() {
        String doc = "{\"/\":9,\"~1\":10}";
        patches(doc, "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]", doc);
    }

    @Test
    void a15ComparingStringsAndNumbers() {
        assertEquals(
                "operation 0 (test /~01): found a number, expected a string",
                fails("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]"));
    }

    @Test
    void a16AddingAnArrayValue() {
        patches(
                "{\"foo\":[\"bar\"]}",
                "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
                "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}");
    }

    // Pointers (RFC 6901).

    /** Every pointer of RFC 6901 section 5, checked with "test". */
    @Test
    void rfc6901Examples() {
        String doc = """
                {"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\\\j": 5,
                 "k\\"l": 6, " ": 7, "m~n": 8}""";
        String[][] cases = {
            {"", doc},
            {"/foo", "[\"bar\",\"baz\"]"},
            {"/foo/0", "\"bar\""},
            {"/", "0"},
            {"/a~1b", "1"},
            {"/c%d", "2"},
            {"/e^f", "3"},
            {"/g|h", "4"},
            {"/i\\\\j", "5"},
            {"/k\\\"l", "6"},
            {"/ ", "7"},
            {"/m~0n", "8"}
        };
        for (String[] c : cases) {
            patches(doc, "[{\"op\":\"test\",\"path\":\"" + c[0] + "\",\"value\":" + c[1] + "}]", doc);
        }
    }

    @Test
    void pointerParsingRoundTrips() {
        assertEquals(List.of(), JsonPointer.parse(""));
        assertEquals(List.of(""), JsonPointer.parse("/"));
        assertEquals(List.of("a/b", "~", "", "~1"), JsonPointer.parse("/a~1b/~0//~01"));
        assertEquals("/a~1b/~0//~01", JsonPointer.format(List.of("a/b", "~", "", "~1")));
        assertThrows(IllegalArgumentException.class, () -> JsonPointer.parse("a"));
        assertThrows(IllegalArgumentException.class, () -> JsonPointer.parse("/~2"));
        assertThrows(IllegalArgumentException.class, () -> JsonPointer.parse("/a~"));
    }

    @Test
    void arrayIndices() {
        String doc = "{\"a\":[0,1,2]}";
        patches(doc, "[{\"op\":\"add\",\"path\":\"/a/3\",\"value\":3}]", "{\"a\":[0,1,2,3]}");
        patches(doc, "[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":9}]", "{\"a\":[9,0,1,2]}");
        patches(doc, "[{\"op\":\"replace\",\"path\":\"/a/2\",\"value\":9}]", "{\"a\":[0,1,9]}");
        assertEquals(
                "operation 0 (add /a/4): index 4 is out of bounds for the array at /a (size 3)",
                fails(doc, "[{\"op\":\"add\",\"path\":\"/a/4\",\"value\":3}]"));
        assertEquals(
                "operation 0 (replace /a/3): path does not exist: index 3 is out of range for the array at /a (size 3)",
                fails(doc, "[{\"op\":\"replace\",\"path\":\"/a/3\",\"value\":3}]"));
        assertEquals(
                "operation 0 (remove /a/-): path does not exist: \"-\" is past the end of the array at /a",
                fails(doc, "[{\"op\":\"remove\",\"path\":\"/a/-\"}]"));
        for (String bad : List.of("01", "-1", "+1", " 1", "1.0", "x", "")) {
            String e = fails(doc, "[{\"op\":\"add\",\"path\":\"/a/" + bad + "\",\"value\":3}]");
            assertTrue(e.endsWith("\"" + bad + "\" is not an index for the array at /a"), e);
        }
        String e = fails(doc, "[{\"op\":\"remove\",\"path\":\"/a/99999999999999999999\"}]");
        assertTrue(e.contains("out of range"), e);
        // "-" and digits are ordinary member names in objects.
        patches(
                "{}",
                "[{\"op\":\"add\",\"path\":\"/-\",\"value\":1},{\"op\":\"add\",\"path\":\"/01\",\"value\":2}]",
                "{\"-\":1,\"01\":2}");
    }

    @Test
    void wholeDocument() {
        patches("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]");
        patches("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":\"x\"}]", "\"x\"");
        patches("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"\",\"value\":{\"a\":1.0}}]", "{\"a\":1}");
        assertEquals(
                "operation 0 (remove \"\"): cannot remove the whole document",
                fails("{}", "[{\"op\":\"remove\",\"path\":\"\"}]"));
    }

    @Test
    void addReplacesAnExistingMemberButReplaceNeedsOne() {
        patches("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":2}]", "{\"a\":2}");
        assertEquals(
                "operation 0 (replace /b): path does not exist: no member \"b\" in the document root",
                fails("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]"));
        assertEquals(
                "operation 0 (add /a/b): cannot add to /a: it is a number, not an object or array",
                fails("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":2}]"));
        assertEquals(
                "operation 0 (remove /a/b/c): path does not exist: /a is a number, not an object or array",
                fails("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/a/b/c\"}]"));
        // JSON null is a value: the member exists.
        patches("{\"a\":null}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":null}]", "{\"a\":null}");
        patches("{\"a\":null}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":null}]", "{\"a\":null}");
    }

    @Test
    void moveAndCopy() {
        patches("{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]", "{\"a\":{\"b\":1}}");
        patches("{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"/b\"}]", "{\"a\":{},\"b\":1}");
        patches("{\"a\":[1,2]}", "[{\"op\":\"move\",\"from\":\"/a/0\",\"path\":\"/a/-\"}]", "{\"a\":[2,1]}");
        patches(
                "{\"a\":{\"b\":[1]}}",
                "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"},{\"op\":\"add\",\"path\":\"/c/b/-\",\"value\":2}]",
                "{\"a\":{\"b\":[1]},\"c\":{\"b\":[1,2]}}");
        patches("{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"\",\"path\":\"/b\"}]", "{\"a\":1,\"b\":{\"a\":1}}");
        assertEquals(
                "operation 0 (move /a/b/c): cannot move a value into itself: \"from\" is a prefix of \"path\"",
                fails("{\"a\":{\"b\":{}}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]"));
        assertEquals(
                "operation 0 (move /y): from does not exist: no member \"x\" in the document root",
                fails("{}", "[{\"op\":\"move\",\"from\":\"/x\",\"path\":\"/y\"}]"));
        assertEquals(
                "operation 0 (copy /y): from does not exist: no member \"x\" in the document root",
                fails("{}", "[{\"op\":\"copy\",\"from\":\"/x\",\"path\":\"/y\"}]"));
        fails("{}", "[{\"op\":\"move\",\"from\":\"/x\",\"path\":\"/x\"}]");
    }

    @Test
    void testComparesNumbersByValueAndObjectsUnordered() {
        String doc = "{\"n\":1,\"o\":{\"a\":1,\"b\":[true,null]}}";
        patches(
                doc,
                "[{\"op\":\"test\",\"path\":\"/n\",\"value\":1.0},"
                        + "{\"op\":\"test\",\"path\":\"/o\",\"value\":{\"b\":[true,null],\"a\":1e0}}]",
                doc);
        assertEquals(
                "operation 0 (test /o): the object differs from the expected value",
                fails(doc, "[{\"op\":\"test\",\"path\":\"/o\",\"value\":{\"a\":1}}]"));
    }

    @Test
    void aFailingOperationLeavesTheDocumentUnchanged() {
        String e = fails(
                "{\"a\":{\"b\":1},\"list\":[1,2]}",
                "[{\"op\":\"add\",\"path\":\"/x\",\"value\":1},{\"op\":\"remove\",\"path\":\"/list/0\"},"
                        + "{\"op\":\"replace\",\"path\":\"/a/c\",\"value\":2}]");
        assertEquals("operation 2 (replace /a/c): path does not exist: no member \"c\" in /a", e);
        JsonPatchException x = assertThrows(
                JsonPatchException.class,
                () -> JsonPatch.apply(json("{}"), json("[{\"op\":\"test\",\"path\":\"/q\",\"value\":1}]")));
        assertEquals(0, x.operationIndex());
        assertEquals("test", x.op());
        assertEquals("/q", x.path());
    }

    @Test
    void resultSharesNoStructureWithThePatch() {
        Object patch = json("[{\"op\":\"add\",\"path\":\"/a\",\"value\":{\"b\":[]}}]");
        Map<?, ?> out = (Map<?, ?>) JsonPatch.apply(json("{}"), patch);
        ((Map<?, ?>) out.get("a")).clear();
        assertEquals("[{\"op\":\"add\",\"path\":\"/a\",\"value\":{\"b\":[]}}]", text(patch));
    }

    // Validation of the patch document.

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{}|invalid JSON Patch: must be an array of operations, not object",
                "[1]|operation 0: must be an object, not number",
                "[{}]|operation 0: missing \"op\"",
                "[{\"op\":\"ADD\",\"path\":\"\"}]|operation 0: unknown \"op\" ADD; expected add, remove, replace, move, copy or test",
                "[{\"op\":1}]|operation 0: unknown \"op\" 1; expected add, remove, replace, move, copy or test",
                "[{\"op\":\"remove\"}]|operation 0 (remove): missing \"path\"",
                "[{\"op\":\"remove\",\"path\":1}]|operation 0 (remove): \"path\" must be a string, not number",
                "[{\"op\":\"remove\",\"path\":\"a\"}]|operation 0 (remove a): \"path\" a is not a JSON Pointer: a JSON Pointer must be empty or start with '/'",
                "[{\"op\":\"remove\",\"path\":\"/~x\"}]|operation 0 (remove /~x): \"path\" /~x is not a JSON Pointer: '~' at offset 1 must be followed by '0' or '1'",
                "[{\"op\":\"move\",\"path\":\"/a\"}]|operation 0 (move /a): missing \"from\"",
                "[{\"op\":\"copy\",\"path\":\"/a\",\"from\":\"x\"}]|operation 0 (copy /a): \"from\" x is not a JSON Pointer: a JSON Pointer must be empty or start with '/'",
                "[{\"op\":\"add\",\"path\":\"/a\"}]|operation 0 (add /a): missing \"value\"",
                "[{\"op\":\"replace\",\"path\":\"/a\"}]|operation 0 (replace /a): missing \"value\"",
                "[{\"op\":\"test\",\"path\":\"/a\"}]|operation 0 (test /a): missing \"value\"",
                "[{\"op\":\"test\",\"path\":\"\",\"value\":{}},{\"op\":\"nope\"}]|operation 1: unknown \"op\" nope; expected add, remove, replace, move, copy or test",
            })
    void invalidPatchDocuments(String c) {
        String[] parts = c.split("\\|");
        // Validation runs first: the valid test in the last case never gets to run and pass.
        assertEquals(parts[1], fails("{\"a\":1}", parts[0]));
    }

    @Test
    void operationsAreBounded() {
        String op = "{\"op\":\"test\",\"path\":\"\",\"value\":{}}";
        patches("{}", "[" + String.join(",", Collections.nCopies(JsonPatch.OPERATIONS_MAX, op)) + "]", "{}");
        assertEquals(
                "invalid JSON Patch: 1001 operations; at most 1000 are allowed",
                fails("{}", "[" + String.join(",", Collections.nCopies(JsonPatch.OPERATIONS_MAX + 1, op)) + "]"));
    }

    @Test
    void resultsNestNoDeeperThanTheParserAccepts() {
        // 62 deep: the deepest value a parsed patch can carry (array, operation object, value).
        String deep62 = "[".repeat(62) + "]".repeat(62);
        String add = "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":" + deep62 + "}]";
        Object out = patches("{\"a\":{}}", add, "{\"a\":{\"b\":" + deep62 + "}}");
        assertEquals(out, json(text(out)), "64 deep: the result parses back");
        assertEquals(
                "operation 0 (add /a/b/c): the result would nest deeper than 64 levels",
                fails("{\"a\":{\"b\":{}}}", add.replace("/a/b", "/a/b/c")));
        assertEquals(
                "operation 0 (copy /a/b): the result would nest deeper than 64 levels",
                fails("{\"a\":{\"b\":" + deep62 + "}}", "[{\"op\":\"copy\",\"from\":\"\",\"path\":\"/a/b\"}]"));
    }

    @Test
    void copiesCannotBlowUpTheDocument() {
        // Each copy of the root doubles the document; without a bound 40 of them would need 2^40 values.
        StringBuilder p = new StringBuilder("[");
        for (int i = 0; i < 40; i++) {
            p.append(i == 0 ? "" : ",").append("{\"op\":\"copy\",\"from\":\"\",\"path\":\"/k" + i + "\"}");
        }
        String e = fails("{\"a\":[1,2,3]}", p.append("]").toString());
        assertTrue(e.endsWith("copies would create more than 1000000 values"), e);
    }

    /**
     * Model test: random documents and random add/replace/remove on paths that exist, checked against the same
     * edits made directly on a deep copy with Map/List calls. Also checks order (byte-equal output), that the
     * input is untouched, and that a failing last operation leaves it untouched too.
     */
    @Test
    void randomEditsMatchTheSameEditsOnACopy() {
        for (long seed = 0; seed < 500; seed++) {
            Random r = new Random(seed);
            Object target = JsonTreeTest.randomTree(r, 4);
            String before = text(target);
            Object model = JsonTree.copy(target);
            List<Object> patch = new ArrayList<>();
            for (int n = r.nextInt(8) + 1; n > 0; n--) {
                model = randomEdit(r, model, patch);
            }
            Object p = json(text(patch)); // through the parser, as a request body would be
            Object out = JsonPatch.apply(target, p);
            assertEquals(text(model), text(out), "seed " + seed + " patch " + text(patch));
            assertEquals(before, text(target), "seed " + seed);

            patch.add(Map.of("op", "remove", "path", "/no such member/x"));
            long s = seed;
            JsonPatchException e =
                    assertThrows(JsonPatchException.class, () -> JsonPatch.apply(target, patch), () -> "seed " + s);
            assertEquals(patch.size() - 1, e.operationIndex());
            assertEquals(before, text(target), "seed " + seed);
        }
    }

    /** Makes one random edit on model (returned, as the root may be replaced) and appends it to patch. */
    @SuppressWarnings("unchecked")
    private static Object randomEdit(Random r, Object model, List<Object> patch) {
        List<List<String>> paths = new ArrayList<>();
        collect(model, new ArrayList<>(), paths);
        List<String> at = paths.get(r.nextInt(paths.size()));
        Object node = model;
        Object parent = null;
        for (String t : at) {
            parent = node;
            node = node instanceof Map<?, ?> m ? m.get(t) : ((List<?>) node).get(Integer.parseInt(t));
        }
        Object value = JsonTreeTest.randomTree(r, 2);
        Map<String, Object> op = new LinkedHashMap<>();
        int kind = r.nextInt(3);
        if (kind == 0 && (node instanceof Map || node instanceof List)) { // add into the container at `at`
            List<String> to = new ArrayList<>(at);
            if (node instanceof Map<?, ?> m) {
                String key = "k" + r.nextInt(4) + (r.nextBoolean() ? "/~" : "");
                ((Map<String, Object>) m).put(key, JsonTree.copy(value));
                to.add(key);
            } else {
                List<Object> a = (List<Object>) node;
                int i = r.nextInt(a.size() + 1);
                boolean dash = i == a.size() && r.nextBoolean();
                a.add(i, JsonTree.copy(value));
                to.add(dash ? "-" : Integer.toString(i));
            }
            op.put("op", "add");
            op.put("path", pointer(to));
            op.put("value", value);
        } else if (kind == 1 && parent != null) { // remove
            String last = at.getLast();
            if (parent instanceof Map<?, ?> m) {
                m.remove(last);
            } else {
                ((List<?>) parent).remove(Integer.parseInt(last));
            }
            op.put("op", "remove");
            op.put("path", pointer(at));
        } else { // replace, the root included
            if (parent == null) {
                model = JsonTree.copy(value);
            } else if (parent instanceof Map<?, ?> m) {
                ((Map<String, Object>) m).put(at.getLast(), JsonTree.copy(value));
            } else {
                ((List<Object>) parent).set(Integer.parseInt(at.getLast()), JsonTree.copy(value));
            }
            op.put("op", "replace");
            op.put("path", pointer(at));
            op.put("value", value);
        }
        patch.add(op);
        return model;
    }

    private static void collect(Object node, List<String> at, List<List<String>> out) {
        out.add(List.copyOf(at));
        if (node instanceof Map<?, ?> m) {
            for (Object k : m.keySet()) {
                at.add((String) k);
                collect(m.get(k), at, out);
                at.removeLast();
            }
        } else if (node instanceof List<?> a) {
            for (int i = 0; i < a.size(); i++) {
                at.add(Integer.toString(i));
                collect(a.get(i), at, out);
                at.removeLast();
            }
        }
    }

    /** RFC 6901 escaping, written out independently of JsonPointer.format. */
    private static String pointer(List<String> tokens) {
        StringBuilder s = new StringBuilder();
        for (String t : tokens) {
            s.append('/').append(t.replace("~", "~0").replace("/", "~1"));
        }
        return s.toString();
    }
}

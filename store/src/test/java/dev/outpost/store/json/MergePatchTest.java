package dev.outpost.store.json;

import static dev.outpost.store.json.JsonTreeTest.json;
import static dev.outpost.store.json.JsonTreeTest.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MergePatchTest {
    /** Applies patch to original, checks the result, and that neither input changed. */
    private static Object merges(String original, String patch, String result) {
        Object target = json(original);
        Object p = json(patch);
        String targetBefore = text(target);
        String patchBefore = text(p);
        Object out = MergePatch.apply(target, p);
        assertTrue(JsonTree.equal(json(result), out), () -> "got " + text(out));
        assertEquals(targetBefore, text(target), "target unchanged");
        assertEquals(patchBefore, text(p), "patch unchanged");
        return out;
    }

    /** Every example of RFC 7396 Appendix A, in order. */
    @ParameterizedTest(name = "{0} + {1} = {2}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"a\":\"b\"}                | {\"a\":\"c\"}                  | {\"a\":\"c\"}",
                "{\"a\":\"b\"}                | {\"b\":\"c\"}                  | {\"a\":\"b\",\"b\":\"c\"}",
                "{\"a\":\"b\"}                | {\"a\":null}                   | {}",
                "{\"a\":\"b\",\"b\":\"c\"}    | {\"a\":null}                   | {\"b\":\"c\"}",
                "{\"a\":[\"b\"]}              | {\"a\":\"c\"}                  | {\"a\":\"c\"}",
                "{\"a\":\"c\"}                | {\"a\":[\"b\"]}                | {\"a\":[\"b\"]}",
                "{\"a\":{\"b\":\"c\"}}        | {\"a\":{\"b\":\"d\",\"c\":null}} | {\"a\":{\"b\":\"d\"}}",
                "{\"a\":[{\"b\":\"c\"}]}      | {\"a\":[1]}                    | {\"a\":[1]}",
                "[\"a\",\"b\"]                | [\"c\",\"d\"]                  | [\"c\",\"d\"]",
                "{\"a\":\"b\"}                | [\"c\"]                        | [\"c\"]",
                "{\"a\":\"foo\"}              | null                           | null",
                "{\"a\":\"foo\"}              | \"bar\"                        | \"bar\"",
                "{\"e\":null}                 | {\"a\":1}                      | {\"e\":null,\"a\":1}",
                "[1,2]                        | {\"a\":\"b\",\"c\":null}       | {\"a\":\"b\"}",
                "{}                           | {\"a\":{\"bb\":{\"ccc\":null}}} | {\"a\":{\"bb\":{}}}",
            })
    void rfc7396AppendixA(String original, String patch, String result) {
        merges(original, patch, result);
    }

    /** RFC 7396 section 3's worked example. */
    @Test
    void rfc7396Section3() {
        merges("""
                {"title": "Goodbye!",
                 "author": {"givenName": "John", "familyName": "Doe"},
                 "tags": ["example", "sample"],
                 "content": "This will be unchanged"}""", """
                {"title": "Hello!",
                 "phoneNumber": "+01-123-456-7890",
                 "author": {"familyName": null},
                 "tags": ["example"]}""", """
                {"title": "Hello!",
                 "author": {"givenName": "John"},
                 "tags": ["example"],
                 "content": "This will be unchanged",
                 "phoneNumber": "+01-123-456-7890"}""");
    }

    @Test
    void keepsTargetOrderAndAppendsNewMembers() {
        Object out = merges("{\"z\":1,\"a\":2,\"m\":3}", "{\"n\":4,\"a\":5,\"z\":null}", "{\"a\":5,\"m\":3,\"n\":4}");
        assertEquals("{\"a\":5,\"m\":3,\"n\":4}", text(out));
    }

    @Test
    void resultSharesNoStructureWithTheInputs() {
        Object target = json("{\"keep\":{\"x\":[1]},\"merge\":{\"y\":1}}");
        Object patch = json("{\"merge\":{\"z\":{\"w\":[2]}},\"new\":[{}]}");
        Map<?, ?> out = (Map<?, ?>) MergePatch.apply(target, patch);
        // Mutate every container of the result; the inputs must not notice.
        ((Map<?, ?>) out.get("keep")).clear();
        ((Map<?, ?>) ((Map<?, ?>) out.get("merge")).get("z")).clear();
        ((List<?>) out.get("new")).clear();
        assertEquals("{\"keep\":{\"x\":[1]},\"merge\":{\"y\":1}}", text(target));
        assertEquals("{\"merge\":{\"z\":{\"w\":[2]}},\"new\":[{}]}", text(patch));
    }

    @Test
    void nullPatchIsTheNullSentinel() {
        assertSame(JsonTree.NULL, MergePatch.apply(json("{\"a\":1}"), JsonTree.NULL));
    }
}

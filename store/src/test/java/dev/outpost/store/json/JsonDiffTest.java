package dev.outpost.store.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** JsonDiff against JsonPatch: applying the diff of two random documents to the first gives the second. */
class JsonDiffTest {
    private static final String[] KEYS = {"a", "b", "c/d", "e~f", "", "g"};

    private static Object random(Random r, int depth) {
        int kind = depth > 3 ? r.nextInt(4) : r.nextInt(6);
        return switch (kind) {
            case 0 -> (long) r.nextInt(5);
            case 1 -> "s" + r.nextInt(3);
            case 2 -> r.nextBoolean();
            case 3 -> JsonTree.NULL;
            case 4 -> {
                List<Object> l = new ArrayList<>();
                for (int i = r.nextInt(3); i > 0; i--) {
                    l.add(random(r, depth + 1));
                }
                yield l;
            }
            default -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    m.put(KEYS[r.nextInt(KEYS.length)], random(r, depth + 1));
                }
                yield m;
            }
        };
    }

    /** A variant of {@code v}: mostly the same, some members changed, removed or added. */
    private static Object mutate(Random r, Object v, int depth) {
        if (v instanceof Map<?, ?> m && r.nextInt(5) > 0) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                int roll = r.nextInt(6);
                if (roll > 0) {
                    out.put((String) e.getKey(), roll == 1 ? random(r, depth + 1) : mutate(r, e.getValue(), depth + 1));
                }
            }
            if (r.nextInt(3) == 0) {
                out.put(KEYS[r.nextInt(KEYS.length)], random(r, depth + 1));
            }
            return out;
        }
        return r.nextInt(3) == 0 ? random(r, depth) : JsonTree.copy(v);
    }

    @Test
    void applyingTheDiffGivesTheTargetForRandomDocuments() {
        Random r = new Random(13);
        for (int i = 0; i < 20_000; i++) {
            Map<String, Object> from = new LinkedHashMap<>();
            from.put("doc", random(r, 0));
            Map<String, Object> to = new LinkedHashMap<>();
            to.put("doc", mutate(r, from.get("doc"), 0));
            List<Object> patch = JsonDiff.diff(from, to);
            assertTrue(
                    JsonTree.equal(to, JsonPatch.apply(from, patch)),
                    () -> "from " + text(from) + " to " + text(to) + " by " + text(patch));
        }
    }

    @Test
    void equalDocumentsGiveAnEmptyPatchAndAChangedMemberOneOperation() {
        Object a = parse("{\"x\":{\"y\":1,\"z\":[1,2]},\"w\":true}");
        assertEquals(List.of(), JsonDiff.diff(a, JsonTree.copy(a)));
        Object b = parse("{\"x\":{\"y\":2,\"z\":[1,2]},\"w\":true}");
        assertEquals("[{\"op\":\"replace\",\"path\":\"/x/y\",\"value\":2}]", text(JsonDiff.diff(a, b)));
    }

    private static Object parse(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return JsonTree.parse(b, 0, b.length);
    }

    private static String text(Object tree) {
        return new String(JsonTree.write(tree), StandardCharsets.UTF_8);
    }
}

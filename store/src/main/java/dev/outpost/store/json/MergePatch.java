package dev.outpost.store.json;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * RFC 7396 JSON Merge Patch over {@link JsonTree} values.
 *
 * <p>Invariants: inputs are never mutated and the result shares no map or list with them; members keep the
 * target's order and new ones follow in the patch's order. No bound is checked because none can be
 * exceeded: the result nests no deeper than the deeper input and holds no more values than both together.
 */
public final class MergePatch {
    private MergePatch() {}

    /** The RFC's MergePatch(Target, Patch), as a new tree. */
    public static Object apply(Object target, Object patch) {
        if (!(patch instanceof Map<?, ?> p)) {
            return JsonTree.copy(patch);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        if (target instanceof Map<?, ?> t) {
            for (Map.Entry<?, ?> e : t.entrySet()) {
                // Members the patch names are replaced or removed below, so copying them would be wasted.
                Object v = e.getValue();
                out.put(JsonTree.key(e.getKey()), p.containsKey(e.getKey()) ? v : JsonTree.copy(v));
            }
        }
        for (Map.Entry<?, ?> e : p.entrySet()) {
            String name = JsonTree.key(e.getKey());
            if (e.getValue() == JsonTree.NULL) {
                out.remove(name);
            } else {
                // A missing member (Java null here) is not an object, so it starts as {} like any non-object.
                out.put(name, apply(out.get(name), e.getValue()));
            }
        }
        return out;
    }
}

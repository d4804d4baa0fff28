package dev.outpost.store.json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An RFC 6902 JSON Patch that turns one {@link JsonTree} value into another: what a state watcher sends per change.
 *
 * <p>Design note. Objects are compared member by member (remove, add, or recurse into both sides); any other value
 * that differs, arrays included, is replaced whole. The patch is correct, not minimal: array edits are not searched
 * for (a longest-common-subsequence diff costs quadratic time on the agent for bytes the client saves). Invariants:
 * {@code JsonPatch.apply(from, diff(from, to))} equals {@code to}; the patch holds at most {@link
 * JsonPatch#OPERATIONS_MAX} operations (beyond, one replace of the whole document); values in it are copies.
 */
public final class JsonDiff {
    private JsonDiff() {}

    /** The operations (a list of JSON objects) turning {@code from} into {@code to}; empty if they are equal. */
    public static List<Object> diff(Object from, Object to) {
        List<Object> ops = new ArrayList<>();
        walk(from, to, new StringBuilder(), ops);
        if (ops.size() > JsonPatch.OPERATIONS_MAX) {
            ops.clear();
            ops.add(op("replace", "", to));
        }
        return ops;
    }

    private static void walk(Object from, Object to, StringBuilder path, List<Object> ops) {
        if (ops.size() > JsonPatch.OPERATIONS_MAX || JsonTree.equal(from, to)) {
            return;
        }
        if (!(from instanceof Map<?, ?> a) || !(to instanceof Map<?, ?> b)) {
            ops.add(op("replace", path.toString(), to));
            return;
        }
        int at = path.length();
        for (Object k : a.keySet()) {
            if (!b.containsKey(k)) {
                ops.add(op("remove", append(path, (String) k).toString(), null));
                path.setLength(at);
            }
        }
        for (Map.Entry<?, ?> e : b.entrySet()) {
            append(path, (String) e.getKey());
            if (!a.containsKey(e.getKey())) {
                ops.add(op("add", path.toString(), e.getValue()));
            } else {
                walk(a.get(e.getKey()), e.getValue(), path, ops);
            }
            path.setLength(at);
        }
    }

    /** {@code path} with one more RFC 6901 reference token ("~" as "~0", "/" as "~1"). */
    private static StringBuilder append(StringBuilder path, String token) {
        path.append('/');
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c == '~') {
                path.append("~0");
            } else if (c == '/') {
                path.append("~1");
            } else {
                path.append(c);
            }
        }
        return path;
    }

    private static Map<String, Object> op(String op, String path, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", op);
        m.put("path", path);
        if (!op.equals("remove")) {
            m.put("value", JsonTree.copy(value));
        }
        return m;
    }
}

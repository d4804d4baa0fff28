package dev.outpost.store.json;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * RFC 6902 JSON Patch over {@link JsonTree} values, with RFC 6901 pointers.
 *
 * <p>Invariants: the whole patch document is validated before any operation runs; operations run in order
 * on a deep copy of the target, so a failure ({@link JsonPatchException} naming the operation) leaves the
 * caller's tree untouched, and the result shares no map or list with the target or the patch. Bounds: at
 * most {@link #OPERATIONS_MAX} operations, no value placed deeper than {@link JsonTree#NESTING_DEPTH_MAX}
 * (so every result can be written and parsed back), and at most {@link #COPIED_VALUES_MAX} values created
 * by "copy", which could otherwise double the document with each operation.
 *
 * <p>Choices the RFC leaves open: removing the whole document ({@code ""}) is an error; a move onto its own
 * location changes nothing (but "from" must exist); members the RFC does not define are ignored (A.11).
 */
public final class JsonPatch {
    /** Most operations in one patch. */
    public static final int OPERATIONS_MAX = 1_000;

    /** Most values that "copy" operations may create in one patch. */
    public static final long COPIED_VALUES_MAX = 1_000_000;

    private enum Op {
        ADD,
        REMOVE,
        REPLACE,
        MOVE,
        COPY,
        TEST;

        final String label = name().toLowerCase(Locale.ROOT);
    }

    /** A validated operation; value is a private copy of the patch's (or null when the op has none). */
    private record Operation(int index, Op op, String path, List<String> to, List<String> from, Object value) {}

    /** Why an operation failed; JsonPatch.apply adds which operation it was. */
    private static final class Failure extends RuntimeException {
        Failure(String reason) {
            super(reason, null, false, false); // control flow only: no stack trace needed
        }
    }

    private JsonPatch() {}

    /** The target with every operation of {@code patch} (a JSON array) applied, as a new tree. */
    public static Object apply(Object target, Object patch) {
        List<Operation> ops = validate(patch);
        Object doc = JsonTree.copy(target);
        long copied = 0;
        for (Operation o : ops) {
            try {
                doc = switch (o.op) {
                    case ADD -> add(doc, o.to, o.value);
                    case REMOVE -> {
                        remove(doc, o.to, "path");
                        yield doc;
                    }
                    case REPLACE -> replace(doc, o.to, o.value);
                    case MOVE -> move(doc, o.from, o.to);
                    case COPY -> {
                        Object v = get(doc, o.from, "from");
                        copied += JsonTree.size(v);
                        if (copied > COPIED_VALUES_MAX) {
                            throw new Failure("copies would create more than " + COPIED_VALUES_MAX + " values");
                        }
                        yield add(doc, o.to, JsonTree.copy(v));
                    }
                    case TEST -> {
                        test(get(doc, o.to, "path"), o.value);
                        yield doc;
                    }
                };
            } catch (Failure f) {
                throw new JsonPatchException(o.index, o.op.label, o.path, f.getMessage());
            }
        }
        return doc;
    }

    private static List<Operation> validate(Object patch) {
        if (!(patch instanceof List<?> list)) {
            throw JsonPatchException.malformed(
                    -1, null, null, null, "must be an array of operations, not " + JsonTree.kind(patch));
        }
        if (list.size() > OPERATIONS_MAX) {
            throw JsonPatchException.malformed(
                    -1, null, null, null, list.size() + " operations; at most " + OPERATIONS_MAX + " are allowed");
        }
        List<Operation> ops = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m)) {
                throw JsonPatchException.malformed(
                        i, null, null, null, "must be an object, not " + JsonTree.kind(list.get(i)));
            }
            Op op = op(i, m.get("op"));
            String path = string(i, op, null, m, "path");
            List<String> to = pointer(i, op, path, "path", path);
            List<String> from = null;
            if (op == Op.MOVE || op == Op.COPY) {
                from = pointer(i, op, path, "from", string(i, op, path, m, "from"));
                if (op == Op.MOVE
                        && from.size() < to.size()
                        && to.subList(0, from.size()).equals(from)) {
                    throw JsonPatchException.malformed(
                            i,
                            op.label,
                            path,
                            "from",
                            "cannot move a value into itself: \"from\" is a prefix of \"path\"");
                }
            }
            Object value = null;
            if (op == Op.ADD || op == Op.REPLACE || op == Op.TEST) {
                if (!m.containsKey("value")) {
                    throw JsonPatchException.malformed(i, op.label, path, "value", "missing \"value\"");
                }
                try {
                    // Copied once here, which also checks it, so the result shares no structure with the patch.
                    value = JsonTree.copy(m.get("value"));
                } catch (JsonTreeException e) {
                    throw JsonPatchException.malformed(i, op.label, path, "value", "value: " + e.getMessage());
                }
            }
            ops.add(new Operation(i, op, path, to, from, value));
        }
        return ops;
    }

    private static Op op(int i, Object op) {
        if (op == null) {
            throw JsonPatchException.malformed(i, null, null, "op", "missing \"op\"");
        }
        for (Op o : Op.values()) {
            if (o.label.equals(op)) {
                return o;
            }
        }
        throw JsonPatchException.malformed(
                i, null, null, "op", "unknown \"op\" " + op + "; expected add, remove, replace, move, copy or test");
    }

    private static String string(int i, Op op, String path, Map<?, ?> m, String member) {
        Object v = m.get(member);
        if (v == null) {
            throw JsonPatchException.malformed(i, op.label, path, member, "missing \"" + member + "\"");
        }
        if (!(v instanceof String s)) {
            throw JsonPatchException.malformed(
                    i, op.label, path, member, "\"" + member + "\" must be a string, not " + JsonTree.kind(v));
        }
        return s;
    }

    private static List<String> pointer(int i, Op op, String path, String member, String pointer) {
        try {
            return JsonPointer.parse(pointer);
        } catch (IllegalArgumentException e) {
            throw JsonPatchException.malformed(
                    i,
                    op.label,
                    path,
                    member,
                    "\"" + member + "\" " + pointer + " is not a JSON Pointer: " + e.getMessage());
        }
    }

    private static Object add(Object doc, List<String> to, Object value) {
        checkDepth(to, value);
        if (to.isEmpty()) {
            return value;
        }
        int last = to.size() - 1;
        Object parent = walk(doc, to, last, "path");
        String token = to.get(last);
        switch (parent) {
            case Map<?, ?> m -> object(m).put(token, value);
            case List<?> a -> {
                int k = index(token, to, last, "path");
                if (k > a.size()) {
                    throw new Failure("index " + k + " is out of bounds for the array at " + JsonPointer.where(to, last)
                            + " (size " + a.size() + ")");
                }
                array(a).add(k < 0 ? a.size() : k, value);
            }
            default ->
                throw new Failure("cannot add to " + JsonPointer.where(to, last) + ": it is a " + JsonTree.kind(parent)
                        + ", not an object or array");
        }
        return doc;
    }

    /** Removes and returns the value at {@code at}. */
    private static Object remove(Object doc, List<String> at, String role) {
        if (at.isEmpty()) {
            throw new Failure("cannot remove the whole document");
        }
        int last = at.size() - 1;
        Object parent = walk(doc, at, last, role);
        Object old = child(parent, at, last, role);
        if (parent instanceof Map<?, ?> m) {
            m.remove(at.get(last));
        } else {
            array(parent).remove(index(at.get(last), at, last, role));
        }
        return old;
    }

    private static Object replace(Object doc, List<String> to, Object value) {
        checkDepth(to, value);
        if (to.isEmpty()) {
            return value;
        }
        int last = to.size() - 1;
        Object parent = walk(doc, to, last, "path");
        child(parent, to, last, "path"); // replace needs an existing target, unlike add
        if (parent instanceof Map<?, ?> m) {
            object(m).put(to.get(last), value); // keeps the member's place in the order
        } else {
            array(parent).set(index(to.get(last), to, last, "path"), value);
        }
        return doc;
    }

    private static Object move(Object doc, List<String> from, List<String> to) {
        if (from.equals(to)) {
            get(doc, from, "from");
            return doc;
        }
        // RFC 6902 4.4: remove, then add to the document as it is after the removal.
        return add(doc, to, remove(doc, from, "from"));
    }

    private static void test(Object actual, Object expected) {
        if (JsonTree.equal(actual, expected)) {
            return;
        }
        String found = JsonTree.kind(actual);
        String wanted = JsonTree.kind(expected);
        // Kinds only, not values: values can be large or sensitive, and messages end up in logs.
        throw new Failure(
                found.equals(wanted)
                        ? "the " + found + " differs from the expected value"
                        : "found a " + found + ", expected a " + wanted);
    }

    private static Object get(Object doc, List<String> at, String role) {
        return walk(doc, at, at.size(), role);
    }

    /** The value at the first {@code n} tokens of {@code at}; fails unless it exists. */
    private static Object walk(Object doc, List<String> at, int n, String role) {
        Object node = doc;
        for (int i = 0; i < n; i++) {
            node = child(node, at, i, role);
        }
        return node;
    }

    /** The child of {@code node} named by token {@code i} of {@code at}; fails unless it exists. */
    private static Object child(Object node, List<String> at, int i, String role) {
        String token = at.get(i);
        String where = JsonPointer.where(at, i);
        switch (node) {
            case Map<?, ?> m -> {
                Object v = m.get(token);
                if (v == null) {
                    throw new Failure(role + " does not exist: no member \"" + token + "\" in " + where);
                }
                return v;
            }
            case List<?> a -> {
                int k = index(token, at, i, role);
                if (k < 0) {
                    throw new Failure(role + " does not exist: \"-\" is past the end of the array at " + where);
                }
                if (k >= a.size()) {
                    throw new Failure(role + " does not exist: index " + k + " is out of range for the array at "
                            + where + " (size " + a.size() + ")");
                }
                return a.get(k);
            }
            default -> {
                throw new Failure(role + " does not exist: " + where + " is a " + JsonTree.kind(node)
                        + ", not an object or array");
            }
        }
    }

    /** The array index named by a token, -1 for "-"; huge indices saturate so bound checks reject them. */
    private static int index(String token, List<String> at, int i, String role) {
        if (token.equals("-")) {
            return -1;
        }
        // RFC 6901: "0" or digits without a leading zero; no sign, no spaces.
        boolean valid = !token.isEmpty() && (token.equals("0") || token.charAt(0) != '0');
        for (int c = 0; valid && c < token.length(); c++) {
            valid = token.charAt(c) >= '0' && token.charAt(c) <= '9';
        }
        if (!valid) {
            throw new Failure(role + " does not exist: \"" + token + "\" is not an index for the array at "
                    + JsonPointer.where(at, i));
        }
        return token.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(token);
    }

    private static void checkDepth(List<String> to, Object value) {
        if (to.size() + JsonTree.depth(value) > JsonTree.NESTING_DEPTH_MAX) {
            throw new Failure("the result would nest deeper than " + JsonTree.NESTING_DEPTH_MAX + " levels");
        }
    }

    @SuppressWarnings("unchecked") // documents are JsonTree.copy's LinkedHashMap<String, Object>
    private static Map<String, Object> object(Object m) {
        return (Map<String, Object>) m;
    }

    @SuppressWarnings("unchecked") // documents are JsonTree.copy's ArrayList<Object>
    private static List<Object> array(Object a) {
        return (List<Object>) a;
    }
}

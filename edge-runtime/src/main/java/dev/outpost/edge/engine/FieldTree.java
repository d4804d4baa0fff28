package dev.outpost.edge.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The field paths a stream's rules read, as a tree of member names from the event object down, each path ending in a
 * slot of {@link EventFields}. {@link EventReader} walks it over an event's bytes.
 *
 * <p>Design note. Reading follows the tree: a member no path names is skipped whole (checked, nothing decoded), and
 * only paths' own values are decoded, so the cost of an event is one pass over its bytes plus the fields the rules
 * use. Member names are kept as their UTF-8 bytes too, so an event's name is matched in place, without decoding it
 * (only a name written with escapes is decoded first). Invariants: one slot per distinct path (rules of a stream share
 * them); the reader's recursion is bounded by {@link FieldPath#PATH_TOKENS_MAX}, since only nodes with children are
 * descended into; a member given twice counts as its last value (stored events without a schema are not checked for
 * duplicates).
 */
final class FieldTree {
    /** Members a node finds by a scan; beyond, by a hash table over the names' bytes. */
    private static final int SCAN_MEMBERS_MAX = 16;

    /** Eight bytes at a time, for comparing names. */
    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** A path's step. Members are few (the fields rules name), so they are mostly found by a scan. */
    static final class Node {
        int slot = -1;
        boolean keepText;
        String[] names = new String[0];
        /** The names in UTF-8; null for a name that is not well-formed UTF-16 (no event's raw bytes can match it). */
        byte[][] utf8 = new byte[0][];
        /** The UTF-8 names an event can only write as they are, or null: non-empty, no quote, backslash or control. */
        byte[][] raw = new byte[0][];

        Node[] members = new Node[0];
        Node[] indexes;

        /** Beyond {@link #SCAN_MEMBERS_MAX} members, open addressing over the names' bytes: member index + 1. */
        int[] table;

        /**
         * The index of the member whose name, as written in an event without escapes, starts at {@code b[p]} and is
         * followed by the closing quote; or -1 (then the name is another, or written with escapes, or this node has
         * too many members for a scan). A name matched this way needs no other check: its bytes are the node's own,
         * which hold no quote, backslash or control character ({@link #raw}) and are well-formed UTF-8.
         */
        int matchAt(byte[] b, int p, int end) {
            if (table != null || p >= end) {
                return -1;
            }
            byte first = b[p];
            for (int i = 0; i < raw.length; i++) {
                byte[] name = raw[i];
                int n = name == null ? -1 : name.length;
                if (n > 0 && name[0] == first && p + n < end && b[p + n] == '"' && sameBytes(name, b, p)) {
                    return i;
                }
            }
            return -1;
        }

        /** The member whose name is, in UTF-8, {@code b[off, off + len)}, or null. */
        Node member(byte[] b, int off, int len) {
            if (table != null) {
                int mask = table.length - 1;
                for (int i = hash(b, off, len) & mask; table[i] != 0; i = (i + 1) & mask) {
                    byte[] name = utf8[table[i] - 1];
                    if (name != null && Arrays.equals(name, 0, name.length, b, off, off + len)) {
                        return members[table[i] - 1];
                    }
                }
                return null;
            }
            for (int i = 0; i < utf8.length; i++) {
                byte[] name = utf8[i];
                if (name != null && name.length == len && sameBytes(name, b, off)) {
                    return members[i];
                }
            }
            return null;
        }

        private static boolean sameBytes(byte[] name, byte[] b, int off) {
            int i = 0;
            for (; i + 8 <= name.length; i += 8) {
                if ((long) WORDS.get(name, i) != (long) WORDS.get(b, off + i)) {
                    return false;
                }
            }
            for (; i < name.length; i++) {
                if (name[i] != b[off + i]) {
                    return false;
                }
            }
            return true;
        }

        /** The member named by {@code c[0, len)} (a name the event wrote with escapes), or null. */
        Node member(char[] c, int len) {
            if (len > c.length) {
                return null; // longer than any path's name (the reader keeps more chars than those)
            }
            search:
            for (int i = 0; i < names.length; i++) {
                String name = names[i];
                if (name.length() != len) {
                    continue;
                }
                for (int j = 0; j < len; j++) {
                    if (name.charAt(j) != c[j]) {
                        continue search;
                    }
                }
                return members[i];
            }
            return null;
        }

        /** A deep copy: the same names, slots and flags, its own nodes. */
        Node copy() {
            Node c = new Node();
            c.slot = slot;
            c.keepText = keepText;
            c.names = names.clone();
            c.utf8 = utf8.clone();
            c.raw = raw.clone();
            c.table = table == null ? null : table.clone();
            c.members = new Node[members.length];
            for (int i = 0; i < members.length; i++) {
                c.members[i] = members[i].copy();
            }
            if (indexes != null) {
                c.indexes = new Node[indexes.length];
                for (int i = 0; i < indexes.length; i++) {
                    c.indexes[i] = indexes[i] == null ? null : c.members[indexOf(indexes[i])];
                }
            }
            return c;
        }

        private int indexOf(Node member) {
            for (int i = 0; i < members.length; i++) {
                if (members[i] == member) {
                    return i;
                }
            }
            throw new IllegalStateException("an index node is always a member");
        }

        Node member(String name) {
            for (int i = 0; i < names.length; i++) {
                if (names[i].equals(name)) {
                    return members[i];
                }
            }
            return null;
        }

        Node add(String name) {
            int n = names.length;
            names = Arrays.copyOf(names, n + 1);
            utf8 = Arrays.copyOf(utf8, n + 1);
            members = Arrays.copyOf(members, n + 1);
            names[n] = name;
            utf8[n] = wellFormed(name) ? name.getBytes(StandardCharsets.UTF_8) : null;
            raw = Arrays.copyOf(raw, n + 1);
            raw[n] = utf8[n] != null && writtenAsIs(utf8[n]) ? utf8[n] : null;
            members[n] = new Node();
            if (n + 1 > SCAN_MEMBERS_MAX) {
                table = new int[Integer.highestOneBit((n + 1) * 2) * 2];
                int mask = table.length - 1;
                for (int m = 0; m <= n; m++) {
                    if (utf8[m] != null) {
                        int i = hash(utf8[m], 0, utf8[m].length) & mask;
                        while (table[i] != 0) {
                            i = (i + 1) & mask;
                        }
                        table[i] = m + 1;
                    }
                }
            }
            return members[n];
        }

        private static int hash(byte[] b, int off, int len) {
            int h = 0;
            for (int i = off; i < off + len; i++) {
                h = 31 * h + b[i];
            }
            return h ^ (h >>> 16);
        }

        private static boolean writtenAsIs(byte[] name) {
            for (byte c : name) {
                if (c == '"' || c == '\\' || c >= 0 && c < 0x20) {
                    return false;
                }
            }
            return name.length > 0;
        }

        private static boolean wellFormed(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else if (Character.isSurrogate(c)) {
                    return false;
                }
            }
            return true;
        }
    }

    private final Node root;
    private int slots;

    FieldTree() {
        this(new Node(), 0);
    }

    private FieldTree(Node root, int slots) {
        this.root = root;
        this.slots = slots;
    }

    /** A copy to add paths to without changing this tree (which rules and their evaluators share). */
    FieldTree copy() {
        return new FieldTree(root.copy(), slots);
    }

    /** The slot of a path, added if new; {@code keepText} also keeps a number's JSON text (for group keys). */
    int slot(FieldPath path, boolean keepText) {
        Node n = root;
        for (String token : path.tokens()) {
            Node next = n.member(token);
            if (next == null) {
                next = n.add(token);
                int index = FieldPath.index(token);
                if (index >= 0) {
                    if (n.indexes == null || n.indexes.length <= index) {
                        Node[] grown = new Node[index + 1];
                        if (n.indexes != null) {
                            System.arraycopy(n.indexes, 0, grown, 0, n.indexes.length);
                        }
                        n.indexes = grown;
                    }
                    n.indexes[index] = next;
                }
            }
            n = next;
        }
        if (n.slot < 0) {
            n.slot = slots++;
        }
        n.keepText |= keepText;
        return n.slot;
    }

    Node root() {
        return root;
    }

    /** Slots in use. */
    int slots() {
        return slots;
    }
}

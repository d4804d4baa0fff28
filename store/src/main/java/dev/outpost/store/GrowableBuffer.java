package dev.outpost.store;

import java.util.Arrays;

/** A reusable little-endian byte buffer for encoding records. Not thread-safe. */
final class GrowableBuffer {
    private byte[] array;
    private int position;

    GrowableBuffer(int initialBytes) {
        array = new byte[initialBytes];
    }

    void reset(int capacityNeeded) {
        if (array.length < capacityNeeded) {
            array = Arrays.copyOf(array, Math.max(capacityNeeded, array.length * 2));
        }
        position = 0;
    }

    /** Makes room for {@code more} bytes after the position, keeping the content. */
    void ensure(int more) {
        if (position + more > array.length) {
            array = Arrays.copyOf(array, Math.max(position + more, array.length * 2));
        }
    }

    /** Moves the position forward by {@code n} bytes, reserving them. */
    void skip(int n) {
        ensure(n);
        position += n;
    }

    byte[] array() {
        return array;
    }

    int position() {
        return position;
    }

    void put(byte v) {
        array[position++] = v;
    }

    void put(byte[] v) {
        put(v, 0, v.length);
    }

    void put(byte[] v, int offset, int length) {
        System.arraycopy(v, offset, array, position, length);
        position += length;
    }

    /** Writes {@code s} as UTF-8 (it is ASCII: one byte a character) if it is ASCII; else returns false, writing nothing. */
    boolean putAscii(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                return false; // the bytes written so far lie beyond the position: nothing was written
            }
            array[position + i] = (byte) c;
        }
        position += n;
        return true;
    }

    void putShort(int v) {
        array[position++] = (byte) v;
        array[position++] = (byte) (v >>> 8);
    }

    void putInt(int v) {
        array[position++] = (byte) v;
        array[position++] = (byte) (v >>> 8);
        array[position++] = (byte) (v >>> 16);
        array[position++] = (byte) (v >>> 24);
    }

    void putLong(long v) {
        putInt((int) v);
        putInt((int) (v >>> 32));
    }
}

package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import dev.outpost.edge.ingest.LoopBufferRecyclers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.util.concurrent.FastThreadLocal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** JSON response bodies, written with jackson-core's generator: never assembled by string concatenation. */
final class Json {
    /** Thread-safe; generators are not, so each body gets its own. */
    static final JsonFactory FACTORY =
            JsonFactory.builder().recyclerPool(LoopBufferRecyclers.POOL).build();

    private Json() {}

    /** What a body holds, written on a fresh generator. */
    @FunctionalInterface
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    /** The body as a string. */
    static String write(Body body) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    /** The body as UTF-8 bytes, written by the byte-oriented generator: for hot responses, with no String between. */
    static byte[] writeUtf8(Body body) {
        Scratch out = SCRATCH.get();
        if (out.inUse) { // a body written while another is (not done today): an array of its own
            ByteArrayOutputStream own = new ByteArrayOutputStream(256);
            write(own, body);
            return own.toByteArray();
        }
        out.inUse = true;
        try {
            out.count = 0;
            write(out, body);
            return Arrays.copyOf(out.bytes, out.count);
        } finally {
            out.inUse = false;
        }
    }

    private static void write(OutputStream out, Body body) {
        try (JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // an in-memory stream does not fail
        }
    }

    /**
     * Where {@link #writeUtf8(Body)} writes before the body is copied out at its exact size: one per thread, reused,
     * so an answer costs one array of its own length (every acknowledged ingest is answered through here).
     */
    private static final FastThreadLocal<Scratch> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected Scratch initialValue() {
            return new Scratch();
        }
    };

    /** A growable in-memory stream that can be reset (ByteArrayOutputStream's methods are synchronized). */
    private static final class Scratch extends OutputStream {
        byte[] bytes = new byte[512];
        int count;
        boolean inUse;

        @Override
        public void write(int b) {
            room(1);
            bytes[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            room(len);
            System.arraycopy(b, off, bytes, count, len);
            count += len;
        }

        private void room(int n) {
            if (count + n > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(count + n, 2 * bytes.length));
            }
        }
    }

    /** The body written as UTF-8 into {@code out} (a pooled buffer the caller owns), with no copy between. */
    static void writeUtf8(ByteBuf out, Body body) {
        try (JsonGenerator g =
                FACTORY.createGenerator((OutputStream) new ByteBufOutputStream(out), JsonEncoding.UTF8)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteBuf grows; it does not fail
        }
    }

    /**
     * Stored JSON (already checked when it was stored) written as it is with {@code writeRawValue}: the UTF-8
     * generator copies the bytes; the character one decodes them once.
     */
    static final class RawUtf8 implements SerializableString {
        private final byte[] utf8;

        RawUtf8(byte[] utf8) {
            this.utf8 = utf8;
        }

        @Override
        public String getValue() {
            return new String(utf8, StandardCharsets.UTF_8);
        }

        @Override
        public int charLength() {
            return getValue().length();
        }

        @Override
        public byte[] asUnquotedUTF8() {
            return utf8;
        }

        @Override
        public int appendUnquotedUTF8(byte[] buffer, int offset) {
            if (offset + utf8.length > buffer.length) {
                return -1;
            }
            System.arraycopy(utf8, 0, buffer, offset, utf8.length);
            return utf8.length;
        }

        @Override
        public int appendUnquoted(char[] buffer, int offset) {
            String value = getValue();
            if (offset + value.length() > buffer.length) {
                return -1;
            }
            value.getChars(0, value.length(), buffer, offset);
            return value.length();
        }

        @Override
        public int writeUnquotedUTF8(OutputStream out) throws IOException {
            out.write(utf8);
            return utf8.length;
        }

        @Override
        public int putUnquotedUTF8(ByteBuffer buffer) {
            if (buffer.remaining() < utf8.length) {
                return -1;
            }
            buffer.put(utf8);
            return utf8.length;
        }

        // A raw value is never quoted: the generator writes it with the unquoted forms above.

        @Override
        public char[] asQuotedChars() {
            throw new UnsupportedOperationException("a raw JSON value is not quoted");
        }

        @Override
        public byte[] asQuotedUTF8() {
            throw new UnsupportedOperationException("a raw JSON value is not quoted");
        }

        @Override
        public int appendQuotedUTF8(byte[] buffer, int offset) {
            throw new UnsupportedOperationException("a raw JSON value is not quoted");
        }

        @Override
        public int appendQuoted(char[] buffer, int offset) {
            throw new UnsupportedOperationException("a raw JSON value is not quoted");
        }

        @Override
        public int writeQuotedUTF8(OutputStream out) {
            throw new UnsupportedOperationException("a raw JSON value is not quoted");
        }

        @Override
        public int putQuotedUTF8(ByteBuffer buffer) {
            throw new UnsupportedOperationException("a raw JSON value is not quoted");
        }
    }
}

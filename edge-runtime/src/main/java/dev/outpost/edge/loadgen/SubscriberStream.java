package dev.outpost.edge.loadgen;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * One subscriber's connection as the load generator reads it: large reads into its own buffer, the transport's framing
 * (HTTP/1.1 chunks for SSE, unmasked server frames for WebSocket) walked in place, and each event's {@code
 * ingest_time} found with a word-at-a-time scan, its latency recorded in this subscriber's own histogram (merged at
 * the end: no lock per event).
 *
 * <p>Design note. The first version read through a BufferedInputStream byte by byte, copied each chunk into a new
 * array, compared every byte against the field name and recorded into one synchronized histogram: at 2,000 subscribers
 * each receiving 2,000 events a second (~1.3 GB/s) that made the generator a bottleneck of its own. Here a chunk or
 * frame is scanned where it lies for the start of each event ({@code {"seq":}, found 8 bytes at a time), whose {@code
 * ingest_time} follows right after; the buffer grows only for a chunk or frame larger than it. Not thread-safe: one per
 * subscriber thread.
 */
final class SubscriberStream {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long BRACES = '{' * ONES;
    private static final byte[] SEQ = "\"seq\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] INGEST_TIME = ",\"ingest_time\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final InputStream in;
    private final Supplier<Worker.Shared> window;
    private final int skipBytes;
    final LatencyHistogram latency = new LatencyHistogram();
    volatile long events; // one writer: this stream's reader thread
    private byte[] buf = new byte[32 * 1024];
    private int pos;
    private int lim;

    /** {@code window}: the run whose measured window counts (it may change once the workers start). */
    SubscriberStream(InputStream in, Supplier<Worker.Shared> window, int eventBytesMin) {
        this.in = in;
        this.window = window;
        // What follows an event's ingest_time holds at least its stored body after its opening brace: no event starts
        // there, so the scan need not look at those bytes (most of each event).
        this.skipBytes = Math.max(0, eventBytesMin - 1);
    }

    /** A line of the response head, without its line break; IOException at the end of the stream. */
    String line() throws IOException {
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos == lim && !fill(1)) {
                throw new IOException("connection closed");
            }
            byte c = buf[pos++];
            if (c == '\n') {
                return b.toString();
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
    }

    /** HTTP/1.1 chunked body (size line, bytes, CRLF) until its end or {@code stop}. */
    void chunks() throws IOException {
        while (!window.get().stop) {
            int size = Integer.parseInt(line().strip(), 16);
            if (size == 0 || !fill(size + 2)) {
                return;
            }
            scan(pos, pos + size);
            pos += size + 2;
        }
    }

    /** WebSocket frames from the server (never masked): text frames and their continuations carry the events. */
    void frames() throws IOException {
        while (!window.get().stop) {
            if (!fill(2)) {
                return;
            }
            int b0 = buf[pos] & 0xff;
            int len = buf[pos + 1] & 0x7f;
            int head = len == 126 ? 4 : len == 127 ? 10 : 2;
            if (!fill(head)) {
                return;
            }
            long size = head == 2 ? len : 0;
            for (int k = 2; k < head; k++) {
                size = (size << 8) | (buf[pos + k] & 0xff);
            }
            if (size > Integer.MAX_VALUE - 16 || !fill(head + (int) size)) {
                return;
            }
            int opcode = b0 & 0x0f;
            if (opcode == 8) {
                return;
            }
            if (opcode == 1 || opcode == 0) {
                scan(pos + head, pos + head + (int) size);
            }
            pos += head + (int) size;
        }
    }

    /** True once at least {@code n} bytes are buffered from {@code pos} (growing the buffer if need be); false at EOF. */
    private boolean fill(int n) throws IOException {
        if (lim - pos >= n) {
            return true;
        }
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            lim -= pos;
            pos = 0;
        }
        if (n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(n, buf.length * 2));
        }
        while (lim < n) {
            int r = in.read(buf, lim, buf.length - lim);
            if (r < 0) {
                return false;
            }
            lim += r;
        }
        return true;
    }

    /** Records the latency of every event in {@code [from, to)} (each starts with {"seq":N,"ingest_time":MS). */
    private void scan(int from, int to) {
        long now = System.currentTimeMillis();
        Worker.Shared w = window.get();
        for (int i = brace(from, to); i >= 0; i = brace(i + 1, to)) {
            int d = after(i + 1, to, SEQ);
            if (d < 0) {
                continue;
            }
            while (d < to && buf[d] >= '0' && buf[d] <= '9') {
                d++;
            }
            d = after(d, to, INGEST_TIME);
            if (d < 0) {
                continue;
            }
            long ms = 0;
            while (d < to && buf[d] >= '0' && buf[d] <= '9') {
                ms = ms * 10 + (buf[d++] - '0');
            }
            // Counted by when the agent appended it, not when it arrived: an event of the window delivered late
            // still counts (with its latency), one appended after the window does not.
            if (ms >= w.measureStartMillis && ms < w.measureEndMillis) {
                events++;
                latency.record(Math.max(LatencyHistogram.MIN_NANOS, (now - ms) * 1_000_000));
            }
            i = d - 1 + skipBytes;
        }
    }

    /** Where {@code word} ends if it starts at {@code i} (within {@code to}), else -1. */
    private int after(int i, int to, byte[] word) {
        if (to - i < word.length) {
            return -1;
        }
        for (int k = 0; k < word.length; k++) {
            if (buf[i + k] != word[k]) {
                return -1;
            }
        }
        return i + word.length;
    }

    /** The index of the next '{' in {@code [from, to)}, or -1: eight bytes at a time (SWAR zero-byte test). */
    private int brace(int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long x = (long) LONGS.get(buf, i) ^ BRACES;
            long found = (x - ONES) & ~x & HIGHS;
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (buf[i] == '{') {
                return i;
            }
        }
        return -1;
    }
}

package dev.outpost.edge.loadgen;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
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
 * ingest_time} follows right after; the buffer grows only for a chunk or frame larger than it. The response head is
 * read with the channel blocking ({@link #line}); after it the channel is non-blocking and a selector thread calls
 * {@link #readable} when bytes arrived, which reads what is there and takes every complete chunk or frame (a blocking
 * read per subscriber on a virtual thread cost a poller registration and two thread switches per wake-up, which
 * doubled the generator's CPU when the agent sent smaller bursts). Not thread-safe: one thread at a time.
 */
final class SubscriberStream {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long BRACES = '{' * ONES;
    private static final byte[] SEQ = "\"seq\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] INGEST_TIME = ",\"ingest_time\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** {@link #chunk}, {@link #frame}: the bytes from {@code pos} are not a whole chunk or frame yet. */
    private static final int PARTIAL = 0;
    /** {@link #chunk}, {@link #frame}: one chunk or frame taken. */
    private static final int TAKEN = 1;
    /** {@link #chunk}, {@link #frame}: the stream ended (last chunk, close frame). */
    private static final int ENDED = 2;
    /** Reads per {@link #readable} call at most, so one busy subscriber does not hold its selector thread. */
    private static final int READS_PER_TURN_MAX = 4;

    private final ReadableByteChannel in;
    private final boolean ws;
    private final Supplier<Worker.Shared> window;
    private final int skipBytes;
    final LatencyHistogram latency = new LatencyHistogram();
    volatile long events; // one writer: the thread reading this stream
    private byte[] buf = new byte[32 * 1024];
    private ByteBuffer view = ByteBuffer.wrap(buf);
    private int pos;
    private int lim;

    /**
     * {@code ws}: WebSocket frames, else SSE in HTTP/1.1 chunks; {@code window}: the run whose measured window counts
     * (it may change once the workers start).
     */
    SubscriberStream(ReadableByteChannel in, boolean ws, Supplier<Worker.Shared> window, int eventBytesMin) {
        this.in = in;
        this.ws = ws;
        this.window = window;
        // What follows an event's ingest_time holds at least its stored body after its opening brace: no event starts
        // there, so the scan need not look at those bytes (most of each event).
        this.skipBytes = Math.max(0, eventBytesMin - 1);
    }

    /** A line of the response head, without its line break (channel blocking); IOException at the end of the stream. */
    String line() throws IOException {
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos == lim && read() < 0) {
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

    /**
     * Reads what has arrived (channel non-blocking) and takes every complete chunk or frame; false once the stream
     * ended (the agent closed it, or sent its last chunk or a close frame).
     */
    boolean readable() throws IOException {
        for (int k = 0; k < READS_PER_TURN_MAX; k++) {
            int r = read();
            if (!takeAll()) {
                return false;
            }
            if (r < 0) {
                return false;
            }
            if (r == 0) {
                return true;
            }
        }
        return true; // more may be waiting: the selector reports it again, after the other subscribers' turns
    }

    /** Takes the complete chunks or frames buffered; false once the stream ended. */
    boolean takeAll() {
        while (!window.get().stop) {
            int u = ws ? frame() : chunk();
            if (u == ENDED) {
                return false;
            }
            if (u == PARTIAL) {
                return true;
            }
        }
        return false;
    }

    /** One read into the buffer's free space (compacting first, growing when full): bytes read, 0, or -1 at EOF. */
    private int read() throws IOException {
        if (pos > 0 && (pos == lim || lim == buf.length)) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            lim -= pos;
            pos = 0;
        }
        if (lim == buf.length) {
            grow(buf.length * 2);
        }
        view.limit(buf.length).position(lim);
        int r = in.read(view);
        if (r > 0) {
            lim += r;
        }
        return r;
    }

    private void grow(int n) {
        buf = Arrays.copyOf(buf, n);
        view = ByteBuffer.wrap(buf);
    }

    /** PARTIAL unless {@code n} bytes from {@code pos} are buffered (making room for them when the buffer is short). */
    private boolean has(long n) {
        if (lim - pos >= n) {
            return true;
        }
        if (n > buf.length) {
            grow((int) Math.min(Integer.MAX_VALUE - 16, Math.max(n, buf.length * 2L)));
        }
        return false;
    }

    /** One HTTP/1.1 chunk (size line, bytes, CRLF). */
    private int chunk() {
        int nl = -1;
        for (int i = pos; i < lim; i++) {
            if (buf[i] == '\n') {
                nl = i;
                break;
            }
        }
        if (nl < 0) {
            has(lim - pos + 1L);
            return PARTIAL;
        }
        long size = 0;
        for (int i = pos; i < nl && Character.digit(buf[i], 16) >= 0; i++) {
            size = (size << 4) | Character.digit(buf[i], 16);
        }
        if (size == 0) {
            return ENDED;
        }
        long total = nl + 1 - pos + size + 2;
        if (total > Integer.MAX_VALUE - 16) {
            return ENDED;
        }
        if (!has(total)) {
            return PARTIAL;
        }
        scan(nl + 1, nl + 1 + (int) size);
        pos += (int) total;
        return TAKEN;
    }

    /** One WebSocket frame from the server (never masked): text frames and their continuations carry the events. */
    private int frame() {
        if (!has(2)) {
            return PARTIAL;
        }
        int b0 = buf[pos] & 0xff;
        int len = buf[pos + 1] & 0x7f;
        int head = len == 126 ? 4 : len == 127 ? 10 : 2;
        if (!has(head)) {
            return PARTIAL;
        }
        long size = head == 2 ? len : 0;
        for (int k = 2; k < head; k++) {
            size = (size << 8) | (buf[pos + k] & 0xff);
        }
        if (size > Integer.MAX_VALUE - 32) {
            return ENDED;
        }
        if (!has(head + size)) {
            return PARTIAL;
        }
        int opcode = b0 & 0x0f;
        if (opcode == 8) {
            return ENDED;
        }
        if (opcode == 1 || opcode == 0) {
            scan(pos + head, pos + head + (int) size);
        }
        pos += head + (int) size;
        return TAKEN;
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

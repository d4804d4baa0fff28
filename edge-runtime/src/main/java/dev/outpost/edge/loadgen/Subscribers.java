package dev.outpost.edge.loadgen;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live subscribers beside the load ({@code --sse-subscribers}, {@code --ws-subscribers}): each tails {@code --stream}
 * over its own connection (GET /v1/events/tail, or GET /v1/ws with one subscription) and measures every event it gets
 * from the agent's append (the event's {@code ingest_time}, on the same clock) to its receipt, in the measured window.
 *
 * <p>Design note. One virtual thread per subscriber, blocking socket reads: thousands of idle-most-of-the-time readers
 * cost a stack chunk each, not a platform thread. The parsers are minimal and exact for what the agent sends: HTTP/1.1
 * chunked framing for SSE, unmasked server frames for WebSocket (client frames are masked, RFC 6455 §5.3). Plain
 * http:// only. Latency has the millisecond resolution of ingest_time.
 */
final class Subscribers {
    private static final byte[] INGEST_TIME = "\"ingest_time\":".getBytes(StandardCharsets.US_ASCII);

    private volatile Worker.Shared shared;
    private final HttpConnection.Target target;
    private final String host;
    private final List<Thread> threads = new ArrayList<>();
    private final List<Socket> sockets = java.util.Collections.synchronizedList(new ArrayList<>());
    private final LatencyHistogram latency = new LatencyHistogram();
    private final LongAdder events = new LongAdder();
    private final AtomicInteger connected = new AtomicInteger();
    private final LongAdder errors = new LongAdder();
    private final int sse;
    private final int ws;

    private Subscribers(Worker.Shared shared, HttpConnection.Target target, String host, int sse, int ws) {
        this.shared = shared;
        this.target = target;
        this.host = host;
        this.sse = sse;
        this.ws = ws;
    }

    /** Starts the subscribers and waits (bounded) until each has its stream open. */
    static Subscribers start(Options o, HttpConnection.Target target, Worker.Shared shared) {
        Subscribers s = new Subscribers(shared, target, o.hostHeader(), o.sseSubscribers(), o.wsSubscribers());
        for (int i = 0; i < s.sse + s.ws; i++) {
            boolean isWs = i >= s.sse;
            s.threads.add(Thread.ofVirtual().name("subscriber-" + i).start(() -> s.follow(o.stream(), isWs)));
        }
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (s.connected.get() + s.errors.intValue() < s.sse + s.ws && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        }
        return s;
    }

    private void follow(String stream, boolean isWs) {
        try (Socket socket = new Socket()) {
            sockets.add(socket);
            socket.connect(target.address(), 10_000);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            if (isWs) {
                out.write(("GET /v1/ws HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                + "Sec-WebSocket-Key: bG9hZGdlbi1zdWJzY3JpYmU=\r\nSec-WebSocket-Version: 13\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                expectHead(in, "101");
                out.write(maskedText(("{\"op\":\"subscribe\",\"id\":\"s\",\"events\":{\"stream\":\"" + stream + "\"}}")
                        .getBytes(StandardCharsets.UTF_8)));
                connected.incrementAndGet();
                readFrames(in);
            } else {
                out.write(("GET /v1/events/tail?stream=" + stream + " HTTP/1.1\r\nHost: " + host
                                + "\r\nAccept: text/event-stream\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                expectHead(in, "200");
                connected.incrementAndGet();
                readChunks(in);
            }
        } catch (IOException e) {
            if (!shared.stop) {
                errors.increment();
                shared.errorKind("subscriber: " + e.getClass().getSimpleName());
            }
        }
    }

    private static void expectHead(InputStream in, String status) throws IOException {
        String line = readLine(in);
        if (!line.startsWith("HTTP/1.1 " + status)) {
            throw new IOException("subscription refused: " + line);
        }
        while (!readLine(in).isEmpty()) {
            // headers: not needed
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    /** HTTP/1.1 chunked body: size line, bytes, CRLF. */
    private void readChunks(InputStream in) throws IOException {
        while (!shared.stop) {
            int size = Integer.parseInt(readLine(in).strip(), 16);
            if (size == 0) {
                return;
            }
            scan(in.readNBytes(size));
            readLine(in);
        }
    }

    /** WebSocket frames from the server (never masked): text frames carry the events. */
    private void readFrames(InputStream in) throws IOException {
        while (!shared.stop) {
            int b0 = in.read();
            int b1 = in.read();
            if (b0 < 0 || b1 < 0) {
                return;
            }
            long len = b1 & 0x7f;
            if (len == 126) {
                len = (in.read() << 8) | in.read();
            } else if (len == 127) {
                len = 0;
                for (int i = 0; i < 8; i++) {
                    len = (len << 8) | in.read();
                }
            }
            byte[] payload = in.readNBytes((int) len);
            int opcode = b0 & 0x0f;
            if (opcode == 8) {
                return;
            }
            if (opcode == 1 || opcode == 0) {
                scan(payload);
            }
        }
    }

    /** Records the latency of every event in {@code bytes} (each has one ingest_time). */
    private void scan(byte[] bytes) {
        long now = System.currentTimeMillis();
        long t = System.nanoTime();
        boolean measured = t >= shared.measureStart && t < shared.measureEnd;
        for (int i = indexOf(bytes, 0); i >= 0; i = indexOf(bytes, i)) {
            long ms = 0;
            while (i < bytes.length && bytes[i] >= '0' && bytes[i] <= '9') {
                ms = ms * 10 + (bytes[i++] - '0');
            }
            if (measured) {
                events.increment();
                synchronized (latency) {
                    latency.record(Math.max(LatencyHistogram.MIN_NANOS, (now - ms) * 1_000_000));
                }
            }
        }
    }

    /** Where the digits after the next {@code "ingest_time":} at or after {@code from} start, or -1. */
    private static int indexOf(byte[] b, int from) {
        outer:
        for (int i = from; i <= b.length - INGEST_TIME.length; i++) {
            for (int k = 0; k < INGEST_TIME.length; k++) {
                if (b[i + k] != INGEST_TIME[k]) {
                    continue outer;
                }
            }
            return i + INGEST_TIME.length;
        }
        return -1;
    }

    private static byte[] maskedText(byte[] payload) {
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        byte[] frame = new byte[2 + 4 + payload.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | payload.length); // control messages here are under 126 bytes
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    /** Measures in the window of {@code run} (the workers' own), once they start. */
    void window(Worker.Shared run) {
        this.shared = run;
    }

    /** Ends every subscription and returns the summary's subscriber part. */
    String stop() {
        shared.stop = true;
        synchronized (sockets) {
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
        threads.forEach(Thread::interrupt);
        synchronized (latency) {
            return String.format(
                    Locale.ROOT,
                    " sse_subscribers=%d ws_subscribers=%d subscribed=%d subscriber_errors=%d delivered=%d"
                            + " delivery_p50_ms=%.0f delivery_p99_ms=%.0f delivery_max_ms=%.0f",
                    sse,
                    ws,
                    connected.get(),
                    errors.sum(),
                    events.sum(),
                    latency.quantileNanos(0.50) / 1e6,
                    latency.quantileNanos(0.99) / 1e6,
                    latency.maxNanos() / 1e6);
        }
    }
}

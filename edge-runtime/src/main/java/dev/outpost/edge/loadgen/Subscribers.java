package dev.outpost.edge.loadgen;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live subscribers beside the load ({@code --sse-subscribers}, {@code --ws-subscribers}): each tails {@code --stream}
 * over its own connection (GET /v1/events/tail, or GET /v1/ws with one subscription) and measures every event it gets
 * from the agent's append (the event's {@code ingest_time}, on the same clock) to its receipt, in the measured window.
 *
 * <p>Design note. Each subscriber connects and reads its response head on a virtual thread of its own (blocking), then
 * hands its channel, non-blocking, to one of {@link #READERS} selector threads, which read every subscriber that has
 * bytes and walk what arrived: one {@code epoll_wait} for many connections instead of a poller registration and two
 * thread switches per read (the generator shares the agent's cores; what it spends shows in the agent's figures). The
 * parsers are minimal and exact for what the agent sends: HTTP/1.1
 * chunked framing for SSE, unmasked server frames for WebSocket (client frames are masked, RFC 6455 §5.3), read by
 * {@link SubscriberStream} (large reads, a histogram per subscriber merged at the end). Plain
 * http:// only. Latency has the millisecond resolution of ingest_time.
 */
final class Subscribers {
    private volatile Worker.Shared shared;
    private final HttpConnection.Target target;
    private final String host;
    /** Threads reading the subscribers' streams once they are open. */
    static final int READERS = 2;

    private final List<Thread> threads = new ArrayList<>();
    private final Reader[] readers = new Reader[READERS];
    private final List<SocketChannel> channels = java.util.Collections.synchronizedList(new ArrayList<>());
    /** Each subscriber's reader with its own histogram and count, merged once the subscribers are stopped. */
    private final List<SubscriberStream> streams = java.util.Collections.synchronizedList(new ArrayList<>());

    private final AtomicInteger connected = new AtomicInteger();
    private final LongAdder errors = new LongAdder();
    private final int sse;
    private final int ws;
    /** The shortest event the generator writes (each subscriber's scan skips that much of every event it finds). */
    private int eventBytesMin;

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
        s.eventBytesMin = Payloads.eventBytesMin(o.eventBytes());
        for (int i = 0; i < READERS; i++) {
            try {
                s.readers[i] = s.new Reader(i);
            } catch (IOException e) {
                throw new UncheckedIOException("could not open a selector for the subscribers", e);
            }
        }
        for (int i = 0; i < s.sse + s.ws; i++) {
            boolean isWs = i >= s.sse;
            Reader reader = s.readers[i % READERS];
            s.threads.add(Thread.ofVirtual().name("subscriber-" + i).start(() -> s.follow(o.stream(), isWs, reader)));
        }
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (s.connected.get() + s.errors.intValue() < s.sse + s.ws && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        }
        return s;
    }

    private void follow(String stream, boolean isWs, Reader reader) {
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open();
            channels.add(channel);
            channel.socket().connect(target.address(), 10_000);
            channel.socket().setTcpNoDelay(true);
            SubscriberStream in = new SubscriberStream(channel, isWs, () -> shared, eventBytesMin);
            if (isWs) {
                write(
                        channel,
                        ("GET /v1/ws HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                        + "Sec-WebSocket-Key: bG9hZGdlbi1zdWJzY3JpYmU=\r\nSec-WebSocket-Version: 13\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                expectHead(in, "101");
                write(
                        channel,
                        maskedText(("{\"op\":\"subscribe\",\"id\":\"s\",\"events\":{\"stream\":\"" + stream + "\"}}")
                                .getBytes(StandardCharsets.UTF_8)));
            } else {
                write(
                        channel,
                        ("GET /v1/events/tail?stream=" + stream + " HTTP/1.1\r\nHost: " + host
                                        + "\r\nAccept: text/event-stream\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                expectHead(in, "200");
            }
            streams.add(in);
            channel.configureBlocking(false);
            reader.add(channel, in);
            connected.incrementAndGet();
        } catch (IOException e) {
            failed(e);
            closeQuietly(channel);
        }
    }

    private static void write(SocketChannel channel, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    private void failed(IOException e) {
        if (!shared.stop) {
            errors.increment();
            shared.errorKind("subscriber: " + e.getClass().getSimpleName());
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    /** Subscriber threads that read what arrived for the channels given to them (one selector each). */
    private final class Reader {
        private final Selector selector;
        private final Queue<Map.Entry<SocketChannel, SubscriberStream>> arrivals = new ConcurrentLinkedQueue<>();
        private final Thread thread;

        Reader(int i) throws IOException {
            selector = Selector.open();
            thread = Thread.ofPlatform().daemon().name("subscriber-reader-" + i).start(this::run);
        }

        void add(SocketChannel channel, SubscriberStream in) {
            arrivals.add(Map.entry(channel, in));
            selector.wakeup();
        }

        private void run() {
            try (selector) {
                while (!shared.stop) {
                    selector.select(100);
                    register();
                    for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                        SelectionKey key = it.next();
                        it.remove();
                        take(key);
                    }
                }
            } catch (IOException | ClosedSelectorException e) {
                // stopping
            }
        }

        private void register() {
            for (Map.Entry<SocketChannel, SubscriberStream> a; (a = arrivals.poll()) != null; ) {
                try {
                    SelectionKey key = a.getKey().register(selector, SelectionKey.OP_READ, a.getValue());
                    if (!a.getValue().takeAll()) { // what came with the response head
                        end(key);
                    }
                } catch (IOException e) {
                    failed(e);
                    closeQuietly(a.getKey());
                }
            }
        }

        private void take(SelectionKey key) {
            try {
                if (!key.isValid() || !((SubscriberStream) key.attachment()).readable()) {
                    end(key);
                }
            } catch (IOException e) {
                failed(e);
                end(key);
            }
        }

        /** The stream ended (the agent closed it, or cut a subscriber that fell behind: its metrics count that). */
        private void end(SelectionKey key) {
            key.cancel();
            closeQuietly((SocketChannel) key.channel());
        }
    }

    private static void expectHead(SubscriberStream in, String status) throws IOException {
        String line = in.line();
        if (!line.startsWith("HTTP/1.1 " + status)) {
            throw new IOException("subscription refused: " + line);
        }
        while (!in.line().isEmpty()) {
            // headers: not needed
        }
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

    private void drain() {
        long deadline = System.nanoTime() + DRAIN_MILLIS_MAX * 1_000_000;
        long last = -1;
        while (System.nanoTime() < deadline) {
            long now = 0;
            synchronized (streams) {
                for (SubscriberStream s : streams) {
                    now += s.events;
                }
            }
            if (now == last) {
                return;
            }
            last = now;
            try {
                Thread.sleep(DRAIN_QUIET_MILLIS); // polling counts that have no signal of their own
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Measures in the window of {@code run} (the workers' own), once they start. */
    void window(Worker.Shared run) {
        this.shared = run;
    }

    /** Longest {@link #stop} waits for the window's events still on their way to the subscribers. */
    static final long DRAIN_MILLIS_MAX = 5_000;

    /** How long the subscribers' counts must stand still for the drain to be over. */
    static final long DRAIN_QUIET_MILLIS = 300;

    /**
     * Ends every subscription and returns the summary's subscriber part; first waits (at most {@link
     * #DRAIN_MILLIS_MAX}) until the subscribers have received nothing more for {@link #DRAIN_QUIET_MILLIS}, so events
     * of the window delivered late are counted.
     */
    String stop() {
        drain();
        shared.stop = true;
        synchronized (channels) {
            channels.forEach(Subscribers::closeQuietly); // ends the handshakes still waiting too
        }
        for (Reader r : readers) {
            r.selector.wakeup();
        }
        threads.forEach(Thread::interrupt);
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<Thread> all = new ArrayList<>(threads);
        for (Reader r : readers) {
            all.add(r.thread);
        }
        for (Thread t : all) {
            try {
                t.join(java.time.Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        LatencyHistogram latency = new LatencyHistogram();
        long events = 0;
        synchronized (streams) {
            for (SubscriberStream s : streams) {
                latency.merge(s.latency); // the threads have ended (or were given 5 s): their last counts are in
                events += s.events;
            }
        }
        return String.format(
                Locale.ROOT,
                " sse_subscribers=%d ws_subscribers=%d subscribed=%d subscriber_errors=%d delivered=%d"
                        + " delivery_p50_ms=%.0f delivery_p99_ms=%.0f delivery_max_ms=%.0f",
                sse,
                ws,
                connected.get(),
                errors.sum(),
                events,
                latency.quantileNanos(0.50) / 1e6,
                latency.quantileNanos(0.99) / 1e6,
                latency.maxNanos() / 1e6);
    }
}

package dev.outpost.edge;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Several hubs behind one address, for tests: a TCP proxy on loopback that hands each new connection to the next
 * backend in turn, skipping one that refuses (as a layer-4 load balancer without health checks would), and cuts every
 * connection after a random lifetime so that a client's keep-alive connection does not pin it to one hub: its next
 * request goes to another. A request cut mid-way is what a client sees when a hub dies, and it retries.
 *
 * <p>Invariants: at most {@link #CONNECTIONS_MAX} connections at once (more are closed at accept); every thread it
 * starts is virtual and ends when its sockets close; {@link #close()} closes all sockets.
 */
final class RoundRobinProxy implements AutoCloseable {
    /** Connections held at once. */
    static final int CONNECTIONS_MAX = 512;

    /** Longest a connection to a backend may take to open before the next backend is tried. */
    static final int CONNECT_TIMEOUT_MILLIS = 500;

    private final ServerSocket listener;
    private final List<Integer> backends;
    private final Random random;
    private final long lifetimeMillisMin;
    private final long lifetimeMillisMax;
    private final AtomicInteger next = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final LongAdder cut = new LongAdder();
    private volatile boolean running = true;

    private RoundRobinProxy(
            ServerSocket listener, List<Integer> backends, long seed, long lifetimeMillisMin, long lifetimeMillisMax) {
        this.listener = listener;
        this.backends = List.copyOf(backends);
        this.random = new Random(seed);
        this.lifetimeMillisMin = lifetimeMillisMin;
        this.lifetimeMillisMax = lifetimeMillisMax;
        Thread.ofVirtual().name("round-robin-accept").start(this::accept);
    }

    /** Listens on a free loopback port in front of {@code backends} (loopback ports). */
    static RoundRobinProxy start(List<Integer> backends, long seed, long lifetimeMillisMin, long lifetimeMillisMax)
            throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return new RoundRobinProxy(s, backends, seed, lifetimeMillisMin, lifetimeMillisMax);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Connections cut at the end of their lifetime so far. */
    long cut() {
        return cut.sum();
    }

    private void accept() {
        while (running) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (open.size() >= CONNECTIONS_MAX) {
                closeQuietly(client);
                continue;
            }
            long lifetime;
            synchronized (random) {
                lifetime = lifetimeMillisMin + (long) (random.nextDouble() * (lifetimeMillisMax - lifetimeMillisMin));
            }
            Thread.ofVirtual().start(() -> serve(client, lifetime));
        }
    }

    private void serve(Socket client, long lifetimeMillis) {
        Socket backend = connect();
        if (backend == null) {
            closeQuietly(client);
            return;
        }
        open.add(client);
        open.add(backend);
        Thread up = Thread.ofVirtual().start(() -> pipe(client, backend));
        Thread down = Thread.ofVirtual().start(() -> pipe(backend, client));
        try {
            if (!up.join(java.time.Duration.ofMillis(lifetimeMillis))) {
                cut.increment();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(client);
            closeQuietly(backend);
            open.remove(client);
            open.remove(backend);
        }
        try {
            down.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A connection to the next backend that accepts one; null when none does. */
    private Socket connect() {
        int start = Math.floorMod(next.getAndIncrement(), backends.size());
        for (int i = 0; i < backends.size(); i++) {
            int port = backends.get((start + i) % backends.size());
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), CONNECT_TIMEOUT_MILLIS);
                return s;
            } catch (IOException e) {
                closeQuietly(s); // down: try the next one
            }
        }
        return null;
    }

    private static void pipe(Socket from, Socket to) {
        byte[] buf = new byte[16 * 1024];
        try (InputStream in = from.getInputStream()) {
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // one side closed or was cut: the other is closed by serve
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        running = false;
        listener.close();
        for (Socket s : open) {
            closeQuietly(s);
        }
    }
}

package dev.outpost.edge.sync;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A fault-injecting TCP proxy for tests: it sits between the edge and the hub on loopback and drops, delays, resets,
 * truncates and blackholes connections, on a schedule drawn from a seeded {@link Random} (the seed is printed, so a
 * failing run can be replayed).
 *
 * <p>Each accepted connection gets a {@link Plan} drawn, in accept order, from the seeded random under the
 * {@link Faults} policy in force at that moment: one exclusive {@link Kind} (none, drop, blackhole, reset, truncate),
 * whether its chunks are delayed, the byte count at which a reset or truncation cuts it, and a per-connection seed for
 * the per-chunk delays. Every connection draws the same number of values whatever its kind, so the same seed and the
 * same sequence of connections give the same plans ({@link #plans()}).
 *
 * <ul>
 *   <li>{@link Kind#DROP}: no upstream connection; the proxy half-closes towards the edge at once (FIN, nothing sent),
 *       then reads and discards what the edge sends until the edge closes or {@link Faults#maxHold()} passes.
 *   <li>{@link Kind#BLACKHOLE}: no upstream connection; the proxy reads and discards what the edge sends and answers
 *       nothing until the edge closes or {@link Faults#maxHold()} passes, then closes (FIN). The edge has to time out.
 *   <li>{@link Kind#RESET}: forwarded both ways until the cut point {@link Plan#cutAt()}, counted over both directions
 *       together in the order the proxy forwards them; then both sockets are closed with SO_LINGER 0 (TCP RST). The edge
 *       reads at most those bytes, then "connection reset".
 *   <li>{@link Kind#TRUNCATE}: hub → edge bytes after the first {@link Plan#cutAt()} (headers included, over the
 *       connection's life) are not forwarded: the proxy sends FIN to the edge, closes the hub side, and discards what
 *       the edge still sends until it closes or {@link Faults#maxHold()} passes. The edge sees a clean EOF mid-response.
 *   <li>delay (independent of the kind): each forwarded chunk (at most {@link #CHUNK_BYTES}, both directions) of a
 *       delayed connection first waits a uniform {@link Faults#minDelayMillis()}..{@link Faults#maxDelayMillis()} ms.
 *   <li>{@link #setDown(boolean) setDown(true)}: the listener is closed (new connections are refused by the kernel)
 *       and live connections are reset; {@code setDown(false)} listens again on the same port.
 * </ul>
 *
 * <p>A reset or truncation is counted only when it happens: a cut point beyond the connection's traffic leaves it
 * alone. At most {@link #MAX_CONNECTIONS} connections are open at once; past that an accepted connection is reset at
 * once and counted in {@link #rejected()} (it draws no plan). {@link #close()} resets everything and joins every
 * thread, failing if one does not end.
 */
public final class FaultProxy implements AutoCloseable {
    /** Connections open at once; one more is reset on accept. */
    public static final int MAX_CONNECTIONS = 256;
    /** The most bytes forwarded (and delayed) as one chunk. */
    public static final int CHUNK_BYTES = 8192;
    /** Plans kept for {@link #plans()}; later connections are still planned, just not recorded. */
    public static final int PLAN_HISTORY = 10_000;
    /** System property: comma-separated seeds that {@link #seeds(int)} returns instead of random ones. */
    public static final String SEEDS_PROPERTY = "outpost.faultproxy.seeds";

    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
    private static final long JOIN_MILLIS = 5_000;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    /** What happens to one connection (delay is separate: {@link Plan#delayed()}). */
    public enum Kind {
        NONE,
        DROP,
        BLACKHOLE,
        RESET,
        TRUNCATE
    }

    /**
     * The fault policy. {@code drop}, {@code blackhole}, {@code reset} and {@code truncate} are per-connection
     * probabilities of exclusive kinds (sum at most 1); {@code delay} is the independent probability that a connection's
     * chunks are delayed, each by a uniform {@code minDelayMillis..maxDelayMillis}; a reset or truncation cuts at a
     * uniform {@code minCutBytes..maxCutBytes}; {@code maxHold} bounds how long a dropped, blackholed or truncated
     * connection is held open waiting for the edge to close.
     */
    public record Faults(
            double drop,
            double blackhole,
            double reset,
            double truncate,
            double delay,
            int minDelayMillis,
            int maxDelayMillis,
            long minCutBytes,
            long maxCutBytes,
            Duration maxHold) {
        /** No faults: a transparent proxy. */
        public static final Faults NONE = new Faults(0, 0, 0, 0, 0, 0, 0, 0, 64 * 1024, Duration.ofSeconds(2));

        public Faults {
            for (double p : new double[] {drop, blackhole, reset, truncate, delay}) {
                if (!(p >= 0 && p <= 1)) {
                    throw new IllegalArgumentException("probability not in [0, 1]: " + p);
                }
            }
            if (drop + blackhole + reset + truncate > 1 + 1e-9) {
                throw new IllegalArgumentException("drop + blackhole + reset + truncate > 1");
            }
            if (minDelayMillis < 0 || maxDelayMillis < minDelayMillis) {
                throw new IllegalArgumentException("delay range " + minDelayMillis + ".." + maxDelayMillis);
            }
            if (minCutBytes < 0 || maxCutBytes < minCutBytes || maxCutBytes == Long.MAX_VALUE) {
                throw new IllegalArgumentException("cut range " + minCutBytes + ".." + maxCutBytes);
            }
            Objects.requireNonNull(maxHold, "maxHold");
            if (maxHold.isNegative() || maxHold.isZero()) {
                throw new IllegalArgumentException("maxHold must be positive: " + maxHold);
            }
        }

        /**
         * A bit of everything: drop 5%, blackhole 2%, reset 10%, truncate 10% of connections; 30% delayed by 0..50 ms a
         * chunk; cuts within the first 64 KiB; held at most 2 s.
         */
        public static Faults flaky() {
            return new Faults(0.05, 0.02, 0.10, 0.10, 0.30, 0, 50, 0, 64 * 1024, Duration.ofSeconds(2));
        }

        /** Every connection gets {@code kind} (other settings as {@link #NONE}). */
        public static Faults always(Kind kind) {
            return switch (kind) {
                case NONE -> NONE;
                case DROP -> NONE.withKinds(1, 0, 0, 0);
                case BLACKHOLE -> NONE.withKinds(0, 1, 0, 0);
                case RESET -> NONE.withKinds(0, 0, 1, 0);
                case TRUNCATE -> NONE.withKinds(0, 0, 0, 1);
            };
        }

        public Faults withKinds(double drop, double blackhole, double reset, double truncate) {
            return new Faults(
                    drop,
                    blackhole,
                    reset,
                    truncate,
                    delay,
                    minDelayMillis,
                    maxDelayMillis,
                    minCutBytes,
                    maxCutBytes,
                    maxHold);
        }

        public Faults withDelay(double probability, int minMillis, int maxMillis) {
            return new Faults(
                    drop,
                    blackhole,
                    reset,
                    truncate,
                    probability,
                    minMillis,
                    maxMillis,
                    minCutBytes,
                    maxCutBytes,
                    maxHold);
        }

        public Faults withCut(long minBytes, long maxBytes) {
            return new Faults(
                    drop,
                    blackhole,
                    reset,
                    truncate,
                    delay,
                    minDelayMillis,
                    maxDelayMillis,
                    minBytes,
                    maxBytes,
                    maxHold);
        }

        public Faults withMaxHold(Duration hold) {
            return new Faults(
                    drop,
                    blackhole,
                    reset,
                    truncate,
                    delay,
                    minDelayMillis,
                    maxDelayMillis,
                    minCutBytes,
                    maxCutBytes,
                    hold);
        }
    }

    /**
     * The plan drawn for one connection: its index in accept order (from 0), kind, whether its chunks are delayed, the
     * cut point in bytes for {@link Kind#RESET} and {@link Kind#TRUNCATE} (-1 otherwise) and the seed of its per-chunk
     * delays.
     */
    public record Plan(int connection, Kind kind, boolean delayed, long cutAt, long seed) {}

    private final InetSocketAddress target;
    private final long seed;
    private final int port;
    private final Random random;
    private int nextConnection;
    private volatile Faults faults = Faults.NONE;

    private final Object lock = new Object();
    private ServerSocket listener; // guarded by lock
    private Thread acceptor; // guarded by lock
    private volatile boolean down;
    private volatile boolean closed;

    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final Set<Connection> live = ConcurrentHashMap.newKeySet();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private final List<Plan> plans = new ArrayList<>(); // guarded by itself

    private final LongAdder connections = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder upstreamFailures = new LongAdder();
    private final LongAdder drops = new LongAdder();
    private final LongAdder blackholes = new LongAdder();
    private final LongAdder resets = new LongAdder();
    private final LongAdder truncations = new LongAdder();
    private final LongAdder delayedConnections = new LongAdder();
    private final LongAdder delayedChunks = new LongAdder();
    private final LongAdder delayMillis = new LongAdder();
    private final LongAdder bytesEdgeToHub = new LongAdder();
    private final LongAdder bytesHubToEdge = new LongAdder();
    private final LongAdder discardedBytes = new LongAdder();

    private FaultProxy(ServerSocket listener, int targetPort, long seed) {
        this.target = new InetSocketAddress(LOOPBACK, targetPort);
        this.seed = seed;
        this.random = new Random(seed);
        this.listener = listener;
        this.port = listener.getLocalPort();
    }

    /**
     * A free port below the kernel's ephemeral range (32768 and up here), for a server that a test
     * stops and starts again on the same port: an ephemeral port, once released, may be taken by
     * any outgoing connection in the meantime.
     */
    public static int stablePort() throws IOException {
        java.util.Random r = new java.util.Random();
        for (int i = 0; i < 200; i++) {
            int p = 20_000 + r.nextInt(12_000);
            try (java.net.ServerSocket s = new java.net.ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), p));
                return p;
            } catch (IOException busy) {
                // try another
            }
        }
        throw new IOException("no free port in 20000-31999");
    }

    /** Listens on 127.0.0.1 on a free port, forwarding to 127.0.0.1:{@code targetPort}, with {@link Faults#NONE}. */
    public static FaultProxy start(int targetPort, long seed) throws IOException {
        ServerSocket server = bind(0);
        FaultProxy proxy = new FaultProxy(server, targetPort, seed);
        System.out.println("fault proxy seed " + seed + " (127.0.0.1:" + proxy.port + " -> 127.0.0.1:" + targetPort
                + "; replay with -D" + SEEDS_PROPERTY + "=" + seed + ")");
        synchronized (proxy.lock) {
            proxy.acceptor = proxy.spawn("fault-proxy-" + proxy.port + "-accept", () -> proxy.acceptLoop(server));
        }
        return proxy;
    }

    /** {@link #start(int, long)}, then {@link #setFaults(Faults)}. */
    public static FaultProxy start(int targetPort, long seed, Faults faults) throws IOException {
        FaultProxy proxy = start(targetPort, seed);
        proxy.setFaults(faults);
        return proxy;
    }

    /**
     * {@code count} seeds for a run: random ones, or those listed in the system property {@link #SEEDS_PROPERTY} (then
     * exactly those, however many) to replay a run.
     */
    public static long[] seeds(int count) {
        String fixed = System.getProperty(SEEDS_PROPERTY);
        if (fixed != null && !fixed.isBlank()) {
            return Arrays.stream(fixed.split(","))
                    .map(String::trim)
                    .mapToLong(Long::parseLong)
                    .toArray();
        }
        return ThreadLocalRandom.current().longs(count).toArray();
    }

    public int port() {
        return port;
    }

    public long seed() {
        return seed;
    }

    public Faults faults() {
        return faults;
    }

    /** The policy for connections accepted from now on; live connections keep the plan they were given. */
    public void setFaults(Faults faults) {
        this.faults = Objects.requireNonNull(faults, "faults");
    }

    public boolean isDown() {
        return down;
    }

    /**
     * {@code true}: stop listening (new connections are refused) and reset every live connection, as if the hub became
     * unreachable. {@code false}: listen again on the same port.
     */
    public void setDown(boolean down) {
        Thread stopped = null;
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("closed");
            }
            if (down == this.down) {
                return;
            }
            this.down = down;
            if (down) {
                closeQuietly(listener);
                listener = null;
                stopped = acceptor;
                acceptor = null;
            } else {
                try {
                    ServerSocket server = bind(port);
                    listener = server;
                    acceptor = spawn("fault-proxy-" + port + "-accept", () -> acceptLoop(server));
                } catch (IOException e) {
                    this.down = true;
                    throw new UncheckedIOException("cannot listen again on port " + port, e);
                }
            }
        }
        if (stopped != null) {
            join(stopped, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_MILLIS));
            resetAll();
        }
    }

    /** Resets (TCP RST) every live connection; returns how many. Not counted in {@link #resets()}. */
    public int resetAll() {
        int n = 0;
        for (Connection c : live) {
            if (c.abort()) {
                n++;
            }
        }
        return n;
    }

    /** The plans of the first {@link #PLAN_HISTORY} connections, in accept order. */
    public List<Plan> plans() {
        synchronized (plans) {
            return List.copyOf(plans);
        }
    }

    /** Connections accepted and given a plan. */
    public long connections() {
        return connections.sum();
    }

    /** Connections reset on accept because {@link #MAX_CONNECTIONS} were open. */
    public long rejected() {
        return rejected.sum();
    }

    /** Connections open now. */
    public int active() {
        return live.size();
    }

    /** Connections whose upstream connect failed (they are reset towards the edge). */
    public long upstreamFailures() {
        return upstreamFailures.sum();
    }

    public long drops() {
        return drops.sum();
    }

    public long blackholes() {
        return blackholes.sum();
    }

    /** Injected resets that happened (not {@link #resetAll()} nor resets propagated from either peer). */
    public long resets() {
        return resets.sum();
    }

    public long truncations() {
        return truncations.sum();
    }

    public long delayedConnections() {
        return delayedConnections.sum();
    }

    public long delayedChunks() {
        return delayedChunks.sum();
    }

    /** Total milliseconds chunks were held back, both directions. */
    public long delayMillis() {
        return delayMillis.sum();
    }

    /** Bytes written to the hub. */
    public long bytesEdgeToHub() {
        return bytesEdgeToHub.sum();
    }

    /** Bytes written to the edge. */
    public long bytesHubToEdge() {
        return bytesHubToEdge.sum();
    }

    /** Bytes read from the edge and thrown away (dropped, blackholed and truncated connections). */
    public long discardedBytes() {
        return discardedBytes.sum();
    }

    @Override
    public String toString() {
        return "FaultProxy[seed=" + seed + ", port=" + port + ", connections=" + connections() + ", rejected="
                + rejected() + ", drops=" + drops() + ", blackholes=" + blackholes() + ", resets=" + resets()
                + ", truncations=" + truncations() + ", delayedConnections=" + delayedConnections() + ", delayMillis="
                + delayMillis() + ", edgeToHub=" + bytesEdgeToHub() + ", hubToEdge=" + bytesHubToEdge()
                + ", discarded=" + discardedBytes() + ", upstreamFailures=" + upstreamFailures() + "]";
    }

    /** Stops listening, resets every connection and joins every thread; fails if a thread does not end in 5 s. */
    @Override
    public void close() {
        Thread stopped;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            closeQuietly(listener);
            listener = null;
            stopped = acceptor;
            acceptor = null;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_MILLIS);
        if (stopped != null) {
            join(stopped, deadline);
        }
        resetAll();
        // A connection mid-connect may still start its edge → hub thread; loop until all are gone.
        while (!threads.isEmpty() && System.nanoTime() < deadline) {
            for (Thread t : threads) {
                t.interrupt();
                join(t, deadline);
            }
        }
        if (!threads.isEmpty()) {
            throw new IllegalStateException("fault proxy threads still running: "
                    + threads.stream().map(Thread::getName).toList());
        }
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket server = new ServerSocket();
        try {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(LOOPBACK, port), MAX_CONNECTIONS);
            return server;
        } catch (IOException e) {
            closeQuietly(server);
            throw e;
        }
    }

    private Thread spawn(String name, Runnable task) {
        Thread t = Thread.ofVirtual().name(name).unstarted(() -> {
            try {
                task.run();
            } finally {
                threads.remove(Thread.currentThread());
            }
        });
        threads.add(t);
        t.start();
        return t;
    }

    private static void join(Thread t, long deadlineNanos) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            return;
        }
        try {
            t.join(Duration.ofNanos(left));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptLoop(ServerSocket server) {
        while (true) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed: down or close()
            }
            if (closed || !slots.tryAcquire()) {
                rejected.increment();
                abort(client);
                continue;
            }
            Plan plan = draw();
            connections.increment();
            Connection c = new Connection(plan, faults, client);
            live.add(c);
            spawn("fault-proxy-" + port + "-conn-" + plan.connection(), c::run);
        }
    }

    private Plan draw() {
        Faults f = faults;
        synchronized (random) {
            int id = nextConnection++;
            double k = random.nextDouble();
            double d = random.nextDouble();
            long cut = random.nextLong(f.minCutBytes(), f.maxCutBytes() + 1);
            long connectionSeed = random.nextLong();
            Kind kind;
            if (k < f.drop()) {
                kind = Kind.DROP;
            } else if (k < f.drop() + f.blackhole()) {
                kind = Kind.BLACKHOLE;
            } else if (k < f.drop() + f.blackhole() + f.reset()) {
                kind = Kind.RESET;
            } else if (k < f.drop() + f.blackhole() + f.reset() + f.truncate()) {
                kind = Kind.TRUNCATE;
            } else {
                kind = Kind.NONE;
            }
            boolean forwards = kind != Kind.DROP && kind != Kind.BLACKHOLE;
            boolean cuts = kind == Kind.RESET || kind == Kind.TRUNCATE;
            Plan plan = new Plan(id, kind, forwards && d < f.delay(), cuts ? cut : -1, connectionSeed);
            synchronized (plans) {
                if (plans.size() < PLAN_HISTORY) {
                    plans.add(plan);
                }
            }
            return plan;
        }
    }

    /** Close with SO_LINGER 0: the peer gets a TCP RST. */
    private static void abort(Socket s) {
        if (s == null) {
            return;
        }
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // already closed
        }
        closeQuietly(s);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // nothing to do
        }
    }

    private static final int OPEN = 0;
    private static final int TRUNCATED = 1;
    private static final int ABORTED = 2;

    /** One proxied connection: the edge side, the hub side and its plan. */
    private final class Connection {
        private final Plan plan;
        private final Faults faults;
        private final Socket client;
        private volatile Socket upstream;
        private final AtomicInteger state = new AtomicInteger(OPEN);
        /** Bytes counted towards the cut: both directions for a reset, hub → edge for a truncation. */
        private final AtomicLong cutCounter = new AtomicLong();

        Connection(Plan plan, Faults faults, Socket client) {
            this.plan = plan;
            this.faults = faults;
            this.client = client;
        }

        void run() {
            try {
                switch (plan.kind()) {
                    case DROP -> {
                        drops.increment();
                        client.shutdownOutput();
                        drain();
                    }
                    case BLACKHOLE -> {
                        blackholes.increment();
                        drain();
                    }
                    case NONE, RESET, TRUNCATE -> forward();
                }
            } catch (IOException e) {
                // the connection ended; nothing more to do
            } finally {
                closeQuietly(client);
                closeQuietly(upstream);
                live.remove(this);
                slots.release();
            }
        }

        /** Resets both sides; false if already aborted. */
        boolean abort() {
            if (state.getAndSet(ABORTED) == ABORTED) {
                return false;
            }
            FaultProxy.abort(client);
            FaultProxy.abort(upstream);
            return true;
        }

        private void forward() throws IOException {
            Socket up = new Socket();
            upstream = up;
            if (state.get() == ABORTED) {
                return;
            }
            try {
                up.connect(target, CONNECT_TIMEOUT_MILLIS);
            } catch (IOException e) {
                if (state.get() != ABORTED) {
                    upstreamFailures.increment();
                    abort();
                }
                return;
            }
            if (plan.delayed()) {
                delayedConnections.increment();
            }
            Thread edgeToHub = spawn(Thread.currentThread().getName() + "-up", this::edgeToHub);
            hubToEdge();
            try {
                edgeToHub.join();
            } catch (InterruptedException e) {
                abort();
            }
        }

        private void hubToEdge() {
            Random delays = new Random(plan.seed() ^ 0x9E3779B97F4A7C15L);
            byte[] buf = new byte[CHUNK_BYTES];
            try {
                InputStream in = upstream.getInputStream();
                OutputStream out = client.getOutputStream();
                while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                        client.shutdownOutput();
                        return;
                    }
                    delay(delays);
                    if (plan.kind() == Kind.TRUNCATE) {
                        long allowed = plan.cutAt() - cutCounter.getAndAdd(n);
                        if (allowed < n) {
                            write(out, buf, (int) Math.max(0, allowed), bytesHubToEdge);
                            truncate();
                            return;
                        }
                    }
                    if (!forwardChunk(out, buf, n, bytesHubToEdge)) {
                        return;
                    }
                }
            } catch (IOException e) {
                failed();
            }
        }

        private void edgeToHub() {
            Random delays = new Random(plan.seed());
            byte[] buf = new byte[CHUNK_BYTES];
            try {
                InputStream in = client.getInputStream();
                OutputStream out = upstream.getOutputStream();
                while (state.get() == OPEN) {
                    int n = in.read(buf);
                    if (n < 0) {
                        if (state.get() == OPEN) {
                            upstream.shutdownOutput();
                        }
                        return;
                    }
                    if (state.get() != OPEN) {
                        discardedBytes.add(n);
                        break;
                    }
                    delay(delays);
                    if (!forwardChunk(out, buf, n, bytesEdgeToHub)) {
                        return;
                    }
                }
            } catch (IOException e) {
                failed();
            }
            if (state.get() == TRUNCATED) {
                try {
                    drain();
                } catch (IOException e) {
                    // the edge went away
                }
            }
        }

        /** Forwards a chunk, or the part before a reset's cut point then resets; false once the connection is cut. */
        private boolean forwardChunk(OutputStream out, byte[] buf, int n, LongAdder counter) throws IOException {
            if (plan.kind() == Kind.RESET) {
                long allowed = plan.cutAt() - cutCounter.getAndAdd(n);
                if (allowed < n) {
                    write(out, buf, (int) Math.max(0, allowed), counter);
                    if (state.compareAndSet(OPEN, ABORTED)) {
                        resets.increment();
                        FaultProxy.abort(client);
                        FaultProxy.abort(upstream);
                    }
                    return false;
                }
            }
            write(out, buf, n, counter);
            return true;
        }

        private static void write(OutputStream out, byte[] buf, int n, LongAdder counter) throws IOException {
            if (n > 0) {
                out.write(buf, 0, n);
                counter.add(n);
            }
        }

        /** FIN to the edge, hub side closed; the edge-side reader then discards until the edge closes. */
        private void truncate() {
            if (state.compareAndSet(OPEN, TRUNCATED)) {
                truncations.increment();
                try {
                    client.shutdownOutput();
                } catch (IOException ignored) {
                    // the edge is gone already
                }
                closeQuietly(upstream);
            }
        }

        /** An I/O error not of our making (a peer reset or closed): pass it on as a reset, unless truncated. */
        private void failed() {
            if (state.compareAndSet(OPEN, ABORTED)) {
                FaultProxy.abort(client);
                FaultProxy.abort(upstream);
            }
        }

        private void delay(Random delays) throws InterruptedIOException {
            if (!plan.delayed()) {
                return;
            }
            int millis = delays.nextInt(faults.minDelayMillis(), faults.maxDelayMillis() + 1);
            delayedChunks.increment();
            delayMillis.add(millis);
            try {
                Thread.sleep(millis); // the fault itself: a slow link holds each chunk this long
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("fault proxy closing");
            }
        }

        /** Reads and discards from the edge until it closes or {@link Faults#maxHold()} passes. */
        private void drain() throws IOException {
            long deadline = System.nanoTime() + faults.maxHold().toNanos();
            byte[] buf = new byte[CHUNK_BYTES];
            InputStream in = client.getInputStream();
            while (true) {
                long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (leftMillis <= 0) {
                    return;
                }
                client.setSoTimeout((int) Math.min(Integer.MAX_VALUE, leftMillis));
                int n;
                try {
                    n = in.read(buf);
                } catch (SocketTimeoutException e) {
                    return;
                }
                if (n < 0) {
                    return;
                }
                discardedBytes.add(n);
            }
        }
    }
}

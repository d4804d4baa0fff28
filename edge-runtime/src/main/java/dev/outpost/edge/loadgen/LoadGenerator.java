package dev.outpost.edge.loadgen;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * HTTP ingest load generator: N persistent keep-alive connections over loopback, one platform
 * thread each, raw sockets and pre-built request bytes so the generator stays cheap next to the
 * server on a small box. Bounded in time; prints one {@code key=value} summary line.
 *
 * <p>Modes: {@code single} and {@code batch} POST events to {@code --url}; {@code state-put} and
 * {@code state-get} drive state documents under {@code --url} as the namespace base ({@code
 * PUT|GET base/d-0 .. base/d-(N-1)}, N = {@code --documents}), one document per request, walking
 * the ids. {@code state-get} first creates every document with one PUT each, before (and not in)
 * the run; a failed PUT there ends the run. {@code state-put} also accepts 201 when expecting 200.
 *
 * <p>Counting: {@code requests}/{@code events} are responses with the expected status completed in
 * the measurement window (after warm-up); latency (send to full response read) is recorded for
 * those. {@code errors} are unexpected statuses and I/O errors in the window, {@code warmup_errors}
 * those before it.
 *
 * <p>Exit codes: 0 ok; 1 no successful request or any error; 2 bad arguments.
 */
public final class LoadGenerator {

    static final String USAGE = """
      usage: outpost loadgen [--name value ...]
        --url URL                 http://127.0.0.1:7070/v1/events (loopback only; https:// too)
        --trust-file PEM          https: certificates to trust (default: the JDK's); host names are verified
        --connections N           keep-alive connections, one thread each (50)
        --mode MODE               single: one JSON event per POST; batch: NDJSON batches;
                                  state-put / state-get: PUT / GET state documents under
                                  --url (http://127.0.0.1:7070/v1/state/NAMESPACE) (single)
        --batch N                 events per POST in batch mode (100)
        --documents N             state modes: document ids d-0 .. d-(N-1) (1000)
        --duration-seconds S      measured time after warm-up (10)
        --warmup-seconds S        warm-up time, not measured (3)
        --event-bytes N           approximate size of each event's (or document's) JSON (200)
        --stream NAME             stream of the generated events (sensors)
        --expect-status CODE      any other status counts as an error (200; state-put: 200 or 201)
        --max-requests N          stop after N successful measured requests (unbounded)
        --rate R                  send at most R requests per second in all, evenly paced (0: as fast as possible)
        --label TEXT              label for the summary line (loadgen)
      """;

    private LoadGenerator() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the generator with CLI arguments; returns a process exit code. */
    public static int run(String[] args) {
        return run(args, System.out, System.err);
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("loadgen: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        if (o == null) {
            out.print(USAGE);
            return 0;
        }
        Result r;
        try {
            r = execute(o);
        } catch (IllegalArgumentException e) {
            err.println("loadgen: " + e.getMessage());
            return 2;
        } catch (SetupException e) {
            err.println("loadgen: " + e.getMessage());
            return 1;
        }
        out.println(r.summary());
        out.flush();
        if (!r.errorKinds.isEmpty()) {
            err.println("loadgen: errors by kind: " + r.errorKinds);
        }
        return r.requests > 0 && r.errors == 0 ? 0 : 1;
    }

    /** What each request does. */
    enum Mode {
        SINGLE("single"),
        BATCH("batch"),
        STATE_PUT("state-put"),
        STATE_GET("state-get");

        final String cli;

        Mode(String cli) {
            this.cli = cli;
        }

        static Mode of(String s) {
            for (Mode m : values()) {
                if (m.cli.equals(s)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("--mode must be single, batch, state-put or state-get, not " + s);
        }

        boolean state() {
            return this == STATE_PUT || this == STATE_GET;
        }
    }

    /** The run could not be prepared (state-get: creating the documents failed). */
    static final class SetupException extends RuntimeException {
        SetupException(String message) {
            super(message);
        }
    }

    /** Parsed options. */
    record Options(
            URI url,
            int connections,
            Mode mode,
            int batch,
            int documents,
            double durationSeconds,
            double warmupSeconds,
            int eventBytes,
            String stream,
            int expectStatus,
            long maxRequests,
            String label,
            double ratePerSecond,
            java.nio.file.Path trustFile) {

        /** Returns null for --help. */
        static Options parse(String[] args) {
            String url = "http://127.0.0.1:7070/v1/events";
            int connections = 50;
            String mode = "single";
            int batch = 100;
            int documents = 1000;
            double duration = 10;
            double warmup = 3;
            int eventBytes = 200;
            String stream = "sensors";
            int expect = 200;
            long maxRequests = 0;
            String label = "loadgen";
            double rate = 0;
            java.nio.file.Path trustFile = null;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) {
                    return null;
                }
                if (!a.startsWith("--")) {
                    throw new IllegalArgumentException("unexpected argument: " + a);
                }
                String name;
                String value;
                int eq = a.indexOf('=');
                if (eq > 0) {
                    name = a.substring(2, eq);
                    value = a.substring(eq + 1);
                } else {
                    name = a.substring(2);
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("missing value for --" + name);
                    }
                    value = args[++i];
                }
                switch (name) {
                    case "url" -> url = value;
                    case "connections" -> connections = intArg(name, value, 1, 10_000);
                    case "mode" -> mode = value;
                    case "batch" -> batch = intArg(name, value, 1, 1_000_000);
                    case "documents" -> documents = intArg(name, value, 1, Payloads.DOCUMENTS_MAX);
                    case "duration-seconds" -> duration = doubleArg(name, value, 0.001);
                    case "warmup-seconds" -> warmup = doubleArg(name, value, 0);
                    case "event-bytes" -> eventBytes = intArg(name, value, 1, 16 << 20);
                    case "stream" -> stream = value;
                    case "expect-status" -> expect = intArg(name, value, 100, 599);
                    case "max-requests" -> maxRequests = longArg(name, value);
                    case "label" -> label = value;
                    case "rate" -> rate = doubleArg(name, value, 0);
                    case "trust-file" -> trustFile = java.nio.file.Path.of(value);
                    default -> throw new IllegalArgumentException("unknown option --" + name);
                }
            }
            Mode m = Mode.of(mode);
            if (stream.isEmpty()) {
                throw new IllegalArgumentException("--stream must not be empty");
            }
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("bad --url: " + e.getMessage());
            }
            if (!("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
                    || uri.getHost() == null) {
                throw new IllegalArgumentException("--url must be http(s)://host[:port]/path, not " + url);
            }
            if (trustFile != null && !"https".equalsIgnoreCase(uri.getScheme())) {
                throw new IllegalArgumentException("--trust-file applies to an https:// --url only");
            }
            return new Options(
                    uri,
                    connections,
                    m,
                    m == Mode.BATCH ? batch : 1,
                    documents,
                    duration,
                    warmup,
                    eventBytes,
                    stream,
                    expect,
                    maxRequests,
                    label.isBlank() ? "loadgen" : label.strip().replaceAll("\\s+", "_"),
                    rate,
                    trustFile);
        }

        private static int intArg(String name, String v, int min, int max) {
            long n = longArg(name, v);
            if (n < min || n > max) {
                throw new IllegalArgumentException("--" + name + " must be in [" + min + ", " + max + "], not " + v);
            }
            return (int) n;
        }

        private static long longArg(String name, String v) {
            try {
                long n = Long.parseLong(v.strip());
                if (n < 0) {
                    throw new IllegalArgumentException("--" + name + " must not be negative");
                }
                return n;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--" + name + " needs an integer, not " + v);
            }
        }

        private static double doubleArg(String name, String v, double min) {
            try {
                double d = Double.parseDouble(v.strip());
                if (!(d >= min) || d > 86_400) {
                    throw new IllegalArgumentException("--" + name + " must be in [" + min + ", 86400], not " + v);
                }
                return d;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--" + name + " needs a number, not " + v);
            }
        }

        boolean batchMode() {
            return mode == Mode.BATCH;
        }

        /** A status that counts as success. */
        boolean expected(int status) {
            return status == expectStatus || (mode == Mode.STATE_PUT && expectStatus == 200 && status == 201);
        }

        /** State modes: the namespace base path without a trailing slash (no query). */
        String statePath() {
            String p = url.getRawPath() == null ? "" : url.getRawPath();
            while (p.endsWith("/")) {
                p = p.substring(0, p.length() - 1);
            }
            return p;
        }

        String path() {
            String p = url.getRawPath();
            if (p == null || p.isEmpty()) {
                p = "/";
            }
            return url.getRawQuery() == null ? p : p + "?" + url.getRawQuery();
        }

        int port() {
            return url.getPort() >= 0 ? url.getPort() : https() ? 443 : 80;
        }

        boolean https() {
            return "https".equalsIgnoreCase(url.getScheme());
        }

        /** Sockets for an https:// URL (trusting --trust-file, or the JDK's defaults); null for http. */
        javax.net.ssl.SSLSocketFactory tls() {
            if (!https()) {
                return null;
            }
            try {
                return (trustFile == null
                                ? javax.net.ssl.SSLContext.getDefault()
                                : dev.outpost.edge.config.Tls.trustContext(trustFile))
                        .getSocketFactory();
            } catch (java.security.NoSuchAlgorithmException | dev.outpost.edge.config.ConfigException e) {
                throw new IllegalArgumentException("--trust-file: " + e.getMessage());
            }
        }

        String hostHeader() {
            return url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort());
        }
    }

    /** Totals of a run. */
    record Result(
            Options options,
            long requests,
            long events,
            long errors,
            long warmupErrors,
            double seconds,
            LatencyHistogram latency,
            Map<String, Long> errorKinds) {

        double eventsPerSecond() {
            return seconds > 0 ? events / seconds : 0;
        }

        double requestsPerSecond() {
            return seconds > 0 ? requests / seconds : 0;
        }

        String summary() {
            Options o = options;
            String s = String.format(
                    Locale.ROOT,
                    "label=%s mode=%s connections=%d batch=%d event_bytes=%d requests=%d events=%d errors=%d"
                            + " warmup_errors=%d seconds=%.3f events_per_s=%.0f requests_per_s=%.0f"
                            + " p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f mean_ms=%.3f",
                    o.label(),
                    o.mode().cli,
                    o.connections(),
                    o.batch(),
                    o.eventBytes(),
                    requests,
                    events,
                    errors,
                    warmupErrors,
                    seconds,
                    eventsPerSecond(),
                    requestsPerSecond(),
                    latency.quantileNanos(0.50) / 1e6,
                    latency.quantileNanos(0.99) / 1e6,
                    latency.quantileNanos(0.999) / 1e6,
                    latency.maxNanos() / 1e6,
                    latency.meanNanos() / 1e6);
            return o.mode().state() ? s + " documents=" + o.documents() : s;
        }
    }

    /** Runs the load and returns its totals. */
    static Result execute(Options o) {
        InetAddress host;
        try {
            host = InetAddress.getByName(o.url().getHost());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot resolve " + o.url().getHost() + ": " + e.getMessage());
        }
        if (!host.isLoopbackAddress()) {
            throw new IllegalArgumentException("refusing to target a non-loopback address: " + host);
        }
        HttpConnection.Target address = new HttpConnection.Target(
                new InetSocketAddress(host, o.port()), o.tls(), o.url().getHost());
        byte[][] pool = switch (o.mode()) {
            case SINGLE, BATCH ->
                Payloads.requests(
                        "POST", o.hostHeader(), o.path(), o.batchMode(), o.batch(), o.stream(), o.eventBytes());
            case STATE_PUT -> Payloads.statePuts(o.hostHeader(), o.statePath(), o.documents(), o.eventBytes(), 42);
            case STATE_GET -> Payloads.stateGets(o.hostHeader(), o.statePath(), o.documents());
        };
        if (o.mode() == Mode.STATE_GET) {
            createDocuments(o, address);
        }

        long start = System.nanoTime();
        Shared shared = new Shared(o, start);
        List<Worker> workers = new ArrayList<>(o.connections());
        CountDownLatch done = new CountDownLatch(o.connections());
        for (int i = 0; i < o.connections(); i++) {
            // State modes spread the connections evenly over the documents; the others keep their offsets.
            int first = o.mode().state() ? (int) ((long) i * pool.length / o.connections()) : (i * 7) % pool.length;
            Worker w = new Worker(shared, address, pool, first, done);
            workers.add(w);
            Thread t = new Thread(w, "loadgen-" + i);
            t.setDaemon(true);
            w.thread = t;
            t.start();
        }
        try {
            // Workers stop by themselves at the end of the window (or at --max-requests); a request in
            // flight then waits at most the socket read timeout. Past that, close their sockets.
            long graceNanos = TimeUnit.MILLISECONDS.toNanos(HttpConnection.READ_TIMEOUT_MS + 2_000);
            long waitNanos = shared.measureEnd + graceNanos - System.nanoTime();
            if (!done.await(Math.max(0, waitNanos), TimeUnit.NANOSECONDS)) {
                shared.stop = true;
                for (Worker w : workers) {
                    w.abort();
                }
                done.await(2, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shared.stop = true;
            for (Worker w : workers) {
                w.abort();
            }
        }
        shared.stop = true;

        LatencyHistogram latency = new LatencyHistogram();
        long requests = 0;
        long errors = 0;
        long warmupErrors = 0;
        // The latch orders the workers' writes before these reads (a worker that never finished is
        // read racily, which is fine for a report).
        for (Worker w : workers) {
            latency.merge(w.latency);
            requests += w.requests;
            errors += w.errors;
            warmupErrors += w.warmupErrors;
        }
        long end = shared.maxReachedAt.get();
        double seconds = (end > 0
                        ? Math.min(end, shared.measureEnd) - shared.measureStart
                        : shared.measureEnd - shared.measureStart)
                / 1e9;
        Map<String, Long> kinds = new TreeMap<>();
        shared.errorKinds.forEach((k, v) -> kinds.put(k, v.sum()));
        return new Result(o, requests, requests * o.batch(), errors, warmupErrors, seconds, latency, kinds);
    }

    /**
     * state-get: creates documents d-0 .. d-(N-1) with one PUT each (up to 4 connections in
     * parallel), before the measured run; any status but 200/201 or an I/O error fails the setup.
     */
    static void createDocuments(Options o, HttpConnection.Target address) {
        byte[][] puts = Payloads.statePuts(o.hostHeader(), o.statePath(), o.documents(), o.eventBytes(), 7);
        int threads = Math.min(Math.min(4, o.connections()), o.documents());
        ConcurrentHashMap<String, LongAdder> failures = new ConcurrentHashMap<>();
        List<Thread> started = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            final int from = t;
            Thread th = new Thread(
                    () -> {
                        HttpConnection c = null;
                        try {
                            for (int d = from; d < o.documents(); d += threads) {
                                if (c == null) {
                                    c = new HttpConnection(address);
                                }
                                int status = c.exchange(puts[d]);
                                if (status != 200 && status != 201) {
                                    failures.computeIfAbsent("status " + status, k -> new LongAdder())
                                            .increment();
                                }
                                if (c.closeAfter) {
                                    c.close();
                                    c = null;
                                }
                            }
                        } catch (IOException e) {
                            failures.computeIfAbsent("io: " + e, k -> new LongAdder())
                                    .increment();
                        } finally {
                            if (c != null) {
                                c.close();
                            }
                        }
                    },
                    "loadgen-setup-" + t);
            th.setDaemon(true);
            started.add(th);
            th.start();
        }
        try {
            for (Thread th : started) {
                th.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted while creating the documents");
        }
        if (!failures.isEmpty()) {
            Map<String, Long> kinds = new TreeMap<>();
            failures.forEach((k, v) -> kinds.put(k, v.sum()));
            throw new SetupException("creating the " + o.documents() + " documents failed: " + kinds);
        }
    }

    /** State shared by the workers. */
    static final class Shared {
        final Options options;
        final long measureStart;
        final long measureEnd;
        final AtomicLong measured = new AtomicLong();
        final AtomicLong maxReachedAt = new AtomicLong();
        final ConcurrentHashMap<String, LongAdder> errorKinds = new ConcurrentHashMap<>();
        volatile boolean stop;

        Shared(Options o, long start) {
            this.options = o;
            this.measureStart = start + (long) (o.warmupSeconds() * 1e9);
            this.measureEnd = measureStart + (long) (o.durationSeconds() * 1e9);
        }

        void errorKind(String kind) {
            if (errorKinds.size() < 64 || errorKinds.containsKey(kind)) {
                errorKinds.computeIfAbsent(kind, k -> new LongAdder()).increment();
            }
        }
    }

    /** One connection's send loop. */
    static final class Worker implements Runnable {
        private static final long RECONNECT_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

        private final Shared shared;
        private final HttpConnection.Target address;
        private final byte[][] pool;
        private final CountDownLatch done;
        private int next;
        private volatile HttpConnection conn;
        Thread thread;

        final LatencyHistogram latency = new LatencyHistogram();
        long requests;
        long errors;
        long warmupErrors;

        Worker(Shared shared, HttpConnection.Target address, byte[][] pool, int first, CountDownLatch done) {
            this.shared = shared;
            this.address = address;
            this.pool = pool;
            this.next = first;
            this.done = done;
        }

        @Override
        public void run() {
            try {
                loop();
            } catch (RuntimeException e) {
                error("bug: " + e, System.nanoTime());
            } finally {
                HttpConnection c = conn;
                if (c != null) {
                    c.close();
                }
                done.countDown();
            }
        }

        private void loop() {
            final Options options = shared.options;
            final long max = shared.options.maxRequests();
            // --rate R: each of N connections sends one request every N / R seconds (steady, not bursty).
            final long pacingNanos =
                    options.ratePerSecond() > 0 ? (long) (options.connections() * 1e9 / options.ratePerSecond()) : 0;
            long nextAt = System.nanoTime();
            while (!shared.stop && System.nanoTime() < shared.measureEnd) {
                if (pacingNanos > 0) {
                    long wait = nextAt - System.nanoTime();
                    if (wait > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                    nextAt += pacingNanos;
                }
                HttpConnection c = conn;
                if (c == null) {
                    try {
                        c = new HttpConnection(address);
                        conn = c;
                    } catch (IOException e) {
                        if (!shared.stop) {
                            error("connect: " + e.getClass().getSimpleName(), System.nanoTime());
                            pause();
                        }
                        continue;
                    }
                }
                byte[] request = pool[next];
                next = next + 1 == pool.length ? 0 : next + 1;
                long t0 = System.nanoTime();
                int status;
                try {
                    status = c.exchange(request);
                } catch (IOException e) {
                    c.close();
                    conn = null;
                    if (!shared.stop) {
                        error("io: " + e.getClass().getSimpleName(), System.nanoTime());
                        pause();
                    }
                    continue;
                }
                long t1 = System.nanoTime();
                if (c.closeAfter) {
                    c.close();
                    conn = null;
                }
                if (t1 >= shared.measureEnd) {
                    break;
                }
                if (!options.expected(status)) {
                    error("status " + status, t1);
                    continue;
                }
                if (t1 < shared.measureStart) {
                    continue;
                }
                if (max > 0) {
                    long n = shared.measured.incrementAndGet();
                    if (n > max) {
                        shared.stop = true;
                        break;
                    }
                    if (n == max) {
                        shared.maxReachedAt.compareAndSet(0, t1);
                        shared.stop = true;
                    }
                }
                requests++;
                latency.record(t1 - t0);
            }
        }

        private void error(String kind, long at) {
            if (at >= shared.measureEnd) {
                return;
            }
            if (at < shared.measureStart) {
                warmupErrors++;
            } else {
                errors++;
            }
            shared.errorKind(kind);
        }

        private void pause() {
            long until = Math.min(System.nanoTime() + RECONNECT_PAUSE_NANOS, shared.measureEnd);
            long left;
            while (!shared.stop && (left = until - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    shared.stop = true;
                }
            }
        }

        /** Unblocks a worker stuck in I/O. */
        void abort() {
            HttpConnection c = conn;
            if (c != null) {
                c.close();
            }
            Thread t = thread;
            if (t != null) {
                t.interrupt();
            }
        }
    }
}

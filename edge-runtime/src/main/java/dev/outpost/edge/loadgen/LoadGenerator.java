package dev.outpost.edge.loadgen;

import dev.outpost.edge.loadgen.DocumentSetup.SetupException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

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
 * <p>{@code --mode fleet} is another tool behind the same command: {@link FleetRun} (simulated nodes pushing their
 * backlogs to hubs with the sync protocol), with its own options.
 *
 * <p>Exit codes: 0 ok; 1 no successful request or any error; 2 bad arguments.
 *
 * <p>The parts: {@link Options} (the command line), {@link DocumentSetup} (state-get's documents),
 * {@link Worker} (one connection's send loop), {@link Result} (totals and the summary line); this
 * class resolves the target, starts the workers, ends the run and adds up their counts.
 */
public final class LoadGenerator {

    static final String USAGE = """
      usage: outpost loadgen [--name value ...]
        --url URL                 http://127.0.0.1:7070/v1/events (loopback only; https:// too)
        --trust-file PEM          https: certificates to trust (default: the JDK's); host names are verified
        --connections N           keep-alive connections, one thread each (50)
        --mode MODE               single: one JSON event per POST; batch: NDJSON batches;
                                  state-put / state-get: PUT / GET state documents under
                                  --url (http://127.0.0.1:7070/v1/state/NAMESPACE) (single);
                                  fleet: many nodes push backlogs to hubs (--mode fleet --help)
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
        --sse-subscribers N       also hold N SSE subscribers tailing --stream (GET /v1/events/tail) and
                                  report delivery latency from append to receipt (0)
        --ws-subscribers N        the same over WebSocket (GET /v1/ws, one subscription each) (0)
      """;

    private LoadGenerator() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the generator with CLI arguments; returns a process exit code. */
    public static int run(String[] args) {
        return run(args, System.out, System.err);
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (FleetOptions.chosen(args)) {
            return FleetRun.run(args, out, err);
        }
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
        if (!r.errorKinds().isEmpty()) {
            err.println("loadgen: errors by kind: " + r.errorKinds());
        }
        return r.requests() > 0 && r.errors() == 0 ? 0 : 1;
    }

    /** Runs the load and returns its totals. */
    static Result execute(Options o) {
        HttpConnection.Target address = target(o);
        byte[][] pool = switch (o.mode()) {
            case SINGLE, BATCH ->
                Payloads.requests(
                        "POST", o.hostHeader(), o.path(), o.batchMode(), o.batch(), o.stream(), o.eventBytes());
            case STATE_PUT -> Payloads.statePuts(o.hostHeader(), o.statePath(), o.documents(), o.eventBytes(), 42);
            case STATE_GET -> Payloads.stateGets(o.hostHeader(), o.statePath(), o.documents());
        };
        if (o.mode() == Mode.STATE_GET) {
            DocumentSetup.createDocuments(o, address);
        }

        Subscribers subscribers = null;
        if (o.sseSubscribers() + o.wsSubscribers() > 0) {
            // Subscribed before the load starts; their window is the workers' (set below, from the same start).
            subscribers = Subscribers.start(o, address, new Worker.Shared(o, System.nanoTime()));
        }
        long start = System.nanoTime();
        Worker.Shared shared = new Worker.Shared(o, start);
        if (subscribers != null) {
            subscribers.window(shared);
        }
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
        awaitEnd(shared, workers, done);
        Result r = totals(o, shared, workers);
        return subscribers == null ? r : r.withSubscribers(subscribers.stop());
    }

    /** The loopback address to load; a name that does not resolve to loopback is a bad argument. */
    private static HttpConnection.Target target(Options o) {
        InetAddress host;
        try {
            host = InetAddress.getByName(o.url().getHost());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot resolve " + o.url().getHost() + ": " + e.getMessage());
        }
        if (!host.isLoopbackAddress()) {
            throw new IllegalArgumentException("refusing to target a non-loopback address: " + host);
        }
        return new HttpConnection.Target(
                new InetSocketAddress(host, o.port()), o.tls(), o.url().getHost());
    }

    /** Waits for the workers to finish the window, aborting those still stuck in I/O past a grace time. */
    private static void awaitEnd(Worker.Shared shared, List<Worker> workers, CountDownLatch done) {
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
    }

    /** Adds up the workers' counts over the measured time (cut short at --max-requests). */
    private static Result totals(Options o, Worker.Shared shared, List<Worker> workers) {
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
}

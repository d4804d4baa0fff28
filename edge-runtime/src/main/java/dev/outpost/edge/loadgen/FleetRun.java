package dev.outpost.edge.loadgen;

import dev.outpost.compress.FrameCodec;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The load generator's fleet mode: many nodes come back at once after an outage, each with a backlog, and push it to
 * one or several hubs with the edge's protocol ({@link SimulatedNode}); the run ends when every backlog is
 * acknowledged (or at --timeout-seconds) and prints one {@code key=value} summary line ({@link FleetTally}).
 *
 * <p>Design note. A node is a virtual thread, not a platform one: 5,000 nodes are 5,000 small stacks parked on a
 * semaphore or a socket, while the connections to each hub are bounded by --hub-concurrency ({@link FleetLink}).
 * Encoding runs on a fixed pool of platform threads (one per core), before the run where it can (--pre-encode).
 * Exit codes: 0 every backlog acknowledged (and, with --verify, read back from the hubs); 1 not; 2 bad arguments.
 */
final class FleetRun {
    static final String USAGE = """
      usage: outpost loadgen --mode fleet [--name value ...]
        --hubs URL[,URL...]       hubs' base URLs, loopback (http://127.0.0.1:7070); nodes are spread over
                                  them and a node answered 503 tries the others
        --nodes N                 simulated nodes (100)
        --events-per-node K       each node's backlog (200)
        --high-percent P          share of each node's events in lane high, the rest normal (0)
        --event-bytes N           approximate size of each event's JSON (200)
        --batch N                 most records per push, as sync.batch_records_max (5000)
        --hub-concurrency N       most requests in flight (connections) per hub address (64)
        --start-jitter-millis MS  each node starts at a uniform random time in [0, MS] (2000)
        --backoff-base-millis MS  after an error: full-jitter backoff from MS (200) ...
        --backoff-cap-millis MS   ... up to MS (30000)
        --timeout-seconds S       give up after S seconds (600)
        --nodes-file YAML         take the nodes from a hub's YAML (hub.nodes) instead of generating them
        --print-hub-nodes         print the generated nodes as a 'nodes:' fragment of a hub section, and exit
        --pre-encode BOOL         encode the backlogs before the run (true)
        --verify                  afterwards, read every node lane's cursor back from the hubs and check it
        --seed N                  seed of tokens, payloads and jitter (42)
        --label TEXT              label of the summary line (fleet)
      """;

    /** A finished run: its counts and summary line, whether every backlog was acknowledged, and read back. */
    record Result(FleetTally tally, String summary, boolean acknowledgedAll, Boolean verified) {
        boolean ok() {
            return acknowledgedAll && (verified == null || verified);
        }
    }

    private FleetRun() {}

    static int run(String[] args, PrintStream out, PrintStream err) {
        FleetOptions o;
        try {
            o = FleetOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("loadgen: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        if (o == null) {
            out.print(USAGE);
            return 0;
        }
        if (o.printHubNodes()) {
            FleetNodes.printHubNodes(FleetNodes.generate(o.nodes(), o.seed()), out);
            return 0;
        }
        Result r;
        try {
            r = execute(o);
        } catch (IllegalArgumentException e) {
            err.println("loadgen: " + e.getMessage());
            return 2;
        }
        out.println(r.summary());
        out.flush();
        if (r.tally().firstError != null) {
            err.println("loadgen: first error: " + r.tally().firstError);
        }
        return r.ok() ? 0 : 1;
    }

    /** Runs the fleet and returns what it counted. */
    static Result execute(FleetOptions o) {
        List<FleetNodes.Identity> ids = o.nodesFile() == null
                ? FleetNodes.generate(o.nodes(), o.seed())
                : FleetNodes.read(o.nodesFile(), o.nodes());
        int cores = Runtime.getRuntime().availableProcessors();
        ExecutorService encoders =
                Executors.newFixedThreadPool(cores, Thread.ofPlatform().daemon().factory());
        FrameCodec codec = new FrameCodec();
        try (FleetLink link = new FleetLink(o.hubs(), o.hubConcurrency())) {
            long baseMillis = System.currentTimeMillis();
            List<NodeBacklog> backlogs = new ArrayList<>(ids.size());
            for (int i = 0; i < ids.size(); i++) {
                backlogs.add(new NodeBacklog(i, o, baseMillis));
            }
            if (o.preEncode()) {
                preEncode(encoders, codec, ids, backlogs);
            }
            long start = System.nanoTime();
            FleetTally tally = new FleetTally(o.hubs().size(), start, start + (long) (o.timeoutSeconds() * 1e9));
            List<SimulatedNode> nodes = new ArrayList<>(ids.size());
            for (int i = 0; i < ids.size(); i++) {
                nodes.add(new SimulatedNode(i, ids.get(i), backlogs.get(i), link, tally, encoders, codec, o));
            }
            runAll(nodes, SimulatedNode::run);
            long end = tally.lastDrainNanos.get() > 0 && tally.drained.sum() == o.nodes()
                    ? tally.lastDrainNanos.get()
                    : System.nanoTime();
            String summary = tally.summary(o, end);
            Boolean verified = null;
            if (o.verify()) {
                AtomicInteger bad = new AtomicInteger();
                runAll(nodes, n -> {
                    if (!n.verify()) {
                        bad.incrementAndGet();
                    }
                });
                verified = bad.get() == 0;
                summary += " verified=" + verified + " unverified_nodes=" + bad.get();
            }
            return new Result(tally, summary, tally.drained.sum() == o.nodes(), verified);
        } finally {
            encoders.shutdownNow();
        }
    }

    /** Encodes every node's first batches on the encoder pool; returns when all are done. */
    private static void preEncode(
            ExecutorService encoders, FrameCodec codec, List<FleetNodes.Identity> ids, List<NodeBacklog> backlogs) {
        List<Future<?>> done = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            NodeBacklog b = backlogs.get(i);
            String node = ids.get(i).id();
            done.add(encoders.submit(() -> b.preEncode(codec, node)));
        }
        for (Future<?> f : done) {
            try {
                f.get();
            } catch (Exception e) {
                throw new IllegalStateException("pre-encoding the backlogs failed", e);
            }
        }
    }

    /** What each node does, on its own virtual thread. */
    private interface NodeTask {
        void run(SimulatedNode n) throws InterruptedException;
    }

    /** Runs {@code task} for every node, each on a virtual thread; returns when all are done. */
    private static void runAll(List<SimulatedNode> nodes, NodeTask task) {
        try (ExecutorService vt = Executors.newVirtualThreadPerTaskExecutor()) {
            for (SimulatedNode n : nodes) {
                vt.submit(() -> {
                    task.run(n);
                    return null;
                });
            }
            vt.shutdown();
            if (!vt.awaitTermination(1, TimeUnit.DAYS)) {
                vt.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

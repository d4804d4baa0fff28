package dev.outpost.edge.loadgen;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The command line of the load generator's fleet mode ({@link FleetRun#USAGE}): checked as it is read, in argument
 * order, then as a whole; any problem is an {@link IllegalArgumentException} naming the option.
 *
 * @param hubs the hubs' base URLs (loopback only)
 * @param nodes how many simulated nodes
 * @param eventsPerNode each node's backlog, events
 * @param highPercent share of each node's events in lane high (the rest are in lane normal), percent
 * @param eventBytes approximate size of each event's JSON
 * @param batchRecordsMax most records per push (the edge's sync.batch_records_max)
 * @param hubConcurrency most requests in flight per hub address (each holds one connection)
 * @param startJitterMillis each node's first request is at a uniform random time in [0, this] (the edge's backoff)
 * @param backoffBaseMillis backoff after an error: full jitter from this ...
 * @param backoffCapMillis ... up to this
 * @param timeoutSeconds give up (and report what drained) after this long
 * @param nodesFile the hub's {@code hub.nodes} as YAML to take the nodes from (null: generate them)
 * @param printHubNodes print the generated {@code hub.nodes} YAML fragment and exit
 * @param preEncode encode every node's first batches before the run (the nodes are other machines)
 * @param verify at the end, read back every node lane's cursor from the hubs and check it covers the backlog
 * @param label label of the summary line
 * @param seed the seed of node tokens, payloads and jitter
 */
record FleetOptions(
        List<URI> hubs,
        int nodes,
        int eventsPerNode,
        int highPercent,
        int eventBytes,
        int batchRecordsMax,
        int hubConcurrency,
        long startJitterMillis,
        long backoffBaseMillis,
        long backoffCapMillis,
        double timeoutSeconds,
        Path nodesFile,
        boolean printHubNodes,
        boolean preEncode,
        boolean verify,
        String label,
        long seed) {

    /** Most simulated nodes. */
    static final int NODES_MAX = 1_000_000;

    /** Returns null for --help. {@code --mode fleet} is accepted (it is how this mode was chosen). */
    static FleetOptions parse(String[] args) {
        Values v = new Values();
        if (!Arguments.scan(args, Set.of("print-hub-nodes", "verify"), v::set)) {
            return null;
        }
        return v.options();
    }

    /** True if {@code args} choose the fleet mode ({@code --mode fleet} or {@code --mode=fleet}). */
    static boolean chosen(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--mode=fleet")
                    || args[i].equals("--mode") && i + 1 < args.length && args[i + 1].equals("fleet")) {
                return true;
            }
        }
        return false;
    }

    /** The options as read so far, starting from the defaults. */
    private static final class Values {
        String hubs = "http://127.0.0.1:7070";
        int nodes = 100;
        int events = 200;
        int high = 0;
        int eventBytes = 200;
        int batch = 5000;
        int concurrency = 64;
        long jitter = 2000;
        long base = 200;
        long cap = 30_000;
        double timeout = 600;
        Path nodesFile;
        boolean print;
        boolean preEncode = true;
        boolean verify;
        String label = "fleet";
        long seed = 42;

        void set(String name, String value) {
            switch (name) {
                case "mode" -> {
                    if (!value.equals("fleet")) {
                        throw new IllegalArgumentException("--mode fleet takes no other mode");
                    }
                }
                case "hubs", "url" -> hubs = value;
                case "nodes" -> nodes = intArg(name, value, 1, NODES_MAX);
                case "events-per-node" -> events = intArg(name, value, 1, 100_000_000);
                case "high-percent" -> high = intArg(name, value, 0, 100);
                case "event-bytes" -> eventBytes = intArg(name, value, 16, 1 << 20);
                case "batch" -> batch = intArg(name, value, 1, 100_000);
                case "hub-concurrency" -> concurrency = intArg(name, value, 1, 10_000);
                case "start-jitter-millis" -> jitter = intArg(name, value, 0, 3_600_000);
                case "backoff-base-millis" -> base = intArg(name, value, 1, 60_000);
                case "backoff-cap-millis" -> cap = intArg(name, value, 1, 3_600_000);
                case "timeout-seconds" -> timeout = doubleArg(name, value);
                case "nodes-file" -> nodesFile = Path.of(value);
                case "print-hub-nodes" -> print = boolArg(name, value);
                case "pre-encode" -> preEncode = boolArg(name, value);
                case "verify" -> verify = boolArg(name, value);
                case "label" ->
                    label = value.isBlank() ? "fleet" : value.strip().replaceAll("\\s+", "_");
                case "seed" -> seed = intArg(name, value, 0, Integer.MAX_VALUE);
                default -> throw new IllegalArgumentException("unknown option --" + name + " (fleet mode)");
            }
        }

        FleetOptions options() {
            if (base > cap) {
                throw new IllegalArgumentException("--backoff-base-millis must not exceed --backoff-cap-millis");
            }
            return new FleetOptions(
                    hubUris(hubs),
                    nodes,
                    events,
                    high,
                    eventBytes,
                    batch,
                    concurrency,
                    jitter,
                    base,
                    cap,
                    timeout,
                    nodesFile,
                    print,
                    preEncode,
                    verify,
                    label,
                    seed);
        }
    }

    /** The comma-separated hub URLs, each http(s)://host[:port] on loopback. */
    private static List<URI> hubUris(String list) {
        List<URI> out = new ArrayList<>();
        for (String s : list.split(",")) {
            URI u;
            try {
                u = new URI(s.strip());
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("bad --hubs URL " + s + ": " + e.getMessage());
            }
            if (!("http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme()))
                    || u.getHost() == null) {
                throw new IllegalArgumentException("--hubs must be http(s)://host[:port],..., not " + s);
            }
            try {
                if (!InetAddress.getByName(u.getHost()).isLoopbackAddress()) {
                    throw new IllegalArgumentException("refusing to target a non-loopback hub: " + s);
                }
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("cannot resolve the host of --hubs " + s);
            }
            out.add(URI.create(u.getScheme() + "://" + u.getRawAuthority() + "/"));
        }
        return List.copyOf(out);
    }

    private static int intArg(String name, String v, long min, long max) {
        long n;
        try {
            n = Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs an integer, not " + v);
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException("--" + name + " must be in [" + min + ", " + max + "], not " + v);
        }
        return (int) n;
    }

    private static double doubleArg(String name, String v) {
        try {
            double d = Double.parseDouble(v.strip());
            if (!(d > 0) || d > 86_400) {
                throw new IllegalArgumentException("--" + name + " must be in (0, 86400], not " + v);
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs a number, not " + v);
        }
    }

    private static boolean boolArg(String name, String v) {
        return switch (v.strip()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("--" + name + " must be true or false, not " + v);
        };
    }
}

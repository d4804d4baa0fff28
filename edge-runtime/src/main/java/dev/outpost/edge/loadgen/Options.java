package dev.outpost.edge.loadgen;

import dev.outpost.edge.config.ConfigException;
import dev.outpost.edge.config.Tls;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;

/**
 * The load generator's parsed command line ({@link LoadGenerator#USAGE}). Parsing checks each value
 * as it is read, in argument order, then the combination (mode, stream, URL, trust file); any
 * problem is an {@link IllegalArgumentException} whose message names the option.
 */
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
        Path trustFile,
        int sseSubscribers,
        int wsSubscribers) {

    /** Returns null for --help. */
    static Options parse(String[] args) {
        Values v = new Values();
        if (!Arguments.scan(args, Set.of(), v::set)) {
            return null;
        }
        return v.options();
    }

    /** The options as read so far, starting from the defaults. */
    private static final class Values {
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
        Path trustFile = null;
        int sseSubscribers = 0;
        int wsSubscribers = 0;

        void set(String name, String value) {
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
                case "trust-file" -> trustFile = Path.of(value);
                case "sse-subscribers" -> sseSubscribers = intArg(name, value, 0, 100_000);
                case "ws-subscribers" -> wsSubscribers = intArg(name, value, 0, 100_000);
                default -> throw new IllegalArgumentException("unknown option --" + name);
            }
        }

        /** Checks the combination and builds the options. */
        Options options() {
            Mode m = Mode.of(mode);
            if (stream.isEmpty()) {
                throw new IllegalArgumentException("--stream must not be empty");
            }
            URI uri = uri(url);
            if (sseSubscribers + wsSubscribers > 0 && "https".equalsIgnoreCase(uri.getScheme())) {
                throw new IllegalArgumentException("--sse-subscribers and --ws-subscribers need an http:// --url");
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
                    trustFile,
                    sseSubscribers,
                    wsSubscribers);
        }
    }

    private static URI uri(String url) {
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
        return uri;
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
    SSLSocketFactory tls() {
        if (!https()) {
            return null;
        }
        try {
            return (trustFile == null ? SSLContext.getDefault() : Tls.trustContext(trustFile)).getSocketFactory();
        } catch (NoSuchAlgorithmException | ConfigException e) {
            throw new IllegalArgumentException("--trust-file: " + e.getMessage());
        }
    }

    String hostHeader() {
        return url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort());
    }
}

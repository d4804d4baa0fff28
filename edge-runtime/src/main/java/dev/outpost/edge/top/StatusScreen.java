package dev.outpost.edge.top;

import dev.outpost.store.json.JsonTree;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code outpost top}: a terminal view of a running agent, refreshed every second like {@code vector top} — the
 * governor's level and each dimension's pressure, ingest, sync and engine rates, each lane's backlog, the data at risk,
 * the sync link and the governor's recent actions. It reads what any client can ({@code /v1/governor}, {@code
 * /v1/sync/status}, {@code /metrics}), so it needs nothing of the agent but its address (and its token). Rates are the
 * counters' change between two samples divided by the time between them. On a terminal it redraws in place; with
 * {@code --once}, or when the output is not a terminal, it prints frames one after another.
 */
public final class StatusScreen {
    /** Longest wait for one answer of the agent, milliseconds. */
    static final long REQUEST_TIMEOUT_MILLIS = 2_000;

    private static final String USAGE = """
            usage: outpost top [--url URL] [--token TOKEN] [--interval-millis N] [--once]
              --url URL             the agent (default http://127.0.0.1:7070)
              --token TOKEN         its http.api_token, if it has one (default: $OUTPOST_API_TOKEN)
              --interval-millis N   time between refreshes (default 1000, at least 100)
              --once                print one frame (two samples, one interval apart, for the rates) and exit
            """;

    /** What the agent said at one moment. */
    record Sample(Map<?, ?> governor, Map<?, ?> sync, Map<String, Double> metrics, long nanos) {}

    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofMillis(REQUEST_TIMEOUT_MILLIS))
            .build();
    private final String url;
    private final String token;

    StatusScreen(String url, String token) {
        this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.token = token;
    }

    /** The command: returns the exit code (0, 1 when the agent cannot be reached, 2 for a bad command line). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        String url = "http://127.0.0.1:7070";
        String token = System.getenv("OUTPOST_API_TOKEN");
        long interval = 1_000;
        boolean once = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--url" -> url = args[++i];
                    case "--token" -> token = args[++i];
                    case "--interval-millis" -> interval = Math.max(100, Long.parseLong(args[++i]));
                    case "--once" -> once = true;
                    case "--help", "-h" -> {
                        out.print(USAGE);
                        return 0;
                    }
                    default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
                }
            }
        } catch (ArrayIndexOutOfBoundsException | IllegalArgumentException e) {
            err.println("outpost top: "
                    + (e instanceof ArrayIndexOutOfBoundsException ? "an option lacks its value" : e.getMessage())
                    + "; options: --url, --token, --interval-millis, --once");
            return 2;
        }
        return new StatusScreen(url, token).loop(out, err, interval, once || System.console() == null ? 1 : -1, once);
    }

    /** Samples and draws {@code frames} frames (-1: until interrupted). */
    int loop(PrintStream out, PrintStream err, long intervalMillis, int frames, boolean once) {
        boolean terminal = !once && System.console() != null;
        try {
            Sample previous = sample();
            for (int n = 0; frames < 0 || n < frames; n++) {
                Thread.sleep(intervalMillis);
                Sample now = sample();
                out.print((terminal ? "\033[H\033[2J" : "") + render(previous, now));
                out.flush();
                previous = now;
            }
            return 0;
        } catch (IOException e) {
            err.println("outpost top: cannot read " + url + ": " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    Sample sample() throws IOException, InterruptedException {
        Map<?, ?> governor = (Map<?, ?>) json(get("/v1/governor"));
        Map<?, ?> sync = (Map<?, ?>) json(get("/v1/sync/status"));
        return new Sample(governor, sync, metrics(get("/metrics")), System.nanoTime());
    }

    private byte[] get(String path) throws IOException, InterruptedException {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofMillis(REQUEST_TIMEOUT_MILLIS));
        if (token != null && !token.isEmpty()) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IOException(path + " answered " + r.statusCode()
                    + (r.statusCode() == 401 ? " (give --token or set OUTPOST_API_TOKEN)" : ""));
        }
        return r.body();
    }

    private static Object json(byte[] body) throws IOException {
        try {
            return JsonTree.parse(body, 0, body.length);
        } catch (RuntimeException e) {
            throw new IOException("not JSON: " + e.getMessage(), e);
        }
    }

    /** The Prometheus text format's samples, by name with labels. */
    static Map<String, Double> metrics(byte[] body) {
        Map<String, Double> m = new HashMap<>();
        for (String line : new String(body, StandardCharsets.UTF_8).split("\n")) {
            int space = line.lastIndexOf(' ');
            if (line.isEmpty() || line.startsWith("#") || space < 0) {
                continue;
            }
            try {
                m.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            } catch (NumberFormatException e) {
                // not a sample line: skipped
            }
        }
        return m;
    }

    /** One frame of text. */
    String render(Sample before, Sample now) {
        return new Frame(url, before, now).text();
    }

    static String number(double v) {
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    static List<String> lanes() {
        return List.of("critical", "high", "normal", "bulk");
    }
}

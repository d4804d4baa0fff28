package dev.outpost.sync;

import dev.outpost.sync.wire.SyncProtocol;
import dev.outpost.sync.wire.WireException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * The HTTP link to one hub, shared by push and pull: HTTP/1.1, this node's credentials on every
 * request, bounded timeouts, and failures described for an operator: each names the hub's host
 * and port and the reason ("cannot connect to hub at 10.0.0.5:7443: connection refused"), never
 * just an exception's class.
 */
final class HubClient implements AutoCloseable {
    /** Longest wait for a connection, milliseconds: a hub that does not accept within it counts as down. */
    static final long CONNECT_TIMEOUT_MILLIS_MAX = 5000;

    /** Most characters of a hub's answer quoted in an error. */
    static final int BODY_EXCERPT_CHARS = 300;

    /** Longest Retry-After obeyed, in seconds (a hub asking for more is capped here). */
    static final long RETRY_AFTER_SECONDS_MAX = 300;

    private final URI hub;
    private final String node;
    private final String token;
    private final long requestTimeoutMillis;
    private final long connectTimeoutMillis;
    private final HttpClient http;

    /**
     * @param connectTimeoutMillis longest wait for a connection (capped at {@value #CONNECT_TIMEOUT_MILLIS_MAX})
     * @param requestTimeoutMillis timeout of a request made with {@link #request(String)}
     * @param sslContext trusted certificates for an https:// hub, or null for the JDK's default;
     *     hostname verification stays on
     */
    HubClient(
            URI hub,
            String node,
            String token,
            long connectTimeoutMillis,
            long requestTimeoutMillis,
            SSLContext sslContext) {
        this.hub = hub;
        this.node = node;
        this.token = token;
        this.requestTimeoutMillis = requestTimeoutMillis;
        this.connectTimeoutMillis = Math.min(connectTimeoutMillis, CONNECT_TIMEOUT_MILLIS_MAX);
        HttpClient.Builder b = HttpClient.newBuilder()
                .connectTimeout(Duration.ofMillis(this.connectTimeoutMillis))
                .version(HttpClient.Version.HTTP_1_1);
        if (sslContext != null) {
            b.sslContext(sslContext);
        }
        this.http = b.build();
    }

    URI hub() {
        return hub;
    }

    /** The hub's host and port as an operator would type them (the scheme's port if the URL has none). */
    String address() {
        int port = hub.getPort() >= 0 ? hub.getPort() : "https".equalsIgnoreCase(hub.getScheme()) ? 443 : 80;
        String host = hub.getHost() == null ? String.valueOf(hub.getAuthority()) : hub.getHost();
        return host + ":" + port;
    }

    /** A request to the hub with this node's credentials and the request timeout. */
    HttpRequest.Builder request(String pathAndQuery) {
        return request(pathAndQuery, requestTimeoutMillis);
    }

    /** A request to the hub with this node's credentials, answered within {@code timeoutMillis}. */
    HttpRequest.Builder request(String pathAndQuery, long timeoutMillis) {
        return HttpRequest.newBuilder(hub.resolve(pathAndQuery))
                .timeout(Duration.ofMillis(timeoutMillis))
                .header("Authorization", "Bearer " + token)
                .header(SyncProtocol.NODE_HEADER, node);
    }

    <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body)
            throws IOException, InterruptedException {
        return http.send(request, body);
    }

    <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> body) {
        return http.sendAsync(request, body);
    }

    /** The answer of an asynchronous request, with its failure rethrown as it happened. */
    static <T> HttpResponse<T> await(CompletableFuture<HttpResponse<T>> f) throws IOException, InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(c);
        }
    }

    /** The hub answered {@code operation} with an error status: what it said, with a hint for credentials. */
    SyncException refused(String operation, int status, byte[] body) {
        String said = excerpt(body);
        return new SyncException(
                operation,
                hub.toString(),
                status == 401 || status == 403
                        ? "the hub refused this node's credentials (sync.token, node.id): " + said
                        : "the hub answered " + status + ": " + said,
                status,
                null);
    }

    /** The Retry-After of a 429 or 503 answer, in seconds (1 if absent or unreadable), capped. */
    static long retryAfterSeconds(HttpResponse<?> resp) {
        String h = resp.headers().firstValue("Retry-After").orElse("1");
        try {
            return Math.min(RETRY_AFTER_SECONDS_MAX, Math.max(0, Long.parseLong(h.strip())));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    static String excerpt(byte[] body) {
        String s = new String(body, StandardCharsets.UTF_8);
        return s.length() <= BODY_EXCERPT_CHARS ? s : s.substring(0, BODY_EXCERPT_CHARS) + "...";
    }

    /**
     * What went wrong, for the log and GET /v1/sync/status: the hub's host and port and the
     * reason. A TLS failure says so: its own message (e.g. "PKIX path building failed") does not
     * tell an operator where to look.
     */
    String describe(Throwable e) {
        if (e instanceof SyncException) {
            return e.getMessage(); // names the hub's URL and what it answered
        }
        if (e instanceof WireException) {
            return "the hub at " + address() + " sent an answer this node cannot read: " + e.getMessage();
        }
        for (Throwable c = e; c != null; c = c.getCause()) {
            String reason = connectFailure(c);
            if (reason != null) {
                return "cannot connect to hub at " + address() + ": " + reason;
            }
            if (c instanceof SSLException ssl) {
                String m = ssl.getMessage() == null ? ssl.getClass().getSimpleName() : ssl.getMessage();
                String hint = m.contains("PKIX")
                        ? "its certificate is not trusted: sync.tls_trust_file"
                        : m.contains("matching")
                                ? "its certificate does not name the host of sync.upstream"
                                : "check sync.tls_trust_file and the host of sync.upstream";
                return "TLS handshake with the hub at " + address() + " failed (" + hint + "): " + m;
            }
            if (c instanceof HttpTimeoutException) {
                return "the hub at " + address() + " accepted the connection but did not answer in time";
            }
        }
        return "the request to the hub at " + address() + " failed: " + reason(e);
    }

    /** Why a connection could not be made, if {@code c} says it could not; else null. */
    private String connectFailure(Throwable c) {
        return switch (c) {
            case HttpConnectTimeoutException t -> "no connection within " + connectTimeoutMillis + " ms";
            case UnresolvedAddressException u -> "unknown host";
            case UnknownHostException u -> "unknown host";
            case NoRouteToHostException n -> "no route to host";
            case ConnectException x -> {
                String m = firstMessage(x);
                yield m == null || m.toLowerCase(Locale.ROOT).contains("refused")
                        ? "connection refused"
                        : m.toLowerCase(Locale.ROOT);
            }
            default -> null;
        };
    }

    private static String firstMessage(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c.getMessage() != null && !c.getMessage().isBlank()) {
                return c.getMessage();
            }
        }
        return null;
    }

    /** The first message in the cause chain, else the exception's class. */
    private static String reason(Throwable e) {
        String m = firstMessage(e);
        return m != null ? m : e.getClass().getSimpleName();
    }

    @Override
    public void close() {
        http.close();
    }
}

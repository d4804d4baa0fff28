package dev.outpost.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.outpost.sync.wire.WireException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** Failures are described for an operator: the hub's host and port and the reason, on real sockets. */
class HubClientTest {
    /** A loopback port nothing listens on (bound, then released). */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static HubClient client(String url) {
        return new HubClient(URI.create(url), "edge-1", "token", 1000, 2000, null);
    }

    @Test
    void aRefusedConnectionNamesHostPortAndReason() throws Exception {
        int port = closedPort();
        try (HubClient c = client("http://127.0.0.1:" + port)) {
            IOException e = assertThrows(
                    IOException.class,
                    () -> c.send(
                            c.request("/v1/sync/cursor?lane=normal").GET().build(),
                            HttpResponse.BodyHandlers.discarding()));
            assertEquals("cannot connect to hub at 127.0.0.1:" + port + ": connection refused", c.describe(e));
        }
    }

    @Test
    void anUnknownHostAndASilentHubAreNamed() throws Exception {
        try (HubClient c = client("https://no-such-hub.invalid")) {
            IOException e = assertThrows(
                    IOException.class,
                    () -> c.send(c.request("/v1/sync/pull").GET().build(), HttpResponse.BodyHandlers.discarding()));
            String d = c.describe(e);
            assertTrue(d.startsWith("cannot connect to hub at no-such-hub.invalid:443: "), d);
            assertTrue(!d.endsWith("Exception"), "a reason, not a class name: " + d);
        }
        HttpServer silent = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        silent.createContext("/", exchange -> {
            try {
                release.await(); // accepts, never answers while the client waits
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        silent.start();
        try (HubClient c = client("http://127.0.0.1:" + silent.getAddress().getPort())) {
            IOException e = assertThrows(
                    IOException.class,
                    () -> c.send(
                            c.request("/v1/sync/cursor", 200).GET().build(), HttpResponse.BodyHandlers.discarding()));
            assertEquals(
                    "the hub at 127.0.0.1:" + silent.getAddress().getPort()
                            + " accepted the connection but did not answer in time",
                    c.describe(e));
        } finally {
            release.countDown();
            silent.stop(0);
        }
    }

    @Test
    void answersTheHubGaveAreQuotedWithTheHub() {
        try (HubClient c = client("http://hub.example:7443")) {
            SyncException refused =
                    c.refused("push 3 records of lane normal", 401, "{\"title\":\"Unauthorized\"}".getBytes());
            assertEquals(401, refused.status());
            assertTrue(refused.getMessage().contains("http://hub.example:7443"), refused.getMessage());
            assertTrue(refused.getMessage().contains("sync.token"), refused.getMessage());
            assertEquals(refused.getMessage(), c.describe(refused));
            String unreadable =
                    c.describe(new WireException("read push acknowledgement", "message", "no \"to\"", 400, null));
            assertTrue(
                    unreadable.startsWith("the hub at hub.example:7443 sent an answer this node cannot read"),
                    unreadable);
            assertTrue(
                    c.refused("x", 500, "y".repeat(1000).getBytes())
                            .getMessage()
                            .endsWith("..."),
                    "long answers cut");
        }
    }
}

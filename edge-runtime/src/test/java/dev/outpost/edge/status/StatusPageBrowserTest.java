package dev.outpost.edge.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.sync.TestFleet;
import dev.outpost.store.json.JsonTree;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The status page (issue #16) in a real browser: a real agent on loopback, Debian's headless Chromium on its page.
 * The charts are drawn with the agent's samples, the numbers shown are those of /v1/governor and /v1/sync/status,
 * the console stays free of errors (a Content-Security-Policy violation would be one), and a screenshot is kept
 * under target/status-page/. One browser for the class: starting Chromium is the slow part.
 */
class StatusPageBrowserTest {
    private static HeadlessChromium browser;
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @BeforeAll
    static void startBrowser() {
        browser = new HeadlessChromium();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    private Main.RunningAgent start(String yaml) throws Exception {
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(cfg, yaml);
        return Main.start(ConfigLoader.load(cfg));
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Map<?, ?> json(int port, String path) throws Exception {
        HttpResponse<String> r = get(port, path);
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        byte[] b = r.body().getBytes(StandardCharsets.UTF_8);
        return (Map<?, ?>) JsonTree.parse(b, 0, b.length);
    }

    private void post(int port, String ndjson) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString(ndjson))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
    }

    private static long num(Object o) {
        return o instanceof BigDecimal d ? d.longValue() : ((Number) o).longValue();
    }

    private static String value(String id) {
        return browser.driver.findElement(By.id(id)).getDomAttribute("data-value");
    }

    /** Opens the page and waits until its script has drawn {@code refreshes} times. */
    private static void open(int port, int refreshes) {
        browser.driver.get("about:blank"); // a page of an agent stopped earlier must not count against this one
        browser.consoleErrors();
        browser.driver.get("http://127.0.0.1:" + port + "/");
        Await.atMost(Duration.ofSeconds(20)).until(() -> {
            String n = browser.driver.findElement(By.tagName("body")).getDomAttribute("data-refreshes");
            return n != null && Integer.parseInt(n) >= refreshes;
        });
    }

    @Test
    void edgePageChartsTheHistoryAndShowsTheApisNumbers() throws Exception {
        try (Main.RunningAgent agent = start("""
                node:
                  id: store-17
                data:
                  dir: %s
                http:
                  port: 0
                budget:
                  memory: 16GiB
                streams:
                  urgent:
                    priority: critical
                rules:
                  big:
                    stream: traffic
                    conditions:
                      - {field: bytes, op: gt, value: 1000000}
                """.formatted(dir.resolve("data")))) {
            int port = agent.port();
            HttpResponse<String> page = get(port, "/");
            assertEquals(200, page.statusCode());
            String csp = page.headers().firstValue("Content-Security-Policy").orElseThrow();
            assertTrue(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), csp);
            assertTrue(!page.body().contains("<script>") && !page.body().contains("://"), "nothing inline or remote");
            assertEquals(
                    "text/javascript; charset=utf-8",
                    get(port, "/status/status.js")
                            .headers()
                            .firstValue("Content-Type")
                            .orElseThrow());
            assertEquals(404, get(port, "/status/other.js").statusCode());
            for (String asset : List.of("/status/status.js", "/status/status.css")) {
                String text = get(port, asset).body().replace("http://www.w3.org/2000/svg", ""); // a name, not a fetch
                assertTrue(!text.contains("://") && !text.contains("@import"), asset + " names no other host");
            }
            HttpResponse<String> badSince = get(port, "/v1/status/history?since=yesterday");
            assertEquals(400, badSince.statusCode());
            assertTrue(badSince.body().contains("\"field\":\"since\""), badSince.body());

            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                batch.append("{\"stream\":\"traffic\",\"data\":{\"bytes\":")
                        .append(i % 10 == 0 ? 5_000_000 : 10)
                        .append("}}\n");
            }
            batch.append("{\"stream\":\"urgent\",\"data\":{\"x\":1}}\n");
            post(port, batch.toString());
            // The second sample (5 s after the first) has the ingest rate; the engine raised 4 alerts by then.
            Await.atMost(Duration.ofSeconds(15))
                    .until(() -> ((List<?>) json(port, "/v1/status/history").get("samples")).size() >= 2);
            Await.atMost(Duration.ofSeconds(10))
                    .until(() -> get(port, "/v1/events?stream=alerts")
                                    .body()
                                    .lines()
                                    .filter(l -> l.contains("\"rule\""))
                                    .count()
                            == 4);

            Map<?, ?> history = json(port, "/v1/status/history");
            List<?> samples = (List<?>) history.get("samples"); // the page, opened after, has at least these
            open(port, 1);
            assertTrue(
                    samples.stream().anyMatch(s -> num(((Map<?, ?>) s).get("ingest_events_per_second")) > 0),
                    "a sample with the ingest rate: " + history);
            assertChartDrawn("pressure-chart", "memory", samples.size());
            assertChartDrawn("rates-chart", "ingest events/s", samples.size());
            List<String> levels = browser.driver.findElements(By.cssSelector("#pressure-chart .levels rect")).stream()
                    .map(r -> r.getDomAttribute("data-level"))
                    .toList();
            assertTrue(levels.size() >= samples.size(), "the level strip has a piece per sample: " + levels);
            assertTrue(
                    levels.stream()
                            .allMatch(l -> List.of("low", "medium", "elevated", "high", "critical")
                                    .contains(l)),
                    levels.toString());

            Map<?, ?> governor = json(port, "/v1/governor");
            Map<?, ?> sync = json(port, "/v1/sync/status");
            Map<?, ?> risk = (Map<?, ?>) governor.get("data_at_risk");
            assertEquals(governor.get("level"), value("level"));
            assertEquals(String.valueOf(num(risk.get("events"))), value("risk-events"));
            assertEquals(45L, num(risk.get("events")), "41 events and 4 alerts, offline: all at risk");
            assertEquals(String.valueOf(num(risk.get("bytes"))), value("risk-bytes"));
            assertEquals(sync.get("link"), value("sync-link"));
            assertEquals("offline", value("sync-link"));
            for (String lane : List.of("critical", "high", "normal", "bulk")) {
                Map<?, ?> l = (Map<?, ?>) ((Map<?, ?>) sync.get("lanes")).get(lane);
                assertEquals(String.valueOf(num(l.get("backlog_records"))), value("lane-" + lane + "-records"), lane);
                assertEquals(String.valueOf(num(l.get("backlog_bytes"))), value("lane-" + lane + "-bytes"), lane);
            }
            String sampledAt = browser.driver.findElement(By.id("dimensions")).getDomAttribute("data-sampled-at");
            if (sampledAt.equals(String.valueOf(num(governor.get("sampled_at"))))) { // same governor sample
                Map<?, ?> disk = (Map<?, ?>) ((Map<?, ?>) governor.get("dimensions")).get("disk");
                assertEquals(
                        new BigDecimal(value("pressure-disk")).doubleValue(),
                        ((Number) disk.get("pressure")).doubleValue(),
                        1e-9);
            }
            assertEquals(
                    4, browser.driver.findElements(By.cssSelector("#alerts li")).size(), "the alerts listed");
            assertTrue(browser.driver.findElement(By.id("alerts")).getText().contains("big"));
            assertTrue(
                    browser.driver.findElement(By.id("fleet")).getDomAttribute("hidden") != null,
                    "no fleet on an edge");
            assertTrue(browser.driver.findElement(By.id("problem")).getDomAttribute("hidden") != null, "all read");
            browser.screenshot("edge");
            assertEquals(List.of(), browser.consoleErrors(), "console errors");
        }
    }

    @Test
    void hubPageHasASortableFleetTableWithTheNodesApisNumbers() throws Exception {
        try (TestFleet fleet = new TestFleet(dir)) {
            Main.RunningAgent hub = fleet.hub("");
            int port = hub.port();
            Main.RunningAgent edge = fleet.edge("edge-1", TestFleet.TOKEN_1, port, "");
            post(edge.port(), "{\"stream\":\"s\",\"data\":{\"a\":1}}\n{\"stream\":\"s\",\"data\":{\"a\":2}}\n");
            // edge-2 sends a push the hub cannot read: counted as its error, with what it was told.
            HttpResponse<String> bad = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/sync/push"))
                            .header("Content-Type", "application/vnd.outpost.push-batch")
                            .header("X-Outpost-Node", "edge-2")
                            .header("Authorization", "Bearer " + TestFleet.TOKEN_2)
                            .POST(HttpRequest.BodyPublishers.ofString("not a batch"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, bad.statusCode(), bad.body());
            Await.atMost(Duration.ofSeconds(20)).until(() -> {
                Map<?, ?> n = node(json(port, "/v1/fleet/nodes"), "edge-1");
                return n.get("last_seen") instanceof Number && num(n.get("backlog_records")) == 0;
            });

            open(port, 1);
            Map<?, ?> nodes = json(port, "/v1/fleet/nodes");
            Map<?, ?> one = node(nodes, "edge-1");
            Map<?, ?> two = node(nodes, "edge-2");
            assertEquals(1L, num(two.get("errors")));
            assertEquals(List.of("edge-1", "edge-2"), fleetColumn(0), "by node at first");
            assertEquals(List.of("0", "-1"), fleetValues(2), "backlog: edge-1 reported none left, edge-2 never pushed");
            assertEquals(
                    String.valueOf(num(one.get("lag_seconds"))), fleetValues(3).getFirst());
            assertEquals(List.of("0", "1"), fleetValues(4), "errors");
            assertEquals(
                    String.valueOf(num(one.get("last_seen"))), fleetValues(1).getFirst());
            assertTrue(fleetColumn(5)
                    .get(1)
                    .contains(((Map<?, ?>) two.get("last_error")).get("message").toString()));

            header("node").click();
            assertEquals(List.of("edge-2", "edge-1"), fleetColumn(0), "by node, descending");
            header("errors").click();
            assertEquals(List.of("edge-1", "edge-2"), fleetColumn(0), "by errors, ascending");
            header("errors").click();
            assertEquals(List.of("edge-2", "edge-1"), fleetColumn(0), "by errors, descending");
            header("last_seen").click();
            assertEquals(List.of("edge-2", "edge-1"), fleetColumn(0), "never seen first");
            assertTrue(browser.driver.findElement(By.id("role")).getText().equals("hub"));
            assertChartDrawn("rates-chart", "received from nodes/s", 1);
            assertTrue(browser.driver.findElement(By.id("problem")).getDomAttribute("hidden") != null, "all read");
            browser.screenshot("hub");
            assertEquals(List.of(), browser.consoleErrors(), "console errors");
        }
    }

    @Test
    void withAnApiTokenThePageAsksForItAndThenShowsTheData() throws Exception {
        try (Main.RunningAgent agent = start("""
                data:
                  dir: %s
                http:
                  port: 0
                  api_token: page-token-0123456789
                budget:
                  memory: 16GiB
                """.formatted(dir.resolve("data")))) {
            int port = agent.port();
            assertEquals(200, get(port, "/").statusCode(), "the page itself holds no data: no token");
            assertEquals(401, get(port, "/v1/status/history").statusCode());
            browser.driver.get("about:blank");
            browser.consoleErrors();
            browser.driver.get("http://127.0.0.1:" + port + "/");
            WebElement form = browser.driver.findElement(By.id("token-form"));
            Await.atMost(Duration.ofSeconds(10)).until(form::isDisplayed);
            browser.driver.findElement(By.id("token")).sendKeys("page-token-0123456789");
            browser.driver.findElement(By.id("token-use")).click();
            Await.atMost(Duration.ofSeconds(10))
                    .until(() -> "1"
                            .equals(browser.driver
                                    .findElement(By.tagName("body"))
                                    .getDomAttribute("data-refreshes")));
            assertTrue(!form.isDisplayed());
            assertEquals("offline", value("sync-link"));
            // The first, tokenless, request was refused (Chromium reports that 401); nothing else went wrong.
            assertEquals(
                    List.of(),
                    browser.consoleErrors().stream()
                            .filter(e -> !e.contains("/v1/status/history - Failed to load resource: the server"
                                    + " responded with a status of 401"))
                            .toList());
        }
    }

    private static Map<?, ?> node(Map<?, ?> nodes, String id) {
        return (Map<?, ?>) ((List<?>) nodes.get("nodes"))
                .stream()
                        .filter(n -> id.equals(((Map<?, ?>) n).get("node")))
                        .findFirst()
                        .orElseThrow();
    }

    private static WebElement header(String key) {
        return browser.driver.findElement(By.cssSelector("#fleet-table th[data-key='" + key + "']"));
    }

    private static List<String> fleetColumn(int i) {
        return browser.driver.findElements(By.cssSelector("#fleet-nodes tr")).stream()
                .map(tr -> tr.findElements(By.tagName("td")).get(i).getText())
                .toList();
    }

    private static List<String> fleetValues(int i) {
        return browser.driver.findElements(By.cssSelector("#fleet-nodes tr")).stream()
                .map(tr -> tr.findElements(By.tagName("td")).get(i).getDomAttribute("data-value"))
                .toList();
    }

    /** The chart has a line named {@code series} through one point per sample. */
    private static void assertChartDrawn(String chart, String series, int samples) {
        WebElement line =
                browser.driver.findElement(By.cssSelector("#" + chart + " polyline[data-series='" + series + "']"));
        int points = line.getDomAttribute("points").trim().split(" ").length;
        assertTrue(points >= Math.max(1, samples), chart + " " + series + ": " + points + " points");
        if (points >= 2) {
            assertTrue(line.getSize().getWidth() > 0, chart + " is drawn");
        }
    }
}

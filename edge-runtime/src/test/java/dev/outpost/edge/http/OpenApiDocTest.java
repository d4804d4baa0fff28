package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import io.micronaut.web.router.Router;
import io.micronaut.web.router.UriRouteInfo;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Issue #16 point 3: GET /v1/openapi.yaml is the OpenAPI 3.1 document generated at build time; every route the
 * agent's router serves is in it and everything in it is served (routes taken from the router of a running hub, not a
 * list), the routes the Netty pipeline answers ahead of the router are among them, and every error it documents is the
 * problem+json the agent answers: the one problem type, the members a problem carries, the statuses each controller
 * answers. The same document on an edge.
 */
class OpenApiDocTest extends AgentHttpTest {
    private static final String TOKEN = "doc-token-0123456789";
    private static final String PROBLEM_REF = "#/components/schemas/Problem";
    /** A status in a controller's source where it builds a problem document. */
    private static final Pattern PROBLEM_STATUS =
            Pattern.compile("(?:Problems\\.(?:response|answer)|ProblemException)\\(\\s*(\\d{3})\\s*,");

    @Test
    void documentsEveryRouteTheAgentServesAndItsProblems() throws Exception {
        start("  api_token: " + TOKEN + "\nhub:\n  enabled: true\n  nodes:\n    edge-1: edge-one-token-0123456789\n");
        HttpResponse<String> served = send("GET", "/v1/openapi.yaml", null, null, "Authorization", "Bearer " + TOKEN);
        assertEquals(200, served.statusCode());
        assertEquals(
                OpenApiController.MEDIA_TYPE,
                served.headers().firstValue("Content-Type").orElseThrow());
        Map<String, Object> doc = yaml(served.body());
        assertTrue(String.valueOf(doc.get("openapi")).startsWith("3.1."), "OpenAPI 3.1: " + doc.get("openapi"));

        Map<String, Map<String, Object>> operations = operations(doc);
        Map<String, Class<?>> routes = routes(agent.bean(Router.class));
        Set<String> undocumented = new TreeSet<>(routes.keySet());
        undocumented.removeAll(operations.keySet());
        Set<String> unrouted = new TreeSet<>(operations.keySet());
        unrouted.removeAll(routes.keySet());
        assertEquals(Set.of(), undocumented, "routes the router serves that the document lacks");
        // the one path only the pipeline serves (through the router it is the document whose id is "watch")
        String watch = "GET " + StateReadFastPath.PREFIX + "{namespace}" + EventTailPath.WATCH_SUFFIX;
        assertEquals(Set.of(watch), unrouted, "documented operations the router does not serve");
        assertWatchIsServed();
        for (String pipeline : List.of(
                "POST " + FastPath.EVENTS,
                "GET " + FastPath.HEALTH,
                "GET " + StateReadFastPath.PREFIX + "{namespace}/{id}",
                "GET " + TailRequest.PATH,
                "GET " + WebSocketPath.PATH)) {
            assertTrue(
                    operations.containsKey(pipeline), "a path the Netty pipeline answers is documented: " + pipeline);
        }

        Map<String, Object> components = map(doc.get("components"));
        for (var op : operations.entrySet()) {
            Map<String, Object> responses = map(op.getValue().get("responses"));
            for (var r : responses.entrySet()) {
                if (Integer.parseInt(r.getKey()) >= 400) {
                    assertProblem(op.getKey() + " " + r.getKey(), map(r.getValue()), components);
                }
            }
            assertTrue(responses.containsKey("408"), op.getKey() + " documents the slow-body 408");
            assertTrue(responses.containsKey("503"), op.getKey() + " documents 503 (connections, store)");
            if (op.getKey().contains(" /v1/")) {
                assertTrue(responses.containsKey("401"), op.getKey() + " documents the token's 401");
            }
        }
        assertControllersDocumentTheirStatuses(routes, operations);
        assertAnswersMatchTheProblemSchema(components);

        Path edgeDir = dir.resolve("edge");
        Files.createDirectories(edgeDir);
        Path cfg = edgeDir.resolve("outpost.yaml");
        Files.writeString(
                cfg, "data:\n  dir: " + edgeDir.resolve("data") + "\nhttp:\n  port: 0\nbudget:\n  memory: 16GiB\n");
        try (Main.RunningAgent edge = Main.start(ConfigLoader.load(cfg))) {
            var onEdge = http.send(
                    java.net.http.HttpRequest.newBuilder(
                                    java.net.URI.create("http://127.0.0.1:" + edge.port() + "/v1/openapi.yaml"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, onEdge.statusCode());
            assertEquals(served.body(), onEdge.body(), "an edge serves the same document as a hub");
        }
    }

    /** GET /v1/state/{namespace}/watch streams (EventTailPath), though no route of the router has that path. */
    private void assertWatchIsServed() throws Exception {
        var r = http.send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + agent.port()
                                + StateReadFastPath.PREFIX + "ns" + EventTailPath.WATCH_SUFFIX))
                        .header("Accept", "text/event-stream")
                        .header("Authorization", "Bearer " + TOKEN)
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (var body = r.body()) {
            assertEquals(200, r.statusCode());
            assertEquals(
                    "text/event-stream", r.headers().firstValue("Content-Type").orElseThrow());
            assertTrue(body.read() >= 0, "the stream's first event (the snapshot) arrives");
        }
    }

    /** A documented error: problem+json with the Problem schema, directly or through a shared response. */
    private static void assertProblem(String where, Map<String, Object> response, Map<String, Object> components) {
        Map<String, Object> r = response;
        if (response.containsKey("$ref")) {
            assertTrue(
                    Set.of("$ref", "description", "summary").containsAll(response.keySet()),
                    where + ": a reference carries nothing but a description: " + response.keySet());
            String ref = (String) response.get("$ref");
            assertTrue(ref.startsWith("#/components/responses/"), where + ": " + ref);
            r = map(map(components.get("responses")).get(ref.substring("#/components/responses/".length())));
            assertTrue(r != null, where + ": " + ref + " is defined");
        }
        Map<String, Object> content = map(r.get("content"));
        assertTrue(content != null && content.containsKey(Problems.MEDIA_TYPE), where + " is problem+json: " + r);
        assertEquals(
                PROBLEM_REF,
                map(map(content.get(Problems.MEDIA_TYPE)).get("schema")).get("$ref"),
                where);
    }

    /**
     * Every status a controller builds a problem document with (in its source) is documented on one of its operations:
     * adding an error to a controller without documenting it fails here.
     */
    private static void assertControllersDocumentTheirStatuses(
            Map<String, Class<?>> routes, Map<String, Map<String, Object>> operations) throws Exception {
        Map<Class<?>, Set<String>> documented =
                new TreeMap<>((a, b) -> a.getName().compareTo(b.getName()));
        routes.forEach((route, controller) -> documented
                .computeIfAbsent(controller, c -> new TreeSet<>())
                .addAll(map(operations.get(route).get("responses")).keySet()));
        for (var e : documented.entrySet()) {
            Path source = Path.of("src/main/java", e.getKey().getName().replace('.', '/') + ".java");
            Matcher m = PROBLEM_STATUS.matcher(Files.readString(source));
            Set<String> built = new TreeSet<>();
            while (m.find()) {
                built.add(m.group(1));
            }
            assertTrue(
                    e.getValue().containsAll(built),
                    e.getKey().getSimpleName() + " answers problems with " + built + ", documents " + e.getValue());
        }
    }

    /** Problems the agent answers (router, filter, pipeline) have the documented type and members. */
    private void assertAnswersMatchTheProblemSchema(Map<String, Object> components) throws Exception {
        Map<String, Object> schema = map(map(components.get("schemas")).get("Problem"));
        Map<String, Object> properties = map(schema.get("properties"));
        assertEquals(List.of(Problems.TYPE), map(properties.get("type")).get("enum"), "the one problem type");
        String auth = "Bearer " + TOKEN;
        List<HttpResponse<String>> answers = new ArrayList<>();
        answers.add(send("GET", "/v1/governor", null, null)); // 401
        answers.add(send("GET", "/v1/no-such-thing", null, null, "Authorization", auth)); // 404
        answers.add(send("GET", "/v1/events?limit=x", null, null, "Authorization", auth)); // 400
        answers.add(send("POST", "/v1/events", "application/json", "{\"stream\":1}", "Authorization", auth)); // 400
        answers.add(send("GET", "/v1/ws", null, null, "Authorization", auth)); // 426
        answers.add(send("GET", "/v1/state/ns/missing", null, null, "Authorization", auth)); // 404
        answers.add(send("PUT", "/v1/rules/r", "application/json", "{\"when\":[]}", "Authorization", auth)); // 4xx
        for (HttpResponse<String> a : answers) {
            String where = a.request().method() + " " + a.request().uri().getPath() + " " + a.statusCode();
            assertTrue(a.statusCode() >= 400, where);
            assertEquals(
                    Problems.MEDIA_TYPE, a.headers().firstValue("Content-Type").orElseThrow(), where);
            Map<String, Object> problem = yaml(a.body());
            assertEquals(Problems.TYPE, problem.get("type"), where);
            assertEquals(a.statusCode(), problem.get("status"), where);
            assertTrue(
                    properties.keySet().containsAll(problem.keySet()),
                    where + ": members " + problem.keySet() + " are documented " + properties.keySet());
        }
    }

    /** "METHOD /path/{var}" of every route of the router, with the controller that serves it. */
    private static Map<String, Class<?>> routes(Router router) {
        Map<String, Class<?>> routes = new TreeMap<>();
        router.uriRoutes().forEach(r -> {
            UriRouteInfo<?, ?> route = r;
            routes.put(
                    route.getHttpMethodName() + " "
                            + route.getUriMatchTemplate().toPathString(),
                    route.getTargetMethod().getDeclaringType());
        });
        // Micronaut adds HEAD for every GET (RFC 9110 §9.3.2): implied by the GET's operation
        routes.keySet().removeIf(r -> r.startsWith("HEAD ") && routes.containsKey("GET " + r.substring(5)));
        return routes;
    }

    /** "METHOD /path/{var}" of every documented operation. */
    private static Map<String, Map<String, Object>> operations(Map<String, Object> doc) {
        Map<String, Map<String, Object>> ops = new TreeMap<>();
        map(doc.get("paths"))
                .forEach((path, item) -> map(item).forEach((method, op) -> {
                    if (Set.of("get", "put", "post", "delete", "patch", "head", "options")
                            .contains(method)) {
                        ops.put(method.toUpperCase(java.util.Locale.ROOT) + " " + path, map(op));
                    }
                }));
        return ops;
    }

    private static Map<String, Object> yaml(String text) {
        return new Yaml(new LoaderOptions()).load(text);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }
}

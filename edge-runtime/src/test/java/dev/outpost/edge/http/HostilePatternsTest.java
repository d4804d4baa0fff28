package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Regexes that are short to send but huge to compile (nested counted repetitions) are refused as bad input, before
 * re2j expands them: they took seconds and ran the heap out (OutOfMemoryError) when they were compiled.
 */
class HostilePatternsTest extends AgentHttpTest {
    private static final String NESTED = "(((a{100}){100}){100}){100}";

    @Test
    void aRuleWithAnExplosiveRegexIsRefusedNamingTheField() throws Exception {
        start("");
        String rule =
                "{\"stream\":\"s\",\"conditions\":[{\"field\":\"msg\",\"op\":\"regex\",\"value\":\"" + NESTED + "\"}]}";
        HttpResponse<String> r = send("PUT", "/v1/rules/boom", "application/json", rule);
        assertEquals(422, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"field\":\"msg\"") && r.body().contains("too large"), r.body());
        assertEquals(404, send("GET", "/v1/rules/boom", null, null).statusCode(), "nothing was set");
    }

    @Test
    void aTailFilterWithAnExplosiveRegexIsRefused() throws Exception {
        start("");
        String where = "{\"field\":\"msg\",\"op\":\"regex\",\"value\":\"" + NESTED + "\"}";
        HttpResponse<String> r = send(
                "GET",
                "/v1/events/tail?where=" + URLEncoder.encode(where, StandardCharsets.UTF_8),
                null,
                null,
                "Accept",
                "text/event-stream");
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"field\":\"where\"") && r.body().contains("too large"), r.body());
    }
}

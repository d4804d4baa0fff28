package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * Hostile bodies for POST /v1/events: each is a 4xx problem naming the field (and the line of a batch), nothing of
 * the request is stored, and the agent goes on; the odd but valid shapes (CRLF, blank lines, a leading BOM) are taken.
 */
class IngestHostileInputTest extends AgentHttpTest {
    private static final String JSON = "application/json";
    private static final String NDJSON = "application/x-ndjson";

    private HttpResponse<String> post(String contentType, String body) throws Exception {
        return send("POST", "/v1/events", contentType, body);
    }

    private void refused(int status, String contentType, String body, String field) throws Exception {
        HttpResponse<String> r = post(contentType, body);
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith(Problems.MEDIA_TYPE));
        if (field != null) {
            assertTrue(r.body().contains("\"field\":\"" + field + "\""), r.body());
        }
    }

    @Test
    void malformedJsonInsideDataNamesData() throws Exception {
        start("");
        refused(400, JSON, "{\"stream\":\"s\",\"data\":" + "{\"a\":".repeat(70) + "1" + "}".repeat(70) + "}", "data");
        refused(400, JSON, "{\"stream\":\"s\",\"data\":{\"a\":" + "9".repeat(5000) + "}}", "data");
        refused(400, JSON, "{\"stream\":\"s\",\"data\":{\"a\":[1,}}", "data");
        refused(400, NDJSON, "{\"stream\":\"s\",\"data\":{}}\n{\"stream\":\"s\",\"data\":{\"a\":NaN}}\n", "data");
        HttpResponse<String> between = post(JSON, "{\"stream\":\"s\", x}");
        assertEquals(400, between.statusCode());
        assertTrue(!between.body().contains("\"field\""), "no field is guessed between fields: " + between.body());
        assertEquals(0, agent.agent().metrics().value("outpost_ingest_events_total"), "nothing stored");
    }

    @Test
    void hostileShapesAreRefusedAndOddValidOnesTaken() throws Exception {
        start("");
        refused(400, JSON, "[1,2]", null);
        refused(400, JSON, "{\"stream\":\"s\",\"stream\":\"t\",\"data\":{}}", "stream");
        refused(400, JSON, "{\"stream\":\"s\",\"ts\":1e999999,\"data\":{}}", "ts");
        refused(413, JSON, "{\"stream\":\"s\",\"data\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}", null);
        refused(400, NDJSON, "{\"stream\":\"s\",\"data\":{}}\n\uFEFF{\"stream\":\"s\",\"data\":{}}\n", null);
        assertEquals(0, agent.agent().metrics().value("outpost_ingest_events_total"), "nothing stored");
        HttpResponse<String> ok = post(
                NDJSON,
                "\uFEFF{\"stream\":\"s\",\"data\":{}}\r\n\r\n   \n{\"stream\":\"s\",\"data\":{\"a\":1e999999}}");
        assertEquals(200, ok.statusCode(), ok.body());
        assertTrue(ok.body().contains("\"seqs\":[1,2]"), ok.body());
    }
}

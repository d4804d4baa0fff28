package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** Issue #11 point 5b over HTTP: numbers beyond their range are 400 naming the field or parameter. */
class NumberRangeApiTest extends AgentHttpTest {
    private HttpResponse<String> post(String body) throws Exception {
        return send("POST", "/v1/events", "application/json", body);
    }

    private static void assertNames(HttpResponse<String> r, String field) {
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"field\":\"" + field + "\""), r.body());
    }

    @Test
    void tsBeyond64BitsIsRefusedNamingTheFieldAndNothingIsStored() throws Exception {
        start("");
        HttpResponse<String> r = post("{\"stream\":\"s\",\"ts\":99999999999999999999999,\"data\":{}}");
        assertNames(r, "ts");
        assertTrue(r.body().contains("99999999999999999999999"), r.body());
        assertNames(post("{\"stream\":\"s\",\"ts\":-1,\"data\":{}}"), "ts");
        assertNames(post("{\"stream\":\"s\",\"ts\":\"+12026-01-01T00:00:00Z\",\"data\":{}}"), "ts");
        HttpResponse<String> batch = send(
                "POST",
                "/v1/events",
                "application/x-ndjson",
                "{\"stream\":\"s\",\"data\":{}}\n{\"stream\":\"s\",\"ts\":9223372036854775808,\"data\":{}}\n");
        assertNames(batch, "ts");
        assertTrue(batch.body().contains("\"line\":2"), batch.body());
        assertEquals(
                "0",
                send("GET", "/v1/events", null, null)
                        .headers()
                        .firstValue("X-Outpost-Last-Seq")
                        .orElse(""));
        assertEquals(
                200,
                post("{\"stream\":\"s\",\"ts\":253402300799999,\"data\":{}}").statusCode());
        assertEquals(
                200,
                post("{\"stream\":\"s\",\"ts\":\"9999-12-31T23:59:59.999Z\",\"data\":{}}")
                        .statusCode());
    }

    @Test
    void numericQueryParametersAreRangeChecked() throws Exception {
        start("");
        assertEquals(200, post("{\"stream\":\"s\",\"data\":{}}").statusCode());
        String beyond64 = "99999999999999999999";
        assertNames(send("GET", "/v1/events?limit=" + beyond64, null, null), "limit");
        assertNames(send("GET", "/v1/events?limit=0", null, null), "limit");
        assertNames(send("GET", "/v1/events?from_seq=" + beyond64, null, null), "from_seq");
        assertNames(send("GET", "/v1/events?from_seq=-1", null, null), "from_seq");
        for (String p : new String[] {"from_time", "to_time"}) {
            assertNames(send("GET", "/v1/events?" + p + "=" + beyond64, null, null), p);
            assertNames(send("GET", "/v1/events?" + p + "=-1", null, null), p);
            assertNames(send("GET", "/v1/events?" + p + "=253402300800000", null, null), p);
            assertNames(send("GET", "/v1/events?" + p + "=%2B1000000000-01-01T00:00:00Z", null, null), p);
        }
        HttpResponse<String> msg = send("GET", "/v1/events?from_seq=" + beyond64, null, null);
        assertTrue(msg.body().contains("from 0 to 9223372036854775807"), msg.body());
        // Times the calendar allows but the HLC cannot hold (after year 6429) saturate instead of wrapping.
        HttpResponse<String> late = send("GET", "/v1/events?to_time=253402300799999", null, null);
        assertEquals(200, late.statusCode(), late.body());
        assertTrue(late.body().startsWith("{\"seq\":1,"), "to_time in the far future bounds nothing: " + late.body());
        HttpResponse<String> none = send("GET", "/v1/events?from_time=9999-12-31T00:00:00Z", null, null);
        assertEquals(200, none.statusCode(), none.body());
        assertTrue(none.body().contains("\"count\":0"), "from_time in the far future finds nothing: " + none.body());
        assertNames(send("GET", "/v1/state/ns?limit=" + beyond64, null, null), "limit");
        assertNames(send("GET", "/v1/retention?limit=" + beyond64, null, null), "limit");
    }

    @Test
    void streamDefinitionsRangeCheckTheirNumbers() throws Exception {
        start("");
        assertNames(
                send("PUT", "/v1/streams/s", "application/json", "{\"retention_seconds\":99999999999999999999999}"),
                "retention_seconds");
        assertNames(
                send("PUT", "/v1/streams/s", "application/json", "{\"retention_seconds\":-1}"), "retention_seconds");
        for (String maxLength : new String[] {"99999999999999999999999", "-1", "1.5", "\"3\""}) {
            HttpResponse<String> r = send(
                    "PUT",
                    "/v1/streams/s",
                    "application/json",
                    "{\"schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"string\",\"maxLength\":"
                            + maxLength + "}}}}");
            assertNames(r, "schema");
            assertTrue(r.body().contains("maxLength"), r.body());
        }
    }
}

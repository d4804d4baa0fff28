package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** Query parameters out of range, malformed, repeated or unknown are 400 problems naming the parameter. */
class QueryParametersTest extends AgentHttpTest {
    private void refused(String pathAndQuery, String field, String... headers) throws Exception {
        HttpResponse<String> r = send("GET", pathAndQuery, null, null, headers);
        assertEquals(400, r.statusCode(), pathAndQuery + " -> " + r.body());
        assertTrue(r.body().contains("\"field\":\"" + field + "\""), pathAndQuery + " -> " + r.body());
    }

    @Test
    void anUnknownParameterOfAnEventsReadOrStateListingIsRefusedNotIgnored() throws Exception {
        start("");
        send("POST", "/v1/events", "application/json", "{\"stream\":\"a\",\"data\":{}}");
        refused("/v1/events?strem=b", "strem");
        refused("/v1/events?limit=5&from_sequence=100", "from_sequence");
        assertEquals(200, send("GET", "/v1/events?stream=a&limit=5", null, null).statusCode());
        refused("/v1/state/ns?prefx=a", "prefx");
        assertEquals(
                200, send("GET", "/v1/state/ns?prefix=a&limit=5", null, null).statusCode());
    }

    @Test
    void outOfRangeAndMalformedValuesNameTheirParameter() throws Exception {
        start("");
        refused("/v1/events?from_seq=-1", "from_seq");
        refused("/v1/events?from_seq=9223372036854775808", "from_seq");
        refused("/v1/events?limit=0", "limit");
        refused("/v1/events?limit=abc", "limit");
        refused("/v1/events?limit=1&limit=2", "limit");
        refused("/v1/events?from_time=1e99", "from_time");
        refused("/v1/events?cursor=%FF%FE", "cursor");
        refused("/v1/state/ns?limit=0", "limit");
        refused("/v1/aggregate?stream=s&limit=0", "limit");
        refused("/v1/events/tail?from_seq=x", "from_seq", "Accept", "text/event-stream");
        refused("/v1/events/tail", "Last-Event-ID", "Accept", "text/event-stream", "Last-Event-ID", "abc");
        refused("/v1/events/tail", "Last-Event-ID", "Accept", "text/event-stream", "Last-Event-ID", "99999");
    }
}

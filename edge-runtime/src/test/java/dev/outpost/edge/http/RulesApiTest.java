package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Issue #12 points 1 and 3 over HTTP: rules set, read, refused and deleted; alerts read back as events. */
class RulesApiTest extends AgentHttpTest {
    static final String LEDGER = """
            {"stream":"traffic","threshold":0.7,"severity":"critical","group_by":"source_ip",
             "conditions":[{"field":"bytes_transferred","op":"gt","value":1000000,"weight":0.6},
                           {"field":"protocol","op":"in","value":["UNKNOWN","EXPERIMENTAL"],"weight":0.4}]}""";

    private HttpResponse<String> put(String name, String body) throws Exception {
        return send("PUT", "/v1/rules/" + name, "application/json", body);
    }

    @Test
    void aRuleIsSetListedReadReplacedAndDeleted() throws Exception {
        start("");
        HttpResponse<String> created = put("ledger", LEDGER);
        assertEquals(201, created.statusCode(), created.body());
        assertTrue(created.body().contains("\"source\":\"api\""), created.body());
        assertEquals(200, put("ledger", LEDGER).statusCode(), "a replacement is 200");
        HttpResponse<String> one = send("GET", "/v1/rules/ledger", null, null);
        assertEquals(200, one.statusCode());
        assertTrue(one.body().contains("\"threshold\":0.7") && one.body().contains("\"UNKNOWN\""), one.body());
        assertTrue(send("GET", "/v1/rules", null, null).body().contains("\"name\":\"ledger\""));
        assertEquals(204, send("DELETE", "/v1/rules/ledger", null, null).statusCode());
        assertEquals(404, send("GET", "/v1/rules/ledger", null, null).statusCode());
        assertEquals(404, send("DELETE", "/v1/rules/ledger", null, null).statusCode());
    }

    @Test
    void aBadRuleIsRefusedNamingRuleConditionAndFieldAndChangesNothing() throws Exception {
        start("");
        assertEquals(201, put("ledger", LEDGER).statusCode());
        HttpResponse<String> bad =
                put("ledger", LEDGER.replace("\"op\":\"gt\",\"value\":1000000", "\"op\":\"gt\",\"value\":\"big\""));
        assertEquals(422, bad.statusCode(), bad.body());
        assertTrue(bad.headers().firstValue("Content-Type").orElse("").startsWith(Problems.MEDIA_TYPE));
        assertTrue(bad.body().contains("\"rule\":\"ledger\""), bad.body());
        assertTrue(bad.body().contains("\"condition\":\"1\""), bad.body());
        assertTrue(bad.body().contains("\"field\":"), bad.body());
        assertTrue(send("GET", "/v1/rules/ledger", null, null).body().contains("1000000"), "the old rule stays");
        assertEquals(400, put("x", "{not json").statusCode());
        assertEquals(422, put("_reserved", LEDGER).statusCode(), "rule names follow stream names");
    }

    @Test
    void againstASchemaAnUnknownFieldIsRefusedWhenTheRuleIsDefined() throws Exception {
        start("""
                streams:
                  traffic:
                    schema:
                      type: object
                      properties:
                        bytes_transferred: {type: integer}
                        protocol: {type: string}
                        source_ip: {type: string}
                """);
        assertEquals(201, put("ledger", LEDGER).statusCode());
        HttpResponse<String> unknown = put("typo", LEDGER.replace("bytes_transferred", "bytes_transfered"));
        assertEquals(422, unknown.statusCode(), unknown.body());
        assertTrue(unknown.body().contains("bytes_transfered"), unknown.body());
    }

    @Test
    void aRuleDeclaredInTheFileCannotBeChangedAtRuntime() throws Exception {
        start("""
                rules:
                  big:
                    stream: traffic
                    conditions:
                      - {field: bytes_transferred, op: gt, value: 10}
                """);
        HttpResponse<String> r = send("GET", "/v1/rules/big", null, null);
        assertTrue(r.body().contains("\"source\":\"config\""), r.body());
        assertEquals(409, put("big", LEDGER).statusCode());
        assertEquals(409, send("DELETE", "/v1/rules/big", null, null).statusCode());
    }

    @Test
    void aFiringEventRaisesAnAlertReadableAsAnEventAndClientsCannotWriteAlerts() throws Exception {
        start("");
        assertEquals(201, put("ledger", LEDGER).statusCode());
        String quiet = "{\"stream\":\"traffic\",\"key\":\"k1\",\"data\":{\"source_ip\":\"10.0.0.1\","
                + "\"bytes_transferred\":5000000,\"protocol\":\"TCP\"}}";
        String loud = "{\"stream\":\"traffic\",\"key\":\"k2\",\"data\":{\"source_ip\":\"10.0.0.2\","
                + "\"bytes_transferred\":5000000,\"protocol\":\"EXPERIMENTAL\"}}";
        assertEquals(200, send("POST", "/v1/events", "application/json", quiet).statusCode());
        HttpResponse<String> stored = send("POST", "/v1/events", "application/json", loud);
        assertEquals(200, stored.statusCode());
        String seq = stored.body().replaceAll(".*\"seqs\":\\[(\\d+)].*", "$1");
        Await.atMost(Duration.ofSeconds(10))
                .until(() -> send("GET", "/v1/events?stream=alerts", null, null)
                        .body()
                        .contains("\"rule\":\"ledger\""));
        String alerts = send("GET", "/v1/events?stream=alerts", null, null).body();
        assertEquals(2, alerts.lines().count(), "one alert and the trailer: " + alerts);
        assertTrue(alerts.contains("\"id\":\"ledger@" + seq + "\""), alerts);
        assertTrue(alerts.contains("\"score\":1.0") && alerts.contains("\"group\":\"10.0.0.2\""), alerts);
        assertTrue(alerts.contains("\"source\":{\"stream\":\"traffic\",\"seq\":" + seq + ",\"key\":\"k2\""), alerts);
        HttpResponse<String> forged =
                send("POST", "/v1/events", "application/json", "{\"stream\":\"alerts\",\"data\":{}}");
        assertEquals(422, forged.statusCode(), forged.body());
        assertTrue(forged.body().contains("\"field\":\"stream\""), forged.body());
        assertTrue(send("GET", "/v1/streams/alerts", null, null).body().contains("\"priority\":\"critical\""));
        assertTrue(send("GET", "/metrics", null, null).body().contains("outpost_alerts_total 1"));
    }
}

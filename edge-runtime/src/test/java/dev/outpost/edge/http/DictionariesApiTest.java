package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Training a dictionary ({@code POST /v1/dictionaries}) whose content-derived id the catalog already holds, against a
 * real agent on loopback and its real SQLite catalog: the same dictionary again is the stored one; another one under
 * the id is 409 problem+json naming it, with nothing stored.
 */
class DictionariesApiTest extends AgentHttpTest {
    private static final String TRAIN = "/v1/dictionaries?stream=traffic&samples=1500&bytes=8192";

    /** 200 NDJSON events of stream {@code traffic} (network flows) drawn from {@code r}. */
    static String trafficBatch(Random r) {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            body.append("{\"stream\":\"traffic\",\"data\":{\"source_ip\":\"10.0.")
                    .append(r.nextInt(20))
                    .append('.')
                    .append(r.nextInt(255))
                    .append("\",\"bytes_transferred\":")
                    .append(r.nextInt(2_000_000))
                    .append(",\"protocol\":\"")
                    .append(r.nextBoolean() ? "TCP" : "UDP")
                    .append("\"}}\n");
        }
        return body.toString();
    }

    /** 2,000 events of stream traffic (the same ones every run: training them gives the same dictionary). */
    private void ingest() throws Exception {
        Random r = new Random(7);
        for (int b = 0; b < 10; b++) {
            HttpResponse<String> ok = send("POST", "/v1/events", "application/x-ndjson", trafficBatch(r));
            assertEquals(200, ok.statusCode(), ok.body());
        }
    }

    private Map<?, ?> train(String pathAndQuery, int status) throws Exception {
        HttpResponse<String> r = send("POST", pathAndQuery, null, null);
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(
                status == 200 ? "application/json" : Problems.MEDIA_TYPE,
                r.headers().firstValue("Content-Type").orElse(""));
        return (Map<?, ?>) ServicesApiTest.json(r);
    }

    private Connection catalogDb() throws Exception {
        return DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("data").resolve("catalog.db"));
    }

    /** Training the same events again gives the same dictionary: the answer is the row stored the first time. */
    @Test
    void trainingTheSameDictionaryAgainAnswersTheStoredOne() throws Exception {
        start("");
        ingest();
        Map<?, ?> first = train(TRAIN, 200);
        Map<?, ?> again = train(TRAIN, 200);
        assertEquals(first, again, "the stored row: its created_at and samples, not a new one's");
        assertEquals(1, agent.agent().catalog().dictionaries(10).size());
        Map<?, ?> list = (Map<?, ?>) ServicesApiTest.json(send("GET", "/v1/dictionaries", null, null));
        Map<?, ?> listed = (Map<?, ?>) ((List<?>) list.get("dictionaries")).getFirst();
        assertEquals(first, listed, "the answer is what is listed");
    }

    /**
     * The catalog holds other bytes under the id the training gives (written to the row directly): the training threw
     * the catalog's StoreException out of the controller, a 500; now it is 409 problem+json naming the id, and the row
     * is left as it was.
     */
    @Test
    void trainingADictionaryWhoseIdHoldsOtherBytesIs409() throws Exception {
        start("");
        ingest();
        String id = (String) train(TRAIN, 200).get("id");
        byte[] other = "another dictionary's content".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (Connection c = catalogDb();
                PreparedStatement p = c.prepareStatement("UPDATE dictionaries SET bytes = ? WHERE id = ?")) {
            p.setBytes(1, other);
            p.setLong(2, Long.parseLong(id, 16));
            assertEquals(1, p.executeUpdate());
        }
        Map<?, ?> problem = train(TRAIN, 409);
        assertEquals(409L, problem.get("status"));
        assertEquals("samples", problem.get("field"));
        assertTrue(((String) problem.get("detail")).contains(id), problem.toString());
        assertEquals(1, agent.agent().catalog().dictionaries(10).size(), "nothing stored");
        try (Connection c = catalogDb();
                ResultSet rs = c.createStatement().executeQuery("SELECT bytes FROM dictionaries")) {
            assertTrue(rs.next());
            assertArrayEquals(other, rs.getBytes(1), "the row is left as it was");
        }
    }

    /**
     * The catalog keeps one stream and purpose per dictionary (its id is the key): training the same samples for
     * another purpose answered 200 with that purpose though nothing was stored for it; now it is 409 naming the id and
     * the purpose that holds it.
     */
    @Test
    void theSameDictionaryForAnotherPurposeIs409() throws Exception {
        start("");
        ingest();
        String id = (String) train(TRAIN, 200).get("id");
        Map<?, ?> problem = train(TRAIN + "&purpose=cold_segment", 409);
        String detail = (String) problem.get("detail");
        assertTrue(detail.contains(id) && detail.contains("wire"), detail);
        assertEquals(1, agent.agent().catalog().dictionaries(10).size(), "nothing stored");
        assertEquals(
                dev.outpost.compress.Purpose.WIRE,
                agent.agent().catalog().dictionaries(10).getFirst().purpose());
    }
}

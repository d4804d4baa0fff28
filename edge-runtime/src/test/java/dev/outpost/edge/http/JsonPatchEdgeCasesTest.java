package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * RFC 6902 edge cases over PATCH /v1/state: a patch document that is no valid patch is the request's fault (400,
 * naming where in the patch), one that does not apply to the document is 409; neither changes anything.
 */
class JsonPatchEdgeCasesTest extends AgentHttpTest {
    private static final String JSON_PATCH = "application/json-patch+json";

    private HttpResponse<String> patch(String body) throws Exception {
        return send("PATCH", "/v1/state/ns/d", JSON_PATCH, body);
    }

    private String doc() throws Exception {
        String body = send("GET", "/v1/state/ns/d", null, null).body();
        return body.substring(body.indexOf("\"doc\":"));
    }

    @Test
    void malformedPatchesAre400NamingWhereAndChangeNothing() throws Exception {
        start("");
        assertEquals(
                201,
                send("PUT", "/v1/state/ns/d", "application/json", "{\"a\":{\"b\":[1,2]},\"x~y\":1}")
                        .statusCode());
        String before = doc();
        String[][] cases = {
            {"{\"op\":\"add\",\"path\":\"/q\",\"value\":1}", null},
            {"[1]", "/0"},
            {"[{\"op\":\"add\",\"path\":\"/q\",\"value\":1},{\"op\":\"frob\",\"path\":\"/a\"}]", "/1/op"},
            {"[{\"path\":\"/a\"}]", "/0/op"},
            {"[{\"op\":\"add\",\"path\":\"/q\"}]", "/0/value"},
            {"[{\"op\":\"move\",\"path\":\"/q\"}]", "/0/from"},
            {"[{\"op\":\"remove\",\"path\":\"a\"}]", "/0/path"},
            {"[{\"op\":\"remove\",\"path\":\"/x~2y\"}]", "/0/path"},
            {"[{\"op\":\"remove\",\"path\":7}]", "/0/path"},
            {"[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/c\"}]", "/0/from"}
        };
        for (String[] c : cases) {
            HttpResponse<String> r = patch(c[0]);
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            assertTrue(r.body().contains("Invalid patch"), r.body());
            if (c[1] != null) {
                assertTrue(r.body().contains("\"field\":\"" + c[1] + "\""), c[0] + " -> " + r.body());
            }
        }
        assertEquals(before, doc(), "nothing changed");
    }

    @Test
    void validPatchesThatDoNotApplyAre409AndEdgeCasesApply() throws Exception {
        start("");
        assertEquals(
                201,
                send("PUT", "/v1/state/ns/d", "application/json", "{\"a\":{\"b\":[1,2]},\"x~y\":1,\"p/q\":2}")
                        .statusCode());
        HttpResponse<String> failed = patch(
                "[{\"op\":\"add\",\"path\":\"/z\",\"value\":1},{\"op\":\"test\",\"path\":\"/a/b/0\",\"value\":9}]");
        assertEquals(409, failed.statusCode(), failed.body());
        assertTrue(failed.body().contains("\"field\":\"/1\""), failed.body());
        assertEquals(409, patch("[{\"op\":\"remove\",\"path\":\"/a/b/-\"}]").statusCode());
        assertEquals(
                409, patch("[{\"op\":\"add\",\"path\":\"/a/b/3\",\"value\":0}]").statusCode());
        HttpResponse<String> ok = patch("[{\"op\":\"test\",\"path\":\"/x~0y\",\"value\":1.0},"
                + "{\"op\":\"remove\",\"path\":\"/p~1q\"},{\"op\":\"add\",\"path\":\"/a/b/-\",\"value\":3},"
                + "{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/a/c\"}]");
        assertEquals(200, ok.statusCode(), ok.body());
        assertTrue(doc().contains("{\"a\":{\"b\":[1,2,3],\"c\":{\"b\":[1,2,3]}},\"x~y\":1}"), doc());
    }
}

package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The raw fast path's parser on its own: every prefix of a hot request waits for more and the whole one is recognised
 * at its exact length (a request split over reads at any byte), heads longer than the first bytes copied, and what it
 * leaves to the codec. FastPathContractTest compares the answers with the router's over real connections.
 */
class RawRequestTest {
    private static final String EVENT = "{\"stream\":\"s\",\"data\":{\"a\":1}}";
    private static final long BODY_MAX = 4096;

    private static String post(String headers, String body) {
        return "POST /v1/events HTTP/1.1\r\nHost: x\r\n" + headers + "Content-Length: " + body.length() + "\r\n\r\n"
                + body;
    }

    private static int parse(RawRequest r, String bytes) {
        ByteBuf b = Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1);
        try {
            return r.parse(b, BODY_MAX, true);
        } finally {
            b.release();
        }
    }

    @Test
    void everyPrefixWaitsAndTheWholeRequestIsRecognisedAtItsLength() {
        String[] requests = {
            post("Authorization: Bearer t\r\n", EVENT),
            post("Content-Type: application/x-ndjson\r\n", EVENT + "\n" + EVENT),
            "GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /v1/state/ns/d-1 HTTP/1.1\r\nAccept: */*\r\n\r\n",
        };
        RawRequest r = new RawRequest();
        for (String req : requests) {
            for (int n = 1; n < req.length(); n++) {
                assertEquals(RawRequest.NEED_MORE, parse(r, req.substring(0, n)), "prefix of " + n + ": " + req);
            }
            assertEquals(req.length(), parse(r, req), req);
            assertEquals(req.length(), parse(r, req + "GET /v1/other HTTP/1.1\r\n\r\n"), "pipelined: " + req);
        }
        assertEquals(RawRequest.Kind.STATE, r.kind);
        assertEquals("ns", r.namespace);
        assertEquals("d-1", r.id);
    }

    @Test
    void aLongHeadIsReadBeyondTheFirstCopyUpToItsLimit() {
        RawRequest r = new RawRequest();
        String filler = "X-Pad: " + "p".repeat(1500) + "\r\n";
        String req = post(filler + "Idempotency-Key: k-9\r\n", EVENT);
        assertEquals(req.length(), parse(r, req));
        assertEquals("k-9", r.idempotencyKey);
        String tooLong = post(filler.repeat(3), EVENT);
        assertEquals(RawRequest.NOT_HOT, parse(r, tooLong), "a head over 4 KiB is the codec's");
        assertEquals(RawRequest.NOT_HOT, parse(r, tooLong.substring(0, 4500)), "known before it completes");
    }

    @Test
    void whatItIsNotSureOfIsTheCodecs() {
        RawRequest r = new RawRequest();
        String one = post("", EVENT);
        String[] notHot = {
            one.replace("POST", "PUT"),
            one.replace(" HTTP/1.1", " HTTP/1.0"),
            one.replace("/v1/events", "/v1/events?x=1"),
            one.replace("Host: x\r\n", "Host: x\r\nContent-Length: 5\r\n"),
            one.replace("Content-Length: ", "Content-Length: +"),
            one.replace("Content-Length: " + EVENT.length(), "Content-Length: 0"),
            one.replace("Content-Length: " + EVENT.length(), "Content-Length: 99999"),
            one.replace("Host: x\r\n", "Host: x\r\nTransfer-Encoding: chunked\r\n"),
            one.replace("Host: x\r\n", "Host: x\r\nContent-Encoding: gzip\r\n"),
            one.replace("Host: x\r\n", "Host: x\r\nExpect: 100-continue\r\n"),
            one.replace("Host: x\r\n", "Host: x\r\nConnection: close\r\n"),
            one.replace("Host: x\r\n", "Host: x\r\nAccept: text/plain\r\n"),
            one.replace("Host: x\r\n", "Host: x\r\nAccept-Encoding: gzip\r\n"),
            one.replace("Host: x\r\n", "Host: x\r\nContent-Type: text/plain\r\n"),
            one.replace("Host: x\r\n", "Host: x\r\nIdempotency-Key: a\r\nidempotency-key: b\r\n"),
            one.replace("Host: x\r\n", "Host : x\r\n"),
            one.replace("Host: x\r\n", "Host: x\r\n folded\r\n"),
            one.replace("Host: x\r\n", "Host: x\n"),
            one.replace("Host: x\r\n", "Host: \u00e9\r\n"),
            one.replace("Host: x\r\n", "Host: \u0001\r\n"),
            "GET /health HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            "GET /v1/state/ns/d1 HTTP/1.1\r\nIf-None-Match: \"1\"\r\n\r\n",
            "GET /v1/state/ns/.. HTTP/1.1\r\n\r\n",
            "GET /v1/state/ns/a%20b HTTP/1.1\r\n\r\n",
            "GET /v1/state/ns HTTP/1.1\r\n\r\n",
            "\r\nGET /health HTTP/1.1\r\n\r\n",
        };
        for (String req : notHot) {
            assertEquals(RawRequest.NOT_HOT, parse(r, req), req);
        }
        String oddCase = one.replace("Host: x\r\n", "hOsT:x \t\r\nCONTENT-type:application/json\r\n");
        assertEquals(oddCase.length(), parse(r, oddCase));
        assertEquals(RawRequest.Kind.INGEST_JSON, r.kind);
    }
}

package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Frames a WebSocket client gets wrong, sent raw: the connection fails as RFC 6455 says, the agent stays up. */
class WebSocketAbuseTest extends AgentHttpTest {
    private static byte[] frame(int opcode, byte[] payload) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(0x80 | opcode);
        f.write(0x80 | payload.length); // masked; payloads here are under 126 bytes
        byte[] mask = {1, 2, 3, 4};
        f.writeBytes(mask);
        for (int i = 0; i < payload.length; i++) {
            f.write(payload[i] ^ mask[i % 4]);
        }
        return f.toByteArray();
    }

    /** Opens a session, sends {@code frames}, and answers the opcode and payload of the first frame back. */
    private Object[] firstAnswer(byte[]... frames) throws IOException {
        try (Socket s = new Socket("127.0.0.1", agent.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                head.append((char) in.read());
            }
            assertTrue(head.toString().startsWith("HTTP/1.1 101"), head.toString());
            for (byte[] f : frames) {
                out.write(f);
            }
            DataInputStream d = new DataInputStream(in);
            int opcode = d.readUnsignedByte() & 0x0F;
            int len = d.readUnsignedByte() & 0x7F;
            if (len == 126) {
                len = d.readUnsignedShort();
            }
            byte[] payload = new byte[len];
            d.readFully(payload);
            return new Object[] {opcode, payload};
        }
    }

    @Test
    void textThatIsNotUtf8FailsTheConnectionWith1007() throws Exception {
        start("");
        Object[] a = firstAnswer(frame(1, new byte[] {'{', '"', 'o', 'p', '"', ':', '"', (byte) 0xFF, '"', '}'}));
        assertEquals(8, a[0], "a close frame");
        byte[] p = (byte[]) a[1];
        assertEquals(1007, ((p[0] & 0xFF) << 8) | (p[1] & 0xFF));
        assertEquals(200, send("GET", "/health", null, null).statusCode());
    }

    @Test
    void controlMessagesStillWork() throws Exception {
        start("");
        Object[] a = firstAnswer(frame(1, "{\"op\":\"ping\"}".getBytes(StandardCharsets.UTF_8)));
        assertEquals(1, a[0]);
        assertEquals("{\"type\":\"pong\"}", new String((byte[]) a[1], StandardCharsets.UTF_8));
    }
}

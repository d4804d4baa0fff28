package dev.outpost.edge.loadgen;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One keep-alive HTTP/1.1 connection over a plain or TLS socket, with a minimal response parser:
 * status line, {@code Content-Length} or chunked body (skipped), {@code Connection: close}.
 */
final class HttpConnection implements AutoCloseable {
    static final int CONNECT_TIMEOUT_MS = 5_000;
    static final int READ_TIMEOUT_MS = 10_000;
    private static final int MAX_LINE = 8 * 1024;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] buf = new byte[16 * 1024];
    private int pos;
    private int lim;

    /** Set by {@link #exchange}: the server will close (or closed) the connection after the response. */
    boolean closeAfter;

    /**
     * Where to connect.
     *
     * @param address the server
     * @param tls sockets for HTTPS, or null for plain HTTP
     * @param host the host name the certificate must name (HTTPS)
     */
    record Target(InetSocketAddress address, javax.net.ssl.SSLSocketFactory tls, String host) {}

    HttpConnection(Target target) throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.setSoTimeout(READ_TIMEOUT_MS);
            s.connect(target.address(), CONNECT_TIMEOUT_MS);
            if (target.tls() != null) {
                javax.net.ssl.SSLSocket t = (javax.net.ssl.SSLSocket) target.tls()
                        .createSocket(s, target.host(), target.address().getPort(), true);
                javax.net.ssl.SSLParameters p = t.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS"); // as the agent's own client does
                t.setSSLParameters(p);
                t.startHandshake();
                s = t;
            }
            this.in = s.getInputStream();
            this.out = s.getOutputStream();
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        this.socket = s;
    }

    /** Sends one pre-built request and reads the full response; returns its status code. */
    int exchange(byte[] request) throws IOException {
        out.write(request);
        out.flush();
        return readResponse();
    }

    private int readResponse() throws IOException {
        int status;
        boolean http10;
        while (true) {
            String statusLine = readLine();
            // "HTTP/1.1 200 OK"
            if (statusLine.length() < 12 || !statusLine.startsWith("HTTP/1.")) {
                throw new IOException("bad status line: " + abbreviate(statusLine));
            }
            http10 = statusLine.charAt(7) == '0';
            try {
                status = Integer.parseInt(statusLine.substring(9, 12));
            } catch (NumberFormatException e) {
                throw new IOException("bad status line: " + abbreviate(statusLine));
            }
            if (status >= 100 && status < 200 && status != 101) {
                // Interim response: skip its headers and read the final one.
                while (!readLine().isEmpty()) {
                    // skip
                }
                continue;
            }
            break;
        }
        long contentLength = -1;
        boolean chunked = false;
        boolean close = http10;
        String line;
        while (!(line = readLine()).isEmpty()) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("content-length")) {
                try {
                    contentLength = Long.parseLong(value);
                } catch (NumberFormatException e) {
                    throw new IOException("bad Content-Length: " + abbreviate(value));
                }
            } else if (name.equalsIgnoreCase("transfer-encoding")) {
                chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
            } else if (name.equalsIgnoreCase("connection")) {
                String v = value.toLowerCase(Locale.ROOT);
                if (v.contains("close")) {
                    close = true;
                } else if (v.contains("keep-alive")) {
                    close = false;
                }
            }
        }
        if (status == 204 || status == 304) {
            // no body
        } else if (chunked) {
            skipChunked();
        } else if (contentLength >= 0) {
            skip(contentLength);
        } else {
            // Body delimited by the end of the connection.
            skipToEof();
            close = true;
        }
        closeAfter = close;
        return status;
    }

    private void skipChunked() throws IOException {
        while (true) {
            String sizeLine = readLine();
            int semi = sizeLine.indexOf(';');
            String hex = (semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim();
            long size;
            try {
                size = Long.parseLong(hex, 16);
            } catch (NumberFormatException e) {
                throw new IOException("bad chunk size: " + abbreviate(sizeLine));
            }
            if (size == 0) {
                while (!readLine().isEmpty()) {
                    // trailers
                }
                return;
            }
            skip(size);
            if (!readLine().isEmpty()) {
                throw new IOException("missing CRLF after chunk");
            }
        }
    }

    private void skip(long n) throws IOException {
        while (n > 0) {
            if (pos == lim && !fill()) {
                throw new EOFException("connection closed in response body");
            }
            int k = (int) Math.min(n, lim - pos);
            pos += k;
            n -= k;
        }
    }

    private void skipToEof() throws IOException {
        while (true) {
            pos = lim;
            if (!fill()) {
                return;
            }
        }
    }

    /** Reads one line without its CR LF (ISO-8859-1). */
    private String readLine() throws IOException {
        int scanFrom = pos;
        while (true) {
            for (int i = scanFrom; i < lim; i++) {
                if (buf[i] == '\n') {
                    int end = i > pos && buf[i - 1] == '\r' ? i - 1 : i;
                    String s = new String(buf, pos, end - pos, StandardCharsets.ISO_8859_1);
                    pos = i + 1;
                    return s;
                }
            }
            if (lim - pos >= MAX_LINE) {
                throw new IOException("response line too long");
            }
            if (pos == lim) {
                pos = 0;
                lim = 0;
            } else if (lim == buf.length) {
                int len = lim - pos;
                System.arraycopy(buf, pos, buf, 0, len);
                pos = 0;
                lim = len;
            }
            scanFrom = lim;
            int n = in.read(buf, lim, buf.length - lim);
            if (n <= 0) {
                throw new EOFException("connection closed by server");
            }
            lim += n;
        }
    }

    /** Reads more bytes after {@code lim}; compacts first if the buffer is consumed. */
    private boolean fill() throws IOException {
        if (pos == lim) {
            pos = 0;
            lim = 0;
        }
        int n = in.read(buf, lim, buf.length - lim);
        if (n <= 0) {
            return false;
        }
        lim += n;
        return true;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}

package dev.outpost.edge.http;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;

/**
 * Recognises, in a connection's raw bytes ahead of Netty's HTTP codec, the simplest complete form of a hot request
 * ({@link RawFastPath}), and says for anything else that it is not one. Reused per connection: {@link #parse} fills the
 * fields of the request it recognised.
 *
 * <p>Design note. This parser decides only one thing: "this is certainly a plain hot request, framed by its
 * Content-Length, that the fast path answers as the router would" — or not. It never rejects anything: every request
 * it is not sure about is {@link #NOT_HOT} and goes, byte for byte, to the codec and the paths behind it, which answer
 * it as they always did (a bad request line, a malformed header, odd whitespace, obs-fold, bytes outside visible ASCII,
 * a repeated header that matters, Transfer-Encoding, Content-Encoding, Expect, Upgrade, a Connection other than
 * keep-alive, HTTP/1.0, a head over {@link #HEAD_BYTES_MAX} or a request over {@link #REQUEST_BYTES_MAX}). So it is at
 * least as strict as the codec on every byte it accepts, and the framing it derives (head, then exactly Content-Length
 * bytes) is the only one such a request can have. Header names are matched case-insensitively; values exactly, as
 * the codec-level fast path ({@link FastPath#route}) and {@link StateReadFastPath} compare them.
 */
final class RawRequest {
    /** The bytes at the buffer's reader index may still become a hot request: wait for more. */
    static final int NEED_MORE = -1;
    /** Not a request this path answers (or not one it is sure about): the codec's. */
    static final int NOT_HOT = -2;
    /** Internal: the head did not end in the bytes copied so far, and more have arrived. */
    private static final int WIDER = -3;
    /** Bytes of a request copied first to parse its head (most heads are a few hundred bytes). */
    private static final int FIRST_WINDOW_BYTES = 1024;

    /**
     * The head is parsed from a copy: one bounds-checked copy out of the pooled buffer instead of a checked read per
     * byte; one array per event loop (a parse runs whole on its loop; the strings it makes are copies).
     */
    private static final FastThreadLocal<byte[]> HEAD = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[HEAD_BYTES_MAX];
        }
    };

    /** Longest head (request line and headers) taken here; well under the codec's own limit. */
    static final int HEAD_BYTES_MAX = 4096;
    /** Longest whole request (head and body) taken here; a longer one is the codec's (with its body-rate rule). */
    static final int REQUEST_BYTES_MAX = 64 * 1024;

    private static final byte[] POST_EVENTS = ascii("POST /v1/events HTTP/1.1\r\n");
    private static final byte[] GET_HEALTH = ascii("GET /health HTTP/1.1\r\n");
    private static final byte[] GET_STATE = ascii("GET /v1/state/");
    private static final byte[] VERSION = ascii(" HTTP/1.1\r\n");
    private static final byte[] JSON = ascii("application/json");
    private static final byte[] NDJSON = ascii(EventsController.NDJSON);
    private static final byte[] ANY = ascii("*/*");
    private static final byte[] KEEP_ALIVE = ascii("keep-alive");
    /** Longest state path after the prefix: two segments of at most 256 characters and the slash. */
    private static final int STATE_PATH_BYTES_MAX = 513;

    /** The kinds of hot request. */
    enum Kind {
        INGEST_JSON,
        INGEST_NDJSON,
        HEALTH,
        STATE
    }

    /** The headers that matter, one bit each; a repeated one makes the request the codec's. */
    private static final String[] NAMES = {
        "content-length", "content-type", "authorization", "accept", "connection", "idempotency-key",
        "transfer-encoding", "content-encoding", "expect", "upgrade", "accept-encoding", "if-none-match",
        "if-match", "if-modified-since", "range", "trailer"
    };

    private static final byte[][] NAME_BYTES = new byte[NAMES.length][];

    static {
        for (int i = 0; i < NAMES.length; i++) {
            NAME_BYTES[i] = ascii(NAMES[i]);
        }
    }

    private static final int CONTENT_LENGTH = 0;
    private static final int CONTENT_TYPE = 1;
    private static final int AUTHORIZATION = 2;
    private static final int ACCEPT = 3;
    private static final int CONNECTION = 4;
    private static final int IDEMPOTENCY_KEY = 5;
    private static final int ACCEPT_ENCODING = 10;
    /** Headers whose mere presence makes any hot request the codec's. */
    private static final int NEVER = bits(6, 7, 8, 9, 15);
    /** Headers that make a state GET the router's (conditional and range requests). */
    private static final int CONDITIONAL = bits(11, 12, 13, 14);

    // what parse() found (valid until the next parse)
    Kind kind;
    /** Offset of the body from the request's start, and its length. */
    int headBytes;

    int contentLength;
    /** With {@link #NEED_MORE}: the head is complete (and hot), the body is still arriving. */
    boolean headComplete;

    String authorization;
    String idempotencyKey;
    boolean acceptEncoding;
    /** The state GET's namespace and id. */
    String namespace;

    String id;
    /** A Content-Type other than the two exact ones, for {@link FastPath#ingestKind}. */
    private String contentType;

    private int seen;
    private final int[] valueStart = new int[NAMES.length];
    private final int[] valueEnd = new int[NAMES.length];

    /**
     * Looks at the bytes from {@code b}'s reader index (not moving it).
     *
     * @return the length of the complete hot request there, {@link #NEED_MORE} or {@link #NOT_HOT}
     */
    int parse(ByteBuf buf, long bodyBytesMax, boolean compression) {
        headComplete = false;
        int avail = buf.readableBytes();
        byte[] b = HEAD.get();
        int window = Math.min(avail, FIRST_WINDOW_BYTES);
        buf.getBytes(buf.readerIndex(), b, 0, window);
        int head = head(b, window, avail);
        if (head == WIDER) {
            int wider = Math.min(avail, HEAD_BYTES_MAX);
            buf.getBytes(buf.readerIndex() + window, b, window, wider - window);
            head = head(b, wider, avail);
        }
        if (head < 0) {
            return head;
        }
        headBytes = head;
        if (!framing(b) || !plain(b, compression)) {
            return NOT_HOT;
        }
        long total = (long) headBytes + contentLength;
        if (contentLength > bodyBytesMax || total > REQUEST_BYTES_MAX) {
            return NOT_HOT;
        }
        if (kind != Kind.HEALTH && kind != Kind.STATE) {
            kind = ingestKind(b);
            if (kind == null) {
                return NOT_HOT;
            }
        }
        headComplete = true;
        return avail < total ? NEED_MORE : (int) total;
    }

    /** The head's length in {@code b[0, end)} ({@code avail} bytes arrived), or NEED_MORE, NOT_HOT or WIDER. */
    private int head(byte[] b, int end, int avail) {
        int at = requestLine(b, 0, end);
        return at < 0 ? at : headers(b, at, end, avail);
    }

    /** The offset after a hot request line at {@code start}, sets {@link #kind}; or NEED_MORE / NOT_HOT. */
    private int requestLine(byte[] b, int start, int end) {
        int m = match(b, start, end, POST_EVENTS);
        if (m != NOT_HOT) {
            kind = Kind.INGEST_JSON; // or NDJSON, by the Content-Type
            return m == 0 ? start + POST_EVENTS.length : m;
        }
        m = match(b, start, end, GET_HEALTH);
        if (m != NOT_HOT) {
            kind = Kind.HEALTH;
            return m == 0 ? start + GET_HEALTH.length : m;
        }
        m = match(b, start, end, GET_STATE);
        if (m != 0) {
            return m;
        }
        kind = Kind.STATE;
        int from = start + GET_STATE.length;
        int limit = Math.min(end, from + STATE_PATH_BYTES_MAX + 1);
        int space = indexOf(b, from, limit, (byte) ' ');
        if (space < 0) {
            return limit == end ? NEED_MORE : NOT_HOT;
        }
        String path = new String(b, from, space - from, StandardCharsets.ISO_8859_1);
        int slash = path.indexOf('/');
        if (slash < 0
                || !StateReadFastPath.plainSegment(path, 0, slash)
                || !StateReadFastPath.plainSegment(path, slash + 1, path.length())) {
            return NOT_HOT;
        }
        m = match(b, space, end, VERSION);
        if (m != 0) {
            return m;
        }
        namespace = path.substring(0, slash);
        id = path.substring(slash + 1);
        return space + VERSION.length;
    }

    /** 0 if {@code lit} is at {@code at}; NEED_MORE if what arrived is a prefix of it; else NOT_HOT. */
    private static int match(byte[] b, int at, int end, byte[] lit) {
        int n = Math.min(lit.length, end - at);
        for (int i = 0; i < n; i++) {
            if (b[at + i] != lit[i]) {
                return NOT_HOT;
            }
        }
        return n == lit.length ? 0 : NEED_MORE;
    }

    /** Reads the header lines from {@code at}; the offset after the empty line, or NEED_MORE / NOT_HOT. */
    private int headers(byte[] b, int at, int end, int avail) {
        seen = 0;
        int limit = Math.min(end, HEAD_BYTES_MAX);
        while (true) {
            int nl = indexOf(b, at, limit, (byte) '\n');
            if (nl < 0) {
                return limit >= HEAD_BYTES_MAX ? NOT_HOT : end < avail ? WIDER : NEED_MORE;
            }
            if (nl == at || b[nl - 1] != '\r') {
                return NOT_HOT; // a bare LF
            }
            if (nl - 1 == at) {
                return nl + 1; // the empty line: the head ends
            }
            if (!header(b, at, nl - 1)) {
                return NOT_HOT;
            }
            at = nl + 1;
        }
    }

    /** One header line {@code [from, to)} (without CRLF): a token, a colon, a value of visible ASCII. */
    private boolean header(byte[] b, int from, int to) {
        int colon = from;
        while (colon < to && tchar(b[colon])) {
            colon++;
        }
        if (colon == from || colon == to || b[colon] != ':') {
            return false; // no name, obs-fold, whitespace before the colon, a character outside a token
        }
        int vs = colon + 1;
        while (vs < to && ows(b[vs])) {
            vs++;
        }
        int ve = to;
        while (ve > vs && ows(b[ve - 1])) {
            ve--;
        }
        for (int i = vs; i < ve; i++) {
            byte c = b[i];
            if ((c < 0x20 && c != '\t') || c >= 0x7F) {
                return false; // a control character, DEL or a byte beyond ASCII: the codec's to judge
            }
        }
        int name = known(b, from, colon);
        if (name >= 0) {
            int bit = 1 << name;
            if ((seen & bit) != 0) {
                return false; // repeated: the codec and the router decide
            }
            seen |= bit;
            valueStart[name] = vs;
            valueEnd[name] = ve;
        }
        return true;
    }

    /** The index in {@link #NAMES} of the header name {@code [from, to)}, or -1. */
    private static int known(byte[] b, int from, int to) {
        int n = to - from;
        for (int i = 0; i < NAME_BYTES.length; i++) {
            byte[] lit = NAME_BYTES[i];
            if (lit.length == n && equalsIgnoreCase(b, from, lit)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean equalsIgnoreCase(byte[] b, int at, byte[] lowerLit) {
        for (int i = 0; i < lowerLit.length; i++) {
            int c = b[at + i];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != lowerLit[i]) {
                return false;
            }
        }
        return true;
    }

    /** Content-Length as the kind needs it (one, 1..10 digits, on ingests; none on GETs); sets the length. */
    private boolean framing(byte[] b) {
        if ((seen & NEVER) != 0) {
            return false;
        }
        boolean hasLength = has(CONTENT_LENGTH);
        if (kind == Kind.HEALTH || kind == Kind.STATE) {
            contentLength = 0;
            return !hasLength && (kind == Kind.HEALTH || (seen & CONDITIONAL) == 0);
        }
        if (!hasLength) {
            return false;
        }
        int vs = valueStart[CONTENT_LENGTH];
        int ve = valueEnd[CONTENT_LENGTH];
        if (ve == vs || ve - vs > 10) {
            return false;
        }
        long n = 0;
        for (int i = vs; i < ve; i++) {
            byte c = b[i];
            if (c < '0' || c > '9') {
                return false;
            }
            n = n * 10 + (c - '0');
        }
        if (n <= 0 || n > Integer.MAX_VALUE) {
            return false; // an empty body: the router's 400
        }
        contentLength = (int) n;
        return true;
    }

    /** Connection, Accept and Accept-Encoding as the fast path takes them; the token and the key read. */
    private boolean plain(byte[] b, boolean compression) {
        if (has(CONNECTION) && !valueIgnoreCase(b, CONNECTION, KEEP_ALIVE)) {
            return false; // close (and anything else): the codec's, which closes after the answer
        }
        if (has(ACCEPT) && !value(b, ACCEPT, ANY) && !value(b, ACCEPT, JSON)) {
            return false;
        }
        acceptEncoding = has(ACCEPT_ENCODING);
        if (acceptEncoding && compression && kind != Kind.HEALTH && kind != Kind.STATE) {
            return false; // a large answer would be compressed by the router's handler
        }
        authorization = string(b, AUTHORIZATION);
        idempotencyKey = string(b, IDEMPOTENCY_KEY);
        return true;
    }

    /** JSON or NDJSON by Content-Type, as {@link FastPath#ingestKind} tells them; null for any other. */
    private Kind ingestKind(byte[] b) {
        if (!has(CONTENT_TYPE) || value(b, CONTENT_TYPE, JSON)) {
            return Kind.INGEST_JSON;
        }
        if (value(b, CONTENT_TYPE, NDJSON)) {
            return Kind.INGEST_NDJSON;
        }
        contentType = string(b, CONTENT_TYPE);
        FastPath.Route r = FastPath.ingestKind(contentType);
        return r == FastPath.Route.INGEST_JSON
                ? Kind.INGEST_JSON
                : r == FastPath.Route.INGEST_NDJSON ? Kind.INGEST_NDJSON : null;
    }

    private boolean has(int name) {
        return (seen & (1 << name)) != 0;
    }

    private boolean value(byte[] b, int name, byte[] lit) {
        int vs = valueStart[name];
        if (valueEnd[name] - vs != lit.length) {
            return false;
        }
        for (int i = 0; i < lit.length; i++) {
            if (b[vs + i] != lit[i]) {
                return false;
            }
        }
        return true;
    }

    private boolean valueIgnoreCase(byte[] b, int name, byte[] lowerLit) {
        return valueEnd[name] - valueStart[name] == lowerLit.length && equalsIgnoreCase(b, valueStart[name], lowerLit);
    }

    /** The value of a header that appeared, as the codec would give it (ASCII), or null. */
    private String string(byte[] b, int name) {
        return has(name)
                ? new String(b, valueStart[name], valueEnd[name] - valueStart[name], StandardCharsets.ISO_8859_1)
                : null;
    }

    /** RFC 9110 token characters. */
    private static boolean tchar(byte c) {
        return c >= 0 && TCHAR[c];
    }

    private static final boolean[] TCHAR = new boolean[128];

    static {
        for (int c = 0; c < 128; c++) {
            TCHAR[c] = c >= 'a' && c <= 'z'
                    || c >= 'A' && c <= 'Z'
                    || c >= '0' && c <= '9'
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
        }
    }

    private static int indexOf(byte[] b, int from, int to, byte v) {
        for (int i = from; i < to; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    private static boolean ows(byte c) {
        return c == ' ' || c == '\t';
    }

    private static int bits(int... names) {
        int m = 0;
        for (int n : names) {
            m |= 1 << n;
        }
        return m;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

package dev.outpost.edge.http;

import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * A request target whose percent-encoding is broken (a '%' not followed by two hex digits: {@code %zz}, a trailing
 * {@code %}) is the client's error: 400 naming the query parameter at fault. Netty's {@link QueryStringDecoder} throws
 * IllegalArgumentException for it (which, thrown from a handler ahead of the router, left the request unanswered) and
 * Micronaut's routing a URISyntaxException ({@link MalformedUriHandler}); both become the problem made here, so the
 * answer is the same whichever path meets the request first.
 */
final class PercentEscapes {
    /** What a well-formed escape is, for a problem's detail. */
    static final String RULE = "a '%' must be followed by two hex digits (write '%' itself as %25)";

    private PercentEscapes() {}

    /**
     * The query parameters of {@code uri}, as {@link QueryStringDecoder} decodes them (at most {@code maxParams}); a
     * malformed escape is a ProblemException (400) naming the parameter it is in.
     */
    static Map<String, List<String>> parameters(String uri, int maxParams) {
        try {
            return new QueryStringDecoder(uri, StandardCharsets.UTF_8, true, maxParams).parameters();
        } catch (IllegalArgumentException e) {
            int query = uri.indexOf('?');
            int at = malformedAt(uri, query < 0 ? uri.length() : query + 1);
            throw at < 0
                    ? new ProblemException(
                            400, "Invalid query", "the query does not decode: " + e.getMessage(), 0, null)
                    : problem(uri, at);
        }
    }

    /**
     * The problem for a malformed escape at index {@code at} of {@code uri}: in the query, 400 "Invalid query" naming
     * the parameter; in the path, 400 "Invalid path" naming none (the path's parts are named by the route).
     */
    static ProblemException problem(String uri, int at) {
        String parameter = parameterAt(uri, at);
        String what = "malformed percent-encoding at character " + (at + 1) + " of the request target: " + RULE;
        return parameter == null
                ? new ProblemException(400, "Invalid path", "the path has " + what, 0, null)
                : new ProblemException(400, "Invalid query", "parameter " + parameter + " has " + what, 0, parameter);
    }

    /** The index of the first '%' in {@code s} from {@code from} on not followed by two hex digits, or -1. */
    static int malformedAt(String s, int from) {
        for (int i = s.indexOf('%', from); i >= 0; i = s.indexOf('%', i + 1)) {
            if (i + 2 >= s.length() || !hex(s.charAt(i + 1)) || !hex(s.charAt(i + 2))) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The name of the query parameter whose name or value holds index {@code at} of {@code uri} (decoded if it
     * decodes, else as written), or null if {@code at} is in the path. Parameters are separated by '&' or ';', as
     * {@link QueryStringDecoder} separates them.
     */
    static String parameterAt(String uri, int at) {
        int query = uri.indexOf('?');
        if (query < 0 || at <= query) {
            return null;
        }
        int start = query + 1;
        for (int i = query + 1; i < at && i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '&' || c == ';') {
                start = i + 1;
            }
        }
        int end = start;
        while (end < uri.length() && uri.charAt(end) != '&' && uri.charAt(end) != ';' && uri.charAt(end) != '#') {
            end++;
        }
        int eq = uri.indexOf('=', start);
        String name = uri.substring(start, eq < 0 || eq > end ? end : eq);
        try {
            return QueryStringDecoder.decodeComponent(name, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return name; // the name itself is malformed: named as the client wrote it
        }
    }

    private static boolean hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}

package dev.outpost.edge.http;

import dev.outpost.edge.config.LiveConfig;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The one server filter on /v1: when {@code http.api_token} is set, requests need {@code Authorization: Bearer
 * <token>} (401); then a JSON body must be UTF-8 ({@link JsonCharset}, 415). One filter, not one per check: each
 * Micronaut filter costs every request its matching and ordering (measured: a second filter took ~5 % of single-event
 * ingest CPU, docs/BENCHMARKS.md).
 */
@ServerFilter("/v1/**")
public class ApiScreen {
    /** The answer to a /v1 request without the token (the router's and the fast path's). */
    static final Answer UNAUTHORIZED = Problems.answer(
                    401,
                    "Unauthorized",
                    "this agent requires 'Authorization: Bearer <http.api_token>'",
                    0,
                    "Authorization")
            .with("WWW-Authenticate", "Bearer");

    private final byte[] token;

    public ApiScreen(LiveConfig config) {
        String t = config.current().http().apiToken();
        this.token = t == null || t.isEmpty() ? null : t.getBytes(StandardCharsets.UTF_8);
    }

    /** Whether requests need the token (http.api_token is set). */
    public boolean required() {
        return token != null;
    }

    /** Whether a /v1 request with this {@code Authorization} header (or none) may pass. */
    public boolean admits(@Nullable String authorization) {
        return token == null
                || (authorization != null
                        && authorization.startsWith("Bearer ")
                        && MessageDigest.isEqual(
                                token, authorization.substring(7).getBytes(StandardCharsets.UTF_8)));
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> check(HttpRequest<?> request) {
        if (token == null
                || SyncController.NODE_AUTHENTICATED.contains(request.getPath())
                || request.getPath().startsWith(SyncController.DICTIONARY_PATH)
                || admits(request.getHeaders().get("Authorization"))) {
            // pushes carry a node's own token instead (hub.nodes)
            return JsonCharset.refusal(request);
        }
        return UNAUTHORIZED.toMicronaut();
    }
}

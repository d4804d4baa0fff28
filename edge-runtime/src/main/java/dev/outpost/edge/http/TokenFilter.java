package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** When {@code http.api_token} is set, /v1 requests need {@code Authorization: Bearer <token>}. */
@ServerFilter("/v1/**")
public class TokenFilter {
    private final byte[] token;

    public TokenFilter(Agent agent) {
        String t = agent.config().http().apiToken();
        this.token = t == null || t.isEmpty() ? null : t.getBytes(StandardCharsets.UTF_8);
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
                || request.getPath().startsWith(SyncController.DICTIONARY_PATH)) {
            return null; // pushes carry a node's own token instead (hub.nodes)
        }
        if (admits(request.getHeaders().get("Authorization"))) {
            return null;
        }
        return Problems.response(
                        401,
                        "Unauthorized",
                        "this agent requires 'Authorization: Bearer <http.api_token>'",
                        0,
                        "Authorization")
                .header("WWW-Authenticate", "Bearer");
    }
}

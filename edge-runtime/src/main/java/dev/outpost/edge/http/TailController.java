package dev.outpost.edge.http;

import dev.outpost.edge.live.LiveFeed;
import dev.outpost.edge.live.TailRefusal;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;

/**
 * GET /v1/events/tail when {@link EventTailPath} did not take it: answers why it cannot stream, with the checks the
 * path makes (a bad parameter or start is 400 naming it, a full house 503 with Retry-After; the token is the API
 * filter's). A request that passes them all got here because it was not alone on its connection, or not HTTP/1.1.
 */
@Controller
public class TailController {
    private final LiveFeed feed;

    public TailController(LiveFeed feed) {
        this.feed = feed;
    }

    @Get(
            value = TailRequest.PATH,
            produces = {Problems.MEDIA_TYPE, "text/event-stream", "application/json"})
    public HttpResponse<String> tail(HttpRequest<?> request, @Nullable @Header("Last-Event-ID") String lastEventId) {
        TailRequest tail = TailRequest.parse(request.getUri().toString(), lastEventId);
        try {
            feed.check(tail.start());
        } catch (TailRefusal e) {
            return Problems.response(400, "Invalid query", e.getMessage(), 0, e.field());
        }
        if (feed.full()) {
            return Problems.response(
                    503,
                    "Too many subscribers",
                    feed.subscribers() + " live subscriptions are held (live.subscribers_max)",
                    0,
                    null);
        }
        return Problems.response(
                409,
                "Cannot stream here",
                "a live tail needs an HTTP/1.1 connection with no other request in flight; open a new connection",
                0,
                null);
    }
}

package dev.outpost.edge.http;

import dev.outpost.edge.hub.Hub;
import dev.outpost.edge.live.LiveFeed;
import dev.outpost.edge.live.TailRefusal;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.swagger.v3.oas.annotations.responses.ApiResponse;

/**
 * GET /v1/events/tail when {@link EventTailPath} did not take it: answers why it cannot stream, with the checks the
 * path makes (a bad parameter or start is 400 naming it, a full house 503 with Retry-After; the token is the API
 * filter's). A request that passes them all got here because it was not alone on its connection, or not HTTP/1.1. The
 * fleet tail on a hub with hub.backend: kafka always comes here (no node logs to tail): 501 naming the topics.
 */
@Controller
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "404", ref = OpenApiController.NOT_FOUND)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "409", ref = OpenApiController.CONFLICT)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class TailController {
    private final LiveFeed feed;
    private final Hub hub; // null: not a hub

    public TailController(LiveFeed feed, @Nullable Hub hub) {
        this.feed = feed;
        this.hub = hub;
    }

    /** The hub's fleet tail when {@link EventTailPath} did not take it (the same checks). */
    @ApiResponse(responseCode = "501", ref = OpenApiController.NOT_IMPLEMENTED)
    @Get(
            value = TailRequest.FLEET_PATH,
            produces = {Problems.MEDIA_TYPE, "text/event-stream", "application/json"})
    public HttpResponse<String> fleetTail(
            HttpRequest<?> request, @Nullable @Header("Last-Event-ID") String lastEventId) {
        if (hub == null) {
            return Problems.response(404, "Not a hub", "this agent is not a hub (hub.enabled)", 0, null);
        }
        if (hub.kafkaBackend()) {
            return Problems.response(
                    501,
                    Problems.KAFKA_BACKEND,
                    Problems.kafkaBackend(TailRequest.FLEET_PATH, hub.kafkaTopicPrefix()),
                    0,
                    "hub.backend");
        }
        TailRequest tail = TailRequest.parse(request.getUri().toString(), lastEventId, true);
        try {
            for (String node : tail.nodes()) {
                hub.tail().feed(node).check(tail.start());
            }
        } catch (TailRefusal e) {
            return Problems.response(400, "Invalid query", e.getMessage(), 0, e.field());
        }
        return hub.tail().pool().full() ? tooMany(hub.tail().pool().subscribers()) : cannotStream();
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
        return feed.full() ? tooMany(feed.subscribers()) : cannotStream();
    }

    private static HttpResponse<String> tooMany(int held) {
        return Problems.response(
                503, "Too many subscribers", held + " live subscriptions are held (live.subscribers_max)", 0, null);
    }

    private static HttpResponse<String> cannotStream() {
        return Problems.response(
                409,
                "Cannot stream here",
                "a live tail needs an HTTP/1.1 connection with no other request in flight; open a new connection",
                0,
                null);
    }
}

package dev.outpost.edge.http;

import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Status;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;

/**
 * GET /v1/ws for the router: {@link WebSocketPath} takes every upgrade it can serve in the Netty pipeline; what
 * reaches the router is a request it did not take (no {@code Upgrade: websocket}, another HTTP version, pipelined
 * behind an unanswered request) or one whose {@code access_token} cannot be a credential, answered 400 naming it (as
 * every malformed parameter is, whatever the Authorization header says), else 426 problem+json saying how to ask.
 * Being a route, {@code /v1/ws} is in the OpenAPI document and the token filter covers it like every /v1 path.
 */
@Controller(WebSocketPath.PATH)
@ApiResponse(
        responseCode = "101",
        description = "Switched to a WebSocket carrying JSON control messages and subscriptions (docs/API.md,"
                + " \"WebSocket\"); taken in the Netty pipeline ahead of the router.")
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class WebSocketController {
    private final ApiScreen tokens;

    public WebSocketController(ApiScreen tokens) {
        this.tokens = tokens;
    }

    /** Not a WebSocket upgrade the pipeline could take. */
    @Get(produces = Problems.MEDIA_TYPE)
    @Status(HttpStatus.UPGRADE_REQUIRED) // what the router answers here: the only success is the pipeline's 101
    @ApiResponse(
            responseCode = "426",
            description = "not a WebSocket upgrade the pipeline could take",
            content = @Content(mediaType = Problems.MEDIA_TYPE, schema = @Schema(ref = OpenApiController.PROBLEM)))
    public HttpResponse<String> notUpgraded(HttpRequest<?> request) {
        WebSocketPath.queryToken(request.getParameters().asMap(), tokens); // a broken one: 400 naming it
        return Problems.response(
                        426,
                        "Upgrade required",
                        "GET /v1/ws is a WebSocket: send an HTTP/1.1 request with 'Connection: Upgrade' and"
                                + " 'Upgrade: websocket'",
                        0,
                        "Upgrade")
                .header("Upgrade", "websocket");
    }
}

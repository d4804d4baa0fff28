package dev.outpost.edge.http;

import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * GET /v1/openapi.yaml: the agent's OpenAPI 3.1 document, as micronaut-openapi wrote it at build time from the
 * controllers, merged with {@code src/main/openapi/outpost-common.yml} (the problem+json schema and one response per
 * error status, which the controllers name with the constants below).
 *
 * <p>Design note. The document is generated, never written by hand, so it cannot drift from the routes: OpenApiDocTest
 * compares it with the router's routes of a running agent (both ways) and with the problem documents the agent
 * answers. Every controller declares the error statuses its operations answer ({@code @ApiResponse} with a {@code ref}
 * below); the pipeline paths ({@link FastPath}, {@link EventTailPath}, {@link WebSocketPath}) answer requests the
 * router would otherwise answer, each with a controller behind it, so their routes are documented by that controller.
 * The bytes are read once, at start.
 */
@Controller("/v1/openapi.yaml")
@OpenAPIDefinition(
        info =
                @Info(
                        title = "Outpost",
                        version = "1",
                        description = "The HTTP API of an Outpost agent (edge or hub); docs/API.md says the rest."))
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
public class OpenApiController {
    /** Where micronaut-openapi writes the document (edge-runtime/openapi.properties names it). */
    static final String RESOURCE = "META-INF/swagger/outpost.yml";

    static final String MEDIA_TYPE = "application/yaml";

    /** The problem+json schema (outpost-common.yml). */
    static final String PROBLEM = "#/components/schemas/Problem";

    private static final String RESPONSES = "#/components/responses/";
    static final String BAD_REQUEST = RESPONSES + "BadRequest";
    static final String UNAUTHORIZED = RESPONSES + "Unauthorized";
    static final String FORBIDDEN = RESPONSES + "Forbidden";
    static final String NOT_FOUND = RESPONSES + "NotFound";
    static final String REQUEST_TIMEOUT = RESPONSES + "RequestTimeout";
    static final String CONFLICT = RESPONSES + "Conflict";
    static final String PRECONDITION_FAILED = RESPONSES + "PreconditionFailed";
    static final String CONTENT_TOO_LARGE = RESPONSES + "ContentTooLarge";
    static final String UNSUPPORTED_MEDIA_TYPE = RESPONSES + "UnsupportedMediaType";
    static final String UNPROCESSABLE = RESPONSES + "UnprocessableContent";
    static final String UPGRADE_REQUIRED = RESPONSES + "UpgradeRequired";
    static final String TOO_MANY_REQUESTS = RESPONSES + "TooManyRequests";
    static final String INTERNAL_ERROR = RESPONSES + "InternalServerError";
    static final String NOT_IMPLEMENTED = RESPONSES + "NotImplemented";
    static final String SERVICE_UNAVAILABLE = RESPONSES + "ServiceUnavailable";
    static final String INSUFFICIENT_STORAGE = RESPONSES + "InsufficientStorage";

    private final byte[] document;

    public OpenApiController() {
        try (InputStream in = OpenApiController.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing: the build runs micronaut-openapi");
            }
            this.document = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The document (YAML). */
    @Get(produces = MEDIA_TYPE)
    public HttpResponse<byte[]> document() {
        return HttpResponse.ok(document).contentType(MEDIA_TYPE);
    }
}

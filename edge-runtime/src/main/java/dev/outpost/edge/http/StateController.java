package dev.outpost.edge.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.edge.config.LiveConfig;
import dev.outpost.edge.state.StatePage;
import dev.outpost.edge.state.StateRefusal;
import dev.outpost.edge.state.StateService;
import dev.outpost.store.DiskFullException;
import dev.outpost.store.HybridClock;
import dev.outpost.store.StateDoc;
import dev.outpost.store.StateStoreFullException;
import dev.outpost.store.StoreException;
import dev.outpost.store.json.JsonPatch;
import dev.outpost.store.json.JsonPatchException;
import dev.outpost.store.json.JsonTree;
import dev.outpost.store.json.MergePatch;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Patch;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Put;
import io.micronaut.http.annotation.QueryValue;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * State documents over HTTP. The ETag is the version ({@code "3"}); {@code If-Match} with a
 * version (or {@code *}) makes a write conditional (412 on mismatch); {@code If-None-Match: *}
 * creates only. PATCH takes {@code application/merge-patch+json} (RFC 7396) or {@code
 * application/json-patch+json} (RFC 6902). A write is answered once it is durable.
 */
@Controller("/v1/state")
@ApiResponse(responseCode = "400", ref = OpenApiController.BAD_REQUEST)
@ApiResponse(responseCode = "401", ref = OpenApiController.UNAUTHORIZED)
@ApiResponse(responseCode = "404", ref = OpenApiController.NOT_FOUND)
@ApiResponse(responseCode = "408", ref = OpenApiController.REQUEST_TIMEOUT)
@ApiResponse(responseCode = "409", ref = OpenApiController.CONFLICT)
@ApiResponse(responseCode = "412", ref = OpenApiController.PRECONDITION_FAILED)
@ApiResponse(responseCode = "413", ref = OpenApiController.CONTENT_TOO_LARGE)
@ApiResponse(responseCode = "415", ref = OpenApiController.UNSUPPORTED_MEDIA_TYPE)
@ApiResponse(responseCode = "422", ref = OpenApiController.UNPROCESSABLE)
@ApiResponse(responseCode = "503", ref = OpenApiController.SERVICE_UNAVAILABLE)
@ApiResponse(responseCode = "507", ref = OpenApiController.INSUFFICIENT_STORAGE)
public class StateController {
    /** RFC 7396 media type. */
    public static final String MERGE_PATCH = "application/merge-patch+json";
    /** RFC 6902 media type. */
    public static final String JSON_PATCH = "application/json-patch+json";

    private final StateService state;
    private final LiveConfig config;
    private final CursorSeal cursorSeal;

    public StateController(StateService state, LiveConfig config, CursorSeal cursorSeal) {
        this.state = state;
        this.config = config;
        this.cursorSeal = cursorSeal;
    }

    /**
     * The document; {@code If-None-Match} with its current ETag (or {@code *}) answers 304 without a
     * body, so a client polling a document it holds pays only for the headers (RFC 9110 §13.1.2).
     */
    @Get(value = "/{namespace}/{id}", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> get(
            @PathVariable String namespace,
            @PathVariable String id,
            @Nullable @Header("If-None-Match") String ifNoneMatch) {
        StateDoc d = state.get(namespace, id);
        if (d == null) {
            return Problems.response(
                    404, "Not found", "state document " + namespace + "/" + id + " does not exist", 0, null);
        }
        String etag = etag(d.version());
        if (ifNoneMatch != null && matchesAny(ifNoneMatch, etag)) {
            return HttpResponse.notModified().header("ETag", etag);
        }
        return HttpResponse.ok(json(d)).header("ETag", etag).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    /** Whether an If-None-Match list names {@code etag} or is {@code *} (weak comparison: W/ is ignored). */
    static boolean matchesAny(String header, String etag) {
        for (String tag : header.split(",")) {
            String t = tag.strip();
            if (t.equals("*") || (t.startsWith("W/") ? t.substring(2) : t).equals(etag)) {
                return true;
            }
        }
        return false;
    }

    @Get(value = "/{namespace}/{id}/history", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> history(@PathVariable String namespace, @PathVariable String id) {
        List<StateService.HistoryEntry> h =
                state.history(namespace, id, config.current().state().historyMax() + 1);
        if (h == null) {
            return Problems.response(
                    404, "Not found", "state document " + namespace + "/" + id + " has no history", 0, null);
        }
        String body = Json.write(g -> {
            g.writeStartObject();
            g.writeStringField("namespace", namespace);
            g.writeStringField("id", id);
            g.writeArrayFieldStart("changes");
            for (StateService.HistoryEntry e : h) {
                g.writeStartObject();
                g.writeNumberField("version", e.version());
                g.writeStringField("op", e.deleted() ? "delete" : "put");
                g.writeNumberField("updated_at", HybridClock.millis(e.hlc()));
                g.writeStringField("origin", e.origin());
                g.writeNumberField("seq", e.seq());
                if (e.lost()) {
                    g.writeBooleanField("lost", true);
                }
                g.writeFieldName("doc");
                if (e.deleted()) {
                    g.writeNull();
                } else {
                    g.writeRawValue(new String(e.doc(), StandardCharsets.UTF_8)); // stored JSON, checked when written
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
        return HttpResponse.ok(body).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    @Put(value = "/{namespace}/{id}", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    public CompletableFuture<MutableHttpResponse<String>> put(
            @PathVariable String namespace,
            @PathVariable String id,
            @Body byte[] body,
            @Nullable @Header("If-Match") String ifMatch,
            @Nullable @Header("If-None-Match") String ifNoneMatch) {
        return answer(() -> state.put(namespace, id, body, precondition(ifMatch, ifNoneMatch)));
    }

    @Patch(
            value = "/{namespace}/{id}",
            consumes = {MERGE_PATCH, JSON_PATCH},
            produces = MediaType.APPLICATION_JSON)
    public CompletableFuture<MutableHttpResponse<String>> patch(
            HttpRequest<?> request,
            @PathVariable String namespace,
            @PathVariable String id,
            @Body byte[] body,
            @Nullable @Header("If-Match") String ifMatch) {
        boolean merge = request.getContentType()
                .map(t -> t.getName().equals(MERGE_PATCH))
                .orElse(false);
        Object patch;
        try {
            patch = JsonTree.parse(body, 0, body.length);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(
                    Problems.response(400, "Invalid patch", "malformed JSON: " + e.getMessage(), 0, null));
        }
        UnaryOperator<Object> op = merge
                ? current -> MergePatch.apply(current, patch)
                : current -> {
                    try {
                        return JsonPatch.apply(current, patch);
                    } catch (JsonPatchException e) {
                        // A patch that is no valid RFC 6902 patch is the request's fault (RFC 5789 §2.2: 400); a
                        // valid one that does not apply to this document (a failed test, a missing path) is 409.
                        throw e.malformed()
                                ? new ProblemException(400, "Invalid patch", e.getMessage(), 0, e.pointer())
                                : new ProblemException(409, "Patch cannot be applied", e.getMessage(), 0, e.pointer());
                    } catch (RuntimeException e) {
                        throw new ProblemException(409, "Patch cannot be applied", e.getMessage(), 0, null);
                    }
                };
        return answer(() -> state.patch(namespace, id, op, precondition(ifMatch, null)));
    }

    @Delete(value = "/{namespace}/{id}")
    public CompletableFuture<MutableHttpResponse<String>> delete(
            @PathVariable String namespace, @PathVariable String id, @Nullable @Header("If-Match") String ifMatch) {
        return answer(() -> state.delete(namespace, id, precondition(ifMatch, null)));
    }

    /** The query parameters of a state listing. */
    private static final java.util.Set<String> LIST_PARAMETERS = java.util.Set.of("prefix", "cursor", "limit");

    @Get(value = "/{namespace}", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> list(
            HttpRequest<?> request,
            @PathVariable String namespace,
            @Nullable @QueryValue String prefix,
            @Nullable @QueryValue String cursor,
            @Nullable @QueryValue String limit) {
        KnownParameters.check(request, LIST_PARAMETERS);
        int n = config.current().query().limitDefault();
        if (limit != null) {
            try {
                n = Integer.parseInt(limit);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > config.current().query().limitMax()) {
                throw new ProblemException(
                        400,
                        "Invalid query",
                        "limit must be 1 to " + config.current().query().limitMax(),
                        0,
                        "limit");
            }
        }
        CursorSeal.Scoped cursors =
                cursorSeal.scoped("state:" + namespace + "?prefix=" + (prefix == null ? "" : prefix));
        String after = cursor == null ? null : cursors.unseal(cursor);
        if (cursor != null && after == null) {
            throw new ProblemException(400, "Invalid query", EventsController.CURSOR_NOT_OURS, 0, "cursor");
        }
        StatePage page = state.list(namespace, prefix, after, n);
        List<StateDoc> docs = page.docs();
        String next =
                page.more() && !docs.isEmpty() ? cursors.seal(docs.getLast().id()) : null;
        String body = Json.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("documents");
            for (StateDoc d : docs) {
                write(g, d);
            }
            g.writeEndArray();
            g.writeStringField("next_cursor", next);
            g.writeEndObject();
        });
        return HttpResponse.ok(body);
    }

    private CompletableFuture<MutableHttpResponse<String>> answer(Supplier<StateService.Change> change) {
        StateService.Change c;
        try {
            c = change.get();
        } catch (ProblemException e) {
            return CompletableFuture.completedFuture(
                    Problems.response(e.status(), e.title(), e.getMessage(), e.line(), e.field()));
        } catch (StateRefusal e) {
            return CompletableFuture.completedFuture(StateRefusalHandler.response(e));
        } catch (StateStoreFullException e) {
            return CompletableFuture.completedFuture(
                    Problems.response(507, "State store full", e.getMessage(), 0, null));
        } catch (DiskFullException e) {
            Problems.logDiskFull(e);
            return CompletableFuture.completedFuture(Problems.diskFull(e));
        } catch (StoreException e) {
            return CompletableFuture.completedFuture(
                    Problems.response(503, "Store unavailable", e.getMessage(), 0, null));
        }
        return c.durable().handle((ok, err) -> {
            if (err != null) {
                return Problems.response(
                        503, "Not durable", "the change could not be made durable: " + err.getMessage(), 0, null);
            }
            StateDoc d = c.doc();
            if (d.deleted()) {
                return HttpResponse.<String>status(HttpStatus.NO_CONTENT).header("ETag", etag(d.version()));
            }
            return HttpResponse.<String>status(c.created() ? HttpStatus.CREATED : HttpStatus.OK)
                    .body(json(d))
                    .header("ETag", etag(d.version()))
                    .contentType(MediaType.APPLICATION_JSON_TYPE);
        });
    }

    static StateService.Precondition precondition(String ifMatch, String ifNoneMatch) {
        Long version = null;
        boolean any = false;
        if (ifMatch != null) {
            String m = ifMatch.strip();
            if (m.equals("*")) {
                any = true;
            } else {
                try {
                    version = Long.parseLong(m.startsWith("W/") ? unquote(m.substring(2)) : unquote(m));
                } catch (NumberFormatException e) {
                    throw new ProblemException(
                            400,
                            "Invalid If-Match",
                            "If-Match must be an ETag this agent issued (e.g. \"3\") or *",
                            0,
                            "If-Match");
                }
            }
        }
        boolean noneAny = false;
        if (ifNoneMatch != null) {
            if (!ifNoneMatch.strip().equals("*")) {
                throw new ProblemException(
                        400,
                        "Invalid If-None-Match",
                        "only If-None-Match: * is supported on writes",
                        0,
                        "If-None-Match");
            }
            noneAny = true;
        }
        return new StateService.Precondition(version, any, noneAny);
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }

    static String etag(long version) {
        return "\"" + version + "\"";
    }

    /** The JSON of a document as GET answers it (also {@link StateReadFastPath}'s body). */
    static String json(StateDoc d) {
        return Json.write(g -> write(g, d));
    }

    /** {@link #json} as UTF-8, written into {@code out}: for the fast path. */
    static void jsonUtf8(StateDoc d, io.netty.buffer.ByteBuf out) {
        Json.writeUtf8(out, g -> write(g, d));
    }

    private static void write(JsonGenerator g, StateDoc d) throws IOException {
        g.writeStartObject();
        g.writeStringField("namespace", d.namespace());
        g.writeStringField("id", d.id());
        g.writeNumberField("version", d.version());
        g.writeNumberField("updated_at", HybridClock.millis(d.updatedAt()));
        g.writeNumberField("hlc", d.updatedAt());
        g.writeStringField("origin", d.origin());
        g.writeFieldName("doc");
        g.writeRawValue(new Json.RawUtf8(d.doc())); // stored JSON, checked when written
        g.writeEndObject();
    }
}

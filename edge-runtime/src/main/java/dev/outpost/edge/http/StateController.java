package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import dev.outpost.edge.ingest.ProblemException;
import dev.outpost.edge.state.StateService;
import dev.outpost.edge.state.json.JsonPatch;
import dev.outpost.edge.state.json.JsonTree;
import dev.outpost.edge.state.json.MergePatch;
import dev.outpost.store.DiskFullException;
import dev.outpost.store.HybridClock;
import dev.outpost.store.StateDoc;
import dev.outpost.store.StateStoreFullException;
import dev.outpost.store.StoreException;
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
import java.nio.charset.StandardCharsets;
import java.util.Base64;
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
public class StateController {
    /** RFC 7396 media type. */
    public static final String MERGE_PATCH = "application/merge-patch+json";
    /** RFC 6902 media type. */
    public static final String JSON_PATCH = "application/json-patch+json";

    private final Agent agent;

    public StateController(Agent agent) {
        this.agent = agent;
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
        StateDoc d = agent.state().get(namespace, id);
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
                agent.state().history(namespace, id, agent.config().state().historyMax() + 1);
        if (h == null) {
            return Problems.response(
                    404, "Not found", "state document " + namespace + "/" + id + " has no history", 0, null);
        }
        StringBuilder b = new StringBuilder("{\"namespace\":\"" + namespace + "\",\"id\":\"" + id + "\",\"changes\":[");
        for (int i = 0; i < h.size(); i++) {
            StateService.HistoryEntry e = h.get(i);
            b.append(i > 0 ? "," : "")
                    .append("{\"version\":")
                    .append(e.version())
                    .append(",\"op\":\"")
                    .append(e.deleted() ? "delete" : "put")
                    .append("\",\"updated_at\":")
                    .append(HybridClock.millis(e.hlc()))
                    .append(",\"origin\":")
                    .append(quoted(e.origin()))
                    .append(",\"seq\":")
                    .append(e.seq())
                    .append(e.lost() ? ",\"lost\":true" : "")
                    .append(",\"doc\":")
                    .append(e.deleted() ? "null" : new String(e.doc(), StandardCharsets.UTF_8))
                    .append('}');
        }
        return HttpResponse.ok(b.append("]}").toString()).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    @Put(value = "/{namespace}/{id}", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    public CompletableFuture<MutableHttpResponse<String>> put(
            @PathVariable String namespace,
            @PathVariable String id,
            @Body byte[] body,
            @Nullable @Header("If-Match") String ifMatch,
            @Nullable @Header("If-None-Match") String ifNoneMatch) {
        return answer(() -> agent.state().put(namespace, id, body, precondition(ifMatch, ifNoneMatch)));
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
                    } catch (RuntimeException e) {
                        throw new ProblemException(409, "Patch cannot be applied", e.getMessage(), 0, null);
                    }
                };
        return answer(() -> agent.state().patch(namespace, id, op, precondition(ifMatch, null)));
    }

    @Delete(value = "/{namespace}/{id}")
    public CompletableFuture<MutableHttpResponse<String>> delete(
            @PathVariable String namespace, @PathVariable String id, @Nullable @Header("If-Match") String ifMatch) {
        return answer(() -> agent.state().delete(namespace, id, precondition(ifMatch, null)));
    }

    @Get(value = "/{namespace}", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<String> list(
            @PathVariable String namespace,
            @Nullable @QueryValue String prefix,
            @Nullable @QueryValue String cursor,
            @Nullable @QueryValue String limit) {
        int n = agent.config().query().limitDefault();
        if (limit != null) {
            try {
                n = Integer.parseInt(limit);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > agent.config().query().limitMax()) {
                throw new ProblemException(
                        400,
                        "Invalid query",
                        "limit must be 1 to " + agent.config().query().limitMax(),
                        0,
                        "limit");
            }
        }
        String after = null;
        if (cursor != null) {
            try {
                after = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new ProblemException(
                        400, "Invalid query", "cursor is not a cursor this agent issued", 0, "cursor");
            }
        }
        List<StateDoc> docs = agent.state().list(namespace, prefix, after, n);
        StringBuilder b = new StringBuilder("{\"documents\":[");
        for (int i = 0; i < docs.size(); i++) {
            b.append(i > 0 ? "," : "").append(json(docs.get(i)));
        }
        b.append("],\"next_cursor\":");
        if (docs.size() == n) {
            b.append('"')
                    .append(Base64.getUrlEncoder()
                            .withoutPadding()
                            .encodeToString(docs.getLast().id().getBytes(StandardCharsets.UTF_8)))
                    .append('"');
        } else {
            b.append("null");
        }
        return HttpResponse.ok(b.append('}').toString());
    }

    private CompletableFuture<MutableHttpResponse<String>> answer(Supplier<StateService.Change> change) {
        StateService.Change c;
        try {
            c = change.get();
        } catch (ProblemException e) {
            return CompletableFuture.completedFuture(
                    Problems.response(e.status(), e.title(), e.getMessage(), e.line(), e.field()));
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
        return "{\"namespace\":\"" + d.namespace() + "\",\"id\":\"" + d.id() + "\",\"version\":" + d.version()
                + ",\"updated_at\":" + HybridClock.millis(d.updatedAt()) + ",\"hlc\":" + d.updatedAt() + ",\"origin\":"
                + quoted(d.origin()) + ",\"doc\":" + new String(d.doc(), StandardCharsets.UTF_8) + "}";
    }

    private static String quoted(String s) {
        StringBuilder b = new StringBuilder();
        Json.quote(b, s);
        return b.toString();
    }
}

package dev.outpost.edge.http;

import dev.outpost.store.LogFields;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MutableHttpResponse;

/** RFC 9457 problem details (a handful of fields, written with the JSON generator; no reflection). */
public final class Problems {
    /** The problem media type. */
    public static final String MEDIA_TYPE = "application/problem+json";

    /**
     * The problem type of every error: the status and {@code title} say what kind of error it is, {@code detail} what
     * to do (documented as the Problem schema of /v1/openapi.yaml).
     */
    public static final String TYPE = "about:blank";

    private Problems() {}

    /** Title of a hub's refusal of what reads node logs, with hub.backend: kafka (answered with 501). */
    static final String KAFKA_BACKEND = "Not served with hub.backend: kafka";

    /**
     * Why a hub with hub.backend: kafka does not serve {@code what}, and where the data is instead: the topics with
     * {@code prefix} (hub.kafka_topic_prefix), HQ's interface (docs/FLEET-KAFKA.md).
     */
    static String kafkaBackend(String what, String prefix) {
        return what + " reads the node logs of a hub with hub.backend: local; this hub writes what nodes push to Kafka"
                + " (hub.backend: kafka), so read it there: topics " + prefix + ".events.<lane> (key: the node id;"
                + " headers node, lane, stream, seq, hlc, ingest_time; a node's records from a time on with the"
                + " consumer's offsetsForTimes). docs/FLEET-KAFKA.md";
    }

    public static String json(int status, String title, String detail, int line, String field) {
        return Json.write(g -> {
            g.writeStartObject();
            g.writeStringField("type", TYPE);
            g.writeStringField("title", title);
            g.writeNumberField("status", status);
            if (detail != null) {
                g.writeStringField("detail", detail);
            }
            if (line > 0) {
                g.writeNumberField("line", line);
            }
            if (field != null) {
                g.writeStringField("field", field);
            }
            g.writeEndObject();
        });
    }

    public static MutableHttpResponse<String> response(
            int status, String title, String detail, int line, String field) {
        MutableHttpResponse<String> r = HttpResponse.<String>status(io.micronaut.http.HttpStatus.valueOf(status))
                .body(json(status, title, detail, line, field))
                .contentType(MEDIA_TYPE);
        if (retryLater(status)) {
            r.header("Retry-After", "1");
        }
        return r;
    }

    /** The same problem as {@link #response}, as an {@link Answer} either path can write. */
    static Answer answer(int status, String title, String detail, int line, String field) {
        Answer a = new Answer(
                status,
                MEDIA_TYPE,
                java.util.List.of(),
                json(status, title, detail, line, field).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return retryLater(status) ? a.with("Retry-After", "1") : a;
    }

    /** Answers that tell the client to come back (with Retry-After): overload, unavailable, out of storage. */
    private static boolean retryLater(int status) {
        return status == 429 || status == 503 || status == 507;
    }

    /** 507 for a write refused because the data directory's filesystem is full (with Retry-After). */
    public static MutableHttpResponse<String> diskFull(dev.outpost.store.DiskFullException e) {
        return response(507, "Insufficient storage", e.getMessage(), 0, null);
    }

    private static final java.util.concurrent.atomic.AtomicLong DISK_FULL_LOGGED_AT =
            new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE / 2);

    /** Logs a disk-full refusal at most every 10 s (every write is refused while it lasts). */
    public static void logDiskFull(dev.outpost.store.DiskFullException e) {
        logDiskFull(e.getMessage());
    }

    /** Logs a disk-full refusal, saying {@code why}, at most every 10 s. */
    static void logDiskFull(String why) {
        long now = System.nanoTime();
        long last = DISK_FULL_LOGGED_AT.get();
        if (now - last >= 10_000_000_000L && DISK_FULL_LOGGED_AT.compareAndSet(last, now)) {
            org.slf4j.LoggerFactory.getLogger(Problems.class)
                    .atWarn()
                    .addKeyValue(
                            LogFields.ADVICE,
                            "free space on the data directory's filesystem (it filled before"
                                    + " budget.disk did) or lower budget.disk below its free space; writes resume by themselves")
                    .log("writes refused with 507: {}", why);
        }
    }
}

package dev.outpost.sync.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.store.Lane;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;

/**
 * An edge's answer to {@code GET /v1/sync/status}: the link to its hub and what each lane has not
 * sent yet.
 *
 * <p>Wire form, members in this order (offline: {@code link} is null):
 *
 * <pre>
 *   {"upstream":U,"link":"connecting"|"connected"|"backing_off"|"circuit_open","consecutive_failures":N,
 *    "last_success":millis|null,"last_error":{"at":millis,"message":M}|null,
 *    "sent":{"batches":..,"records":..,"wire_bytes":..,"payload_bytes":..,"failures":..,"throttled":..},
 *    "lanes":{"critical":{"backlog_records":..,"backlog_bytes":..,"exact":..,"oldest_age_seconds":..,
 *             "acked_ranges":..,"next_unacked_seq":..},...}}
 *   offline: {"upstream":null,"link":"offline","reason":"no sync.upstream is configured","lanes":{...}}
 * </pre>
 *
 * (Offline lanes have no {@code acked_ranges} or {@code next_unacked_seq}.)
 *
 * @param link the push link, or null offline
 * @param lanes every lane, in priority order
 */
public record SyncStatus(Link link, Map<Lane, LaneBacklog> lanes) {
    /**
     * @param state the link's state, as the wire spells it (e.g. "connected")
     * @param lastSuccessMillis 0 if never
     * @param lastError null if none yet
     */
    public record Link(
            String upstream,
            String state,
            int consecutiveFailures,
            long lastSuccessMillis,
            LastError lastError,
            Sent sent) {}

    /** The last failure: when, and what (naming the hub's host and port and the reason). */
    public record LastError(long atMillis, String message) {}

    /** Counters of the push since start. */
    public record Sent(long batches, long records, long wireBytes, long payloadBytes, long failures, long throttled) {}

    /**
     * What a lane has not sent.
     *
     * @param exact false if the count stopped at its scan bound
     * @param oldestAgeSeconds age of the oldest unsent record, 0 if none
     * @param ackedRanges ranges in the lane's acknowledged set; -1 offline (not written)
     * @param nextUnackedSeq the first sequence not acknowledged; -1 offline (not written)
     */
    public record LaneBacklog(
            long records, long bytes, boolean exact, long oldestAgeSeconds, int ackedRanges, long nextUnackedSeq) {}

    public SyncStatus {
        lanes = new EnumMap<>(lanes);
    }

    public byte[] toJson() {
        return JsonMessage.write(g -> {
            g.writeStartObject();
            if (link == null) {
                g.writeNullField("upstream");
                g.writeStringField("link", "offline");
                g.writeStringField("reason", "no sync.upstream is configured");
            } else {
                writeLink(g, link);
            }
            g.writeObjectFieldStart("lanes");
            for (Map.Entry<Lane, LaneBacklog> e : lanes.entrySet()) {
                writeLane(g, e.getKey(), e.getValue());
            }
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    private static void writeLink(JsonGenerator g, Link l) throws IOException {
        g.writeStringField("upstream", l.upstream());
        g.writeStringField("link", l.state());
        g.writeNumberField("consecutive_failures", l.consecutiveFailures());
        if (l.lastSuccessMillis() == 0) {
            g.writeNullField("last_success");
        } else {
            g.writeNumberField("last_success", l.lastSuccessMillis());
        }
        if (l.lastError() == null) {
            g.writeNullField("last_error");
        } else {
            g.writeObjectFieldStart("last_error");
            g.writeNumberField("at", l.lastError().atMillis());
            g.writeStringField("message", l.lastError().message());
            g.writeEndObject();
        }
        Sent s = l.sent();
        g.writeObjectFieldStart("sent");
        g.writeNumberField("batches", s.batches());
        g.writeNumberField("records", s.records());
        g.writeNumberField("wire_bytes", s.wireBytes());
        g.writeNumberField("payload_bytes", s.payloadBytes());
        g.writeNumberField("failures", s.failures());
        g.writeNumberField("throttled", s.throttled());
        g.writeEndObject();
    }

    private static void writeLane(JsonGenerator g, Lane lane, LaneBacklog b) throws IOException {
        g.writeObjectFieldStart(lane.id());
        g.writeNumberField("backlog_records", b.records());
        g.writeNumberField("backlog_bytes", b.bytes());
        g.writeBooleanField("exact", b.exact());
        g.writeNumberField("oldest_age_seconds", b.oldestAgeSeconds());
        if (b.ackedRanges() >= 0) {
            g.writeNumberField("acked_ranges", b.ackedRanges());
            g.writeNumberField("next_unacked_seq", b.nextUnackedSeq());
        }
        g.writeEndObject();
    }
}

package dev.outpost.sync.wire;

import dev.outpost.store.Lane;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A hub's answer to {@code GET /v1/fleet/nodes}: the nodes it accepts and what it has received
 * from each, per lane.
 *
 * <p>Wire form, members in this order ({@code lanes} only for a node that has pushed):
 *
 * <pre>
 *   {"nodes":[{"node":N,"seen":true,"lanes":{"critical":{"received_ranges":..,
 *     "received_records_upper_bound":..,"next_expected_seq":..},...}},{"node":M,"seen":false},...]}
 * </pre>
 *
 * With a node's {@link Activity} (what this hub saw of its pushes since it started), last:
 * {@code "last_seen":ms|null,"lag_seconds":S|null,"backlog_records":N|null,"backlog_bytes":B|null,"errors":N,
 * "last_error":{"at":ms,"status":S,"message":".."}|null}.
 */
public record FleetNodes(List<Node> nodes) {
    /**
     * @param lanes what the hub received per lane; empty if the node has not pushed ({@code seen} false)
     * @param activity what the hub saw of its pushes, or null (not written)
     */
    public record Node(String node, boolean seen, Map<Lane, Received> lanes, Activity activity) {
        public Node {
            lanes = lanes.isEmpty() ? Map.of() : new EnumMap<>(lanes);
        }

        public Node(String node, boolean seen, Map<Lane, Received> lanes) {
            this(node, seen, lanes, null);
        }
    }

    /**
     * What a hub saw of a node's pushes since it started; -1 where it does not know.
     *
     * @param lastSeenMillis when it last stored a push of the node
     * @param lagMillis how old the oldest record of that push was when it arrived (node ingest time to arrival)
     * @param backlogRecords what the node said it had not yet sent, with its last push
     * @param backlogBytes the payload bytes of that
     * @param errors pushes of the node it refused
     * @param lastError the last refusal, or null
     */
    public record Activity(
            long lastSeenMillis,
            long lagMillis,
            long backlogRecords,
            long backlogBytes,
            long errors,
            LastError lastError) {}

    /** A refused push: when, the status answered, and why. */
    public record LastError(long atMillis, int status, String message) {}

    /**
     * @param ranges ranges in the received set
     * @param recordsUpperBound sequence numbers covered (other lanes' numbers included, hence a bound)
     * @param nextExpectedSeq the first sequence not received
     */
    public record Received(int ranges, long recordsUpperBound, long nextExpectedSeq) {}

    public FleetNodes {
        nodes = List.copyOf(nodes);
    }

    public byte[] toJson() {
        return JsonMessage.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("nodes");
            for (Node n : nodes) {
                g.writeStartObject();
                g.writeStringField("node", n.node());
                g.writeBooleanField("seen", n.seen());
                if (n.seen()) {
                    g.writeObjectFieldStart("lanes");
                    for (Map.Entry<Lane, Received> e : n.lanes().entrySet()) {
                        g.writeObjectFieldStart(e.getKey().id());
                        g.writeNumberField("received_ranges", e.getValue().ranges());
                        g.writeNumberField(
                                "received_records_upper_bound", e.getValue().recordsUpperBound());
                        g.writeNumberField("next_expected_seq", e.getValue().nextExpectedSeq());
                        g.writeEndObject();
                    }
                    g.writeEndObject();
                }
                if (n.activity() != null) {
                    writeActivity(g, n.activity());
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private static void writeActivity(com.fasterxml.jackson.core.JsonGenerator g, Activity a)
            throws java.io.IOException {
        writeKnown(g, "last_seen", a.lastSeenMillis());
        writeKnown(g, "lag_seconds", a.lagMillis() < 0 ? -1 : a.lagMillis() / 1000);
        writeKnown(g, "backlog_records", a.backlogRecords());
        writeKnown(g, "backlog_bytes", a.backlogBytes());
        g.writeNumberField("errors", a.errors());
        if (a.lastError() == null) {
            g.writeNullField("last_error");
        } else {
            g.writeObjectFieldStart("last_error");
            g.writeNumberField("at", a.lastError().atMillis());
            g.writeNumberField("status", a.lastError().status());
            g.writeStringField("message", a.lastError().message());
            g.writeEndObject();
        }
    }

    /** The value, or null when it is -1 (not known). */
    private static void writeKnown(com.fasterxml.jackson.core.JsonGenerator g, String name, long value)
            throws java.io.IOException {
        if (value < 0) {
            g.writeNullField(name);
        } else {
            g.writeNumberField(name, value);
        }
    }
}

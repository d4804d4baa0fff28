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
 */
public record FleetNodes(List<Node> nodes) {
    /** @param lanes what the hub received per lane; empty if the node has not pushed ({@code seen} false) */
    public record Node(String node, boolean seen, Map<Lane, Received> lanes) {
        public Node {
            lanes = lanes.isEmpty() ? Map.of() : new EnumMap<>(lanes);
        }
    }

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
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }
}

package dev.outpost.sync.wire;

import dev.outpost.store.Lane;

/**
 * The hub's answer to a push: the covered range is stored and acknowledged.
 *
 * <p>Wire form (members in this order; an edge before this format matched {@code "from":F,"to":T}):
 * {@code {"node":N,"lane":L,"from":F,"to":T,"stored":S,"duplicates":D}}.
 *
 * @param stored records the hub did not have and stored now
 * @param duplicates records it already had (resends)
 */
public record PushAck(String node, Lane lane, long fromSeq, long toSeq, int stored, int duplicates) {
    /** The acknowledgement of {@code b}, of which {@code stored} records were new (the rest resends). */
    public static PushAck of(PushBatch b, int stored) {
        return new PushAck(
                b.node(), b.lane(), b.fromSeq(), b.toSeq(), stored, b.records().size() - stored);
    }

    public byte[] toJson() {
        return JsonMessage.write(g -> {
            g.writeStartObject();
            g.writeStringField("node", node);
            g.writeStringField("lane", lane.id());
            g.writeNumberField("from", fromSeq);
            g.writeNumberField("to", toSeq);
            g.writeNumberField("stored", stored);
            g.writeNumberField("duplicates", duplicates);
            g.writeEndObject();
        });
    }

    /** Reads an acknowledgement from the hub. */
    public static PushAck parse(byte[] body) {
        JsonMessage m = JsonMessage.parse("push acknowledgement", body, 0, body.length);
        String node = m.string("node");
        String lane = m.string("lane");
        long from = m.longValue("from");
        long to = m.longValue("to");
        int stored = (int) m.longValue("stored");
        int duplicates = (int) m.longValue("duplicates");
        try {
            return new PushAck(node, Lane.of(lane), from, to, stored, duplicates);
        } catch (IllegalArgumentException e) {
            throw WireException.malformed("read push acknowledgement", "unknown lane \"" + lane + "\"");
        }
    }
}

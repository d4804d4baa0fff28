package dev.outpost.sync.wire;

/**
 * A hub's answer to publishing a fleet change: where the change sits in the hub's log.
 * Wire form: {@code {"seq":S,"hlc":H}}.
 */
public record Published(long seq, long hlc) {
    public byte[] toJson() {
        return JsonMessage.write(g -> {
            g.writeStartObject();
            g.writeNumberField("seq", seq);
            g.writeNumberField("hlc", hlc);
            g.writeEndObject();
        });
    }

    public static Published parse(byte[] body) {
        JsonMessage m = JsonMessage.parse("publish answer", body, 0, body.length);
        return new Published(m.longValue("seq"), m.longValue("hlc"));
    }
}

package dev.outpost.sync.wire;

/** A hub's answer to a wire dictionary upload. Wire form: {@code {"id":"<hex>"}}. */
public record DictionaryStored(String id) {
    public byte[] toJson() {
        return JsonMessage.write(g -> {
            g.writeStartObject();
            g.writeStringField("id", id);
            g.writeEndObject();
        });
    }

    public static DictionaryStored parse(byte[] body) {
        return new DictionaryStored(JsonMessage.parse("dictionary upload answer", body, 0, body.length)
                .string("id"));
    }
}

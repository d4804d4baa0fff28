package dev.outpost.edge.engine;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.outpost.store.EventDraft;
import dev.outpost.store.HybridClock;
import dev.outpost.store.RecordView;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Set;

/**
 * Turns the rules' firings on one source event into alert events, after the cooldowns have had their say.
 *
 * <p>An alert is the event {@code {"stream":<alert stream>,"key":<rule>,"id":<rule>@<seq>,"ts":<source time>,
 * "priority":"critical","data":{"rule","severity","score","threshold","group","conditions":[{"condition","field","weight","z"}],"source":{"stream",
 * "seq","key","id"}}}}. Its id names the rule and the source event's sequence number: it is what {@link Engine}
 * recognises after a crash to raise each alert once.
 */
final class Alerting {
    /** Longest group value kept (longer values are cut): bounds the cooldown entries and the alert. */
    static final int GROUP_CHARS_MAX = 256;

    private static final JsonFactory JSON = new JsonFactory();

    private final String alertStream;
    private final Cooldowns cooldowns;
    private long raised;
    private long suppressed;

    Alerting(String alertStream, Cooldowns cooldowns) {
        this.alertStream = alertStream;
        this.cooldowns = cooldowns;
    }

    /** The id of the alert {@code rule} raises for the event at {@code seq}. */
    static String alertId(String rule, long seq) {
        return rule + "@" + seq;
    }

    /**
     * One firing on the event in {@code source}: appends its alert to {@code out} unless its group is cooling down, or
     * the alert is in {@code alreadyRaised} (raised before a crash: the cooldown still counts it).
     */
    void fired(Firing f, RecordView source, Set<String> alreadyRaised, List<EventDraft> out) {
        long atMillis = HybridClock.millis(source.hlc());
        String group = f.groupKey() == null || f.groupKey().length() <= GROUP_CHARS_MAX
                ? f.groupKey()
                : f.groupKey().substring(0, GROUP_CHARS_MAX);
        if (!cooldowns.admit(f.rule().name(), group, f.rule().cooldownMillis(), atMillis)) {
            suppressed++;
            return;
        }
        String id = alertId(f.rule().name(), source.seq());
        if (alreadyRaised.contains(id)) {
            return;
        }
        out.add(new EventDraft(alertStream, id, null, 0, 1, null, alert(f, group, id, atMillis, source)));
        raised++;
    }

    /** Alerts raised since start. */
    long raised() {
        return raised;
    }

    /** Alerts not raised because their group was cooling down, since start. */
    long suppressed() {
        return suppressed;
    }

    private byte[] alert(Firing f, String group, String id, long atMillis, RecordView source) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(bytes, JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeStringField("stream", alertStream);
            g.writeStringField("key", f.rule().name());
            g.writeStringField("id", id);
            g.writeNumberField("ts", atMillis);
            g.writeStringField("priority", "critical");
            g.writeObjectFieldStart("data");
            g.writeStringField("rule", f.rule().name());
            g.writeStringField("severity", f.rule().severity());
            g.writeNumberField("score", f.score());
            if (f.rule().threshold() != null) {
                g.writeNumberField("threshold", f.rule().threshold());
            }
            if (group != null) {
                g.writeStringField("group", group);
            }
            g.writeArrayFieldStart("conditions");
            for (FiredCondition c : f.conditions()) {
                g.writeStartObject();
                g.writeStringField("condition", c.condition());
                if (c.field() != null) {
                    g.writeStringField("field", c.field());
                }
                g.writeNumberField("weight", c.weight());
                if (c.z() != null && Double.isFinite(c.z())) {
                    g.writeNumberField("z", c.z()); // an infinite score (a departure from a constant) has no number
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            writeSource(g, source);
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
        return bytes.toByteArray();
    }

    private static void writeSource(JsonGenerator g, RecordView source) throws IOException {
        g.writeObjectFieldStart("source");
        g.writeStringField("stream", source.stream());
        g.writeNumberField("seq", source.seq());
        String key = topLevelKey(source.payloadArray(), source.payloadOffset(), source.payloadLength());
        if (key != null) {
            g.writeStringField("key", key);
        }
        String id = source.eventId();
        if (id != null) {
            g.writeStringField("id", id);
        }
        g.writeEndObject();
    }

    /** The event's top-level {@code key}, or null (read only when a rule fires: the rare path). */
    static String topLevelKey(byte[] json, int off, int len) {
        try (JsonParser p = JSON.createParser(json, off, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (name.equals("key") && v == JsonToken.VALUE_STRING) {
                    return p.getText();
                }
                p.skipChildren();
            }
            return null;
        } catch (IOException e) {
            return null; // stored events are valid JSON; a damaged one just has no key here
        }
    }
}

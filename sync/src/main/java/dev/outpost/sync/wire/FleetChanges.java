package dev.outpost.sync.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.store.json.JsonTree;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes and reads the wire forms documented on {@link FleetChange}. */
final class FleetChanges {
    private FleetChanges() {}

    static void write(JsonGenerator g, FleetChange c) throws IOException {
        g.writeStartObject();
        g.writeStringField("target", c.target());
        switch (c) {
            case FleetChange.StateChange s -> {
                g.writeStringField("kind", "state");
                g.writeStringField("namespace", s.namespace());
                g.writeStringField("id", s.id());
                g.writeStringField("op", s.delete() ? "delete" : "put");
                g.writeStringField("origin", s.origin());
                g.writeFieldName("doc");
                JsonTree.write(g, s.delete() ? JsonTree.NULL : s.doc());
            }
            case FleetChange.StreamChange s -> {
                g.writeStringField("kind", "stream");
                g.writeStringField("name", s.name());
                g.writeStringField("origin", s.origin());
                g.writeFieldName("definition");
                JsonTree.write(g, s.definition());
            }
            case FleetChange.ConfigChange s -> {
                g.writeStringField("kind", "config");
                g.writeStringField("origin", s.origin());
                g.writeObjectFieldStart("settings");
                for (Map.Entry<String, Object> e : s.settings().entrySet()) {
                    g.writeFieldName(e.getKey());
                    JsonTree.write(g, e.getValue() == null ? JsonTree.NULL : e.getValue());
                }
                g.writeEndObject();
            }
            case FleetChange.RuleChange r -> {
                g.writeStringField("kind", "rule");
                g.writeStringField("name", r.name());
                g.writeStringField("origin", r.origin());
                g.writeFieldName("definition");
                JsonTree.write(g, r.delete() ? JsonTree.NULL : r.definition());
            }
            case FleetChange.Unreadable u ->
                throw new IllegalArgumentException("an unreadable change is never written: " + u.problem());
        }
        g.writeEndObject();
    }

    /** The change in {@code m}; {@link FleetChange.Unreadable} if it is not one this build knows. */
    static FleetChange read(JsonMessage m) {
        String target = m.members().get("target") instanceof String t ? t : null;
        String kind = m.members().get("kind") instanceof String k ? k : null;
        try {
            return switch (kind == null ? m.string("kind") : kind) {
                case "state" -> readState(m);
                case "stream" ->
                    new FleetChange.StreamChange(
                            m.string("target"), m.string("name"), m.string("origin"), m.value("definition"));
                case "config" -> readConfig(m);
                case "rule" -> readRule(m);
                default ->
                    new FleetChange.Unreadable(
                            target,
                            kind,
                            "unknown kind \"" + kind + "\" (from a newer hub?); known: state, stream, config, rule");
            };
        } catch (WireException e) {
            return new FleetChange.Unreadable(target, kind, e.getMessage());
        }
    }

    private static FleetChange readState(JsonMessage m) {
        String target = m.string("target");
        String namespace = m.string("namespace");
        String id = m.string("id");
        String op = m.string("op");
        String origin = m.string("origin");
        if (!op.equals("put") && !op.equals("delete")) {
            throw WireException.malformed("read fleet change", "op must be put or delete, not " + op);
        }
        boolean delete = op.equals("delete");
        Object doc = m.has("doc") ? m.value("doc") : JsonTree.NULL;
        if (!delete && doc == JsonTree.NULL) {
            throw WireException.malformed("read fleet change", "a put needs a doc");
        }
        return new FleetChange.StateChange(target, namespace, id, delete, origin, delete ? null : doc);
    }

    private static FleetChange readRule(JsonMessage m) {
        Object definition = m.has("definition") ? m.value("definition") : JsonTree.NULL;
        if (definition != JsonTree.NULL && !(definition instanceof Map<?, ?>)) {
            throw WireException.malformed("read fleet change", "a rule's definition must be an object or null");
        }
        return new FleetChange.RuleChange(
                m.string("target"),
                m.string("name"),
                m.string("origin"),
                definition == JsonTree.NULL ? null : definition);
    }

    private static FleetChange readConfig(JsonMessage m) {
        Map<String, Object> settings = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.object("settings").members().entrySet()) {
            settings.put((String) e.getKey(), e.getValue() == JsonTree.NULL ? null : e.getValue());
        }
        return new FleetChange.ConfigChange(m.string("target"), m.string("origin"), settings);
    }
}

package dev.outpost.sync.wire;

import dev.outpost.store.json.JsonTree;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A change a hub publishes for its nodes to pull: a state document, a stream definition, live
 * configuration or an engine rule, addressed to one node or to {@value #ALL_NODES}.
 *
 * <p>Wire forms (members in this order; an edge before this format took the first {@code "kind"}
 * of a line as the change's kind, so {@code kind} precedes any embedded document):
 *
 * <pre>
 *   {"target":T,"kind":"state","namespace":N,"id":I,"op":"put"|"delete","origin":O,"doc":{...}|null}
 *   {"target":T,"kind":"stream","name":S,"origin":O,"definition":{...}}
 *   {"target":T,"kind":"config","origin":O,"settings":{"key":value|null,...}}
 *   {"target":T,"kind":"rule","name":R,"origin":O,"definition":{...}|null}      (null: delete the rule)
 * </pre>
 *
 * In the hub's own log a change is the event {@code {"stream":"_fleet","key":T,"data":<change>}}
 * (see {@link #toStoredEvent()}). A change this build cannot read (a kind from a newer hub, or a
 * member missing) is read as {@link Unreadable}, so one bad change never stops a node's pull.
 */
public sealed interface FleetChange
        permits FleetChange.StateChange,
                FleetChange.StreamChange,
                FleetChange.ConfigChange,
                FleetChange.RuleChange,
                FleetChange.Unreadable {
    /** The reserved stream that carries fleet changes in a hub's own log. */
    String STREAM = "_fleet";

    /** The target that addresses every node. */
    String ALL_NODES = "all";

    /** The node the change is for, or {@value #ALL_NODES}; null only for an unreadable change without one. */
    String target();

    /** True if the change is addressed to {@code node} or to all nodes. */
    default boolean isFor(String node) {
        return node.equals(target()) || ALL_NODES.equals(target());
    }

    /** The change as its wire form. */
    default byte[] toJson() {
        return JsonMessage.write(g -> FleetChanges.write(g, this));
    }

    /** The event a hub appends to its own log to publish this change. */
    default byte[] toStoredEvent() {
        return JsonMessage.write(g -> {
            g.writeStartObject();
            g.writeStringField("stream", STREAM);
            g.writeStringField("key", target());
            g.writeFieldName("data");
            FleetChanges.write(g, this);
            g.writeEndObject();
        });
    }

    /** Reads a change's wire form; never throws for a well-formed JSON object (see {@link Unreadable}). */
    static FleetChange parse(byte[] b, int off, int len) {
        return FleetChanges.read(JsonMessage.parse("fleet change", b, off, len));
    }

    /**
     * The change in an event of a hub's log ({@link #toStoredEvent()}), or null if the event holds
     * none (no {@code data} object).
     */
    static FleetChange fromStoredEvent(byte[] b, int off, int len) {
        JsonMessage event = JsonMessage.parseStored("fleet event", b, off, len); // stored by the hub
        return event.members().get("data") instanceof Map<?, ?> ? FleetChanges.read(event.object("data")) : null;
    }

    /**
     * Sets ({@code delete} false) or deletes a state document.
     *
     * @param doc the document (a {@link JsonTree} value) to put, or null for a delete
     * @param origin the node id of the hub that published it (kept in the document's history)
     */
    record StateChange(String target, String namespace, String id, boolean delete, String origin, Object doc)
            implements FleetChange {
        public StateChange {
            Objects.requireNonNull(target);
            Objects.requireNonNull(namespace);
            Objects.requireNonNull(id);
            Objects.requireNonNull(origin);
            if (delete == (doc != null)) {
                throw new IllegalArgumentException(delete ? "a delete carries no document" : "a put needs a document");
            }
        }
    }

    /** Declares a stream: {@code definition} is the body of {@code PUT /v1/streams/{name}} (a JSON object). */
    record StreamChange(String target, String name, String origin, Object definition) implements FleetChange {
        public StreamChange {
            Objects.requireNonNull(target);
            Objects.requireNonNull(name);
            Objects.requireNonNull(origin);
            Objects.requireNonNull(definition);
        }
    }

    /**
     * Changes live configuration keys.
     *
     * @param settings key to value ({@link JsonTree} values), in order; a Java null value brings back
     *     the node's file value (JSON null on the wire). Read-only.
     */
    record ConfigChange(String target, String origin, Map<String, Object> settings) implements FleetChange {
        public ConfigChange {
            Objects.requireNonNull(target);
            Objects.requireNonNull(origin);
            settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings)); // keeps nulls, unlike Map.copyOf
        }
    }

    /**
     * Defines or replaces ({@code definition} a JSON object, the body of {@code PUT /v1/rules/{name}}) or deletes
     * ({@code definition} null) an engine rule.
     */
    record RuleChange(String target, String name, String origin, Object definition) implements FleetChange {
        public RuleChange {
            Objects.requireNonNull(target);
            Objects.requireNonNull(name);
            Objects.requireNonNull(origin);
        }

        /** True if the change deletes the rule. */
        public boolean delete() {
            return definition == null;
        }
    }

    /**
     * A change this build cannot read: skipped (and counted) by the node, never applied.
     *
     * @param kind its kind if it has one, else null
     * @param problem what is wrong or unknown
     */
    record Unreadable(String target, String kind, String problem) implements FleetChange {}
}

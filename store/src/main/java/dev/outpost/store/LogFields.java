package dev.outpost.store;

import org.slf4j.spi.LoggingEventBuilder;

/**
 * The names of the structured fields the agent's log lines carry (SLF4J key-value pairs: {@code
 * LOG.atWarn().addKeyValue(LogFields.LANE, lane.id())...}), so a log shipper can select by them: written as
 * {@code key="value"} after a text line and as fields of a JSON (Elastic Common Schema) line. Custom fields live under
 * {@code outpost.}, as ECS asks of fields it does not define. Here, in the lowest module that logs about lanes, so
 * every module spells them the same way. Stable: renaming one breaks the operators' queries.
 */
public final class LogFields {
    /** The priority lane an operation is about: critical, high, normal, bulk. */
    public static final String LANE = "outpost.lane";

    /** The stream an operation is about. */
    public static final String STREAM = "outpost.stream";

    /** The fleet node an operation is about, on a hub (the node that pushed, pulls, or is targeted). */
    public static final String NODE = "outpost.node";

    /** The hub an edge's sync operation is about (sync.upstream). */
    public static final String HUB = "outpost.hub";

    /** On a warning or error: what the operator should do about it. */
    public static final String ADVICE = "outpost.advice";

    private LogFields() {}

    /** {@code line} with the field {@code key} if {@code value} is known (a log opened alone has no lane). */
    public static LoggingEventBuilder with(LoggingEventBuilder line, String key, Object value) {
        return value == null ? line : line.addKeyValue(key, value);
    }
}

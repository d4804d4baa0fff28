package dev.outpost.edge.config;

import dev.outpost.edge.ingest.EventParser;
import java.util.List;
import java.util.function.Supplier;

/** Section {@code node}: who this agent is in the fleet. */
final class NodeKeys {
    static final ConfigSection SECTION = new ConfigSection("node");

    /**
     * What a node id may be: the rule the hub applies to the ids it accepts (hub.nodes, a push's node), {@link
     * EventParser#validName}. A node with another id never synced (refused as unknown, for ever), one over 255 bytes
     * broke the push header (its length is one byte) and a CR or LF made the HTTP client throw.
     */
    static final String ID_RULE = "1-128 characters of A-Z a-z 0-9 . _ -";

    static final ConfigKey<String> ID = SECTION.add(ConfigKey.text(
            "node.id",
            "",
            "This node's id, unique in the fleet: " + ID_RULE + ". Empty: the host name (which must then be such an"
                    + " id).",
            NodeKeys::idOrHostName));
    static final ConfigKey<String> LOG_FORMAT = SECTION.add(ConfigKey.oneOf(
            "node.log_format",
            "text",
            List.of("text", "json"),
            "How the agent writes its own log to stderr. text: one line per entry for people; json: one JSON object"
                    + " per line in the Elastic Common Schema (@timestamp, log.level, message, service.node.name,"
                    + " error.*, and an operation's outpost.lane, outpost.stream, outpost.node, outpost.hub, outpost.advice)"
                    + " for a log shipper."));

    private NodeKeys() {}

    static OutpostConfig.Node read(ConfigValues v) {
        return new OutpostConfig.Node(v.get(ID), v.get(LOG_FORMAT));
    }

    private static String idOrHostName(String configured) {
        return idOrHostName(configured, NodeKeys::hostName);
    }

    /**
     * The configured id if valid, else the host name if empty and valid; a ConfigException naming node.id otherwise.
     */
    static String idOrHostName(String configured, Supplier<String> hostName) {
        if (!configured.isEmpty()) {
            if (!EventParser.validName(configured)) {
                throw new ConfigException(
                        "node.id",
                        "config error: 'node.id' = '" + shown(configured) + "' is not allowed; a node id is " + ID_RULE
                                + " (the hub accepts no other)");
            }
            return configured;
        }
        String h = hostName.get();
        if (!EventParser.validName(h)) {
            throw new ConfigException(
                    "node.id",
                    "config error: 'node.id' is not set and the host name '" + shown(h) + "' is not a valid node id ("
                            + ID_RULE + "); set node.id");
        }
        return h;
    }

    /** {@code s} on one line: control characters escaped. */
    private static String shown(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.chars().forEach(c -> b.append(Character.isISOControl(c) ? String.format("\\u%04x", c) : (char) c));
        return b.toString();
    }

    private static String hostName() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            try {
                h = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                h = "edge";
            }
        }
        return h;
    }
}

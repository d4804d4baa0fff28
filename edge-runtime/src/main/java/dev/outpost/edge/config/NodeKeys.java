package dev.outpost.edge.config;

import java.util.List;

/** Section {@code node}: who this agent is in the fleet. */
final class NodeKeys {
    static final ConfigSection SECTION = new ConfigSection("node");

    static final ConfigKey<String> ID = SECTION.add(ConfigKey.text(
            "node.id", "", "This node's id, unique in the fleet. Empty: the host name.", NodeKeys::idOrHostName));
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
        if (!configured.isEmpty()) {
            return configured;
        }
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

package dev.outpost.edge.config;

/** Section {@code node}: who this agent is in the fleet. */
final class NodeKeys {
    static final ConfigSection SECTION = new ConfigSection("node");

    static final ConfigKey<String> ID = SECTION.add(ConfigKey.text(
            "node.id", "", "This node's id, unique in the fleet. Empty: the host name.", NodeKeys::idOrHostName));

    private NodeKeys() {}

    static OutpostConfig.Node read(ConfigValues v) {
        return new OutpostConfig.Node(v.get(ID));
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

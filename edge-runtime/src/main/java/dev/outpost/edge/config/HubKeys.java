package dev.outpost.edge.config;

import static dev.outpost.edge.config.ConfigKey.KIB;
import static dev.outpost.edge.config.ConfigKey.MIB;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Section {@code hub}: hub mode, its admission limits and the nodes it accepts. */
final class HubKeys {
    static final ConfigSection SECTION = new ConfigSection("hub");

    static final ConfigKey<Boolean> ENABLED = SECTION.add(ConfigKey.oneOf(
            "hub.enabled",
            "false",
            List.of("false", "true"),
            "Hub mode: accept pushes from the nodes of hub.nodes and serve /v1/fleet ('outpost hub' sets it).",
            "true"::equals));
    static final ConfigKey<Integer> PUSH_CONCURRENCY_MAX = SECTION.add(ConfigKey.integer(
            "hub.push_concurrency_max",
            16,
            1,
            10_000,
            "pushes",
            "Pushes the hub handles at once; more get 429 with Retry-After (admission control)."));
    static final ConfigKey<Long> BODY_BYTES_MAX = SECTION.add(ConfigKey.bytes(
            "hub.body_bytes_max", 16 * MIB, KIB, 256 * MIB, "Largest push body the hub accepts; larger gets 413."));
    static final ConfigKey<Integer> NODE_LOGS_OPEN_MAX = SECTION.add(ConfigKey.integer(
            "hub.node_logs_open_max",
            64,
            1,
            100_000,
            "logs",
            "Node logs the hub keeps open at once; the least recently used is closed beyond it."));
    static final ConfigKey<Integer> ROLLUP_RETENTION_HOURS = SECTION.add(ConfigKey.integer(
            "hub.rollup_retention_hours",
            720,
            1,
            87_600,
            "hours",
            "How long the hub keeps the nodes' final rollup windows (hub-rollups.db), after each window's end."));
    static final ConfigKey<Map<String, String>> NODES = SECTION.add(ConfigKey.mapping(
            "hub.nodes", "The nodes this hub accepts: node id -> token (at least 16 characters).", HubKeys::nodes));

    private HubKeys() {}

    static OutpostConfig.Hub read(ConfigValues v) {
        return new OutpostConfig.Hub(
                v.get(ENABLED),
                v.get(PUSH_CONCURRENCY_MAX),
                v.get(BODY_BYTES_MAX),
                v.get(NODE_LOGS_OPEN_MAX),
                v.get(ROLLUP_RETENTION_HOURS),
                v.get(NODES));
    }

    /** {@code hub.nodes: {NODE_ID: TOKEN}}: the nodes a hub accepts and their tokens. */
    private static Map<String, String> nodes(Object raw, String source) {
        if (raw == null) {
            return Map.of();
        }
        if (!(raw instanceof Map<?, ?> m)) {
            throw new ConfigException(
                    "hub.nodes", "config error in " + source + ": 'hub.nodes' must be a mapping of node ids to tokens");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String id = String.valueOf(e.getKey());
            if (!dev.outpost.edge.ingest.EventParser.validName(id)) {
                throw new ConfigException(
                        "hub.nodes." + id,
                        "config error in " + source + ": node id '" + id
                                + "' must be 1-128 characters of A-Z a-z 0-9 . _ -");
            }
            if (!(e.getValue() instanceof String t) || t.length() < 16) {
                throw new ConfigException(
                        "hub.nodes." + id,
                        "config error in " + source + ": the token of node '" + id
                                + "' must be a string of at least 16 characters");
            }
            out.put(id, t);
        }
        return Map.copyOf(out);
    }
}

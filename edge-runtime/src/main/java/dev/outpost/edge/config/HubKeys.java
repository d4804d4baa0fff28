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
    static final ConfigKey<Long> FLEET_CHANGES_BYTES_MAX = SECTION.add(ConfigKey.bytes(
            "hub.fleet_changes_bytes_max",
            16 * MIB,
            64 * KIB,
            1024 * MIB,
            "With hub.backend: kafka, most bytes of fleet changes (the latest per object, PREFIX.fleet) a hub holds"
                    + " in memory to serve pulls; publishing past it gets 507. Use one value on every hub of a"
                    + " fleet."));
    static final ConfigKey<Map<String, String>> NODES = SECTION.add(ConfigKey.mapping(
            "hub.nodes", "The nodes this hub accepts: node id -> token (at least 16 characters).", HubKeys::nodes));

    static final ConfigKey<String> BACKEND = SECTION.add(ConfigKey.oneOf(
            "hub.backend",
            "local",
            List.of("local", "kafka"),
            "Where pushed records go: 'local' (one log per node on this hub's disk) or 'kafka' (the cluster of"
                    + " hub.kafka_bootstrap_servers, shared by several hubs; docs/FLEET-KAFKA.md)."));
    static final ConfigKey<String> KAFKA_BOOTSTRAP_SERVERS = SECTION.add(ConfigKey.text(
            "hub.kafka_bootstrap_servers",
            "",
            "Kafka brokers to start from (host:port,host:port); required with hub.backend: kafka."));
    static final ConfigKey<String> KAFKA_TOPIC_PREFIX = SECTION.add(ConfigKey.text(
            "hub.kafka_topic_prefix",
            "outpost",
            "Prefix of the hub's topics: PREFIX.events.LANE (the records), PREFIX.received (what each node lane"
                    + " delivered, compacted), PREFIX.fleet (the fleet changes nodes pull, compacted)."));
    static final ConfigKey<Integer> KAFKA_SHARDS = SECTION.add(ConfigKey.integer(
            "hub.kafka_shards",
            32,
            1,
            1_024,
            "shards",
            "Ownership shards of the fleet's nodes (the partitions of PREFIX.received); fixed once the topic"
                    + " exists."));
    static final ConfigKey<Integer> KAFKA_TRANSACTION_TIMEOUT_MILLIS = SECTION.add(ConfigKey.integer(
            "hub.kafka_transaction_timeout_millis",
            60_000,
            1_000,
            900_000,
            "milliseconds",
            "How long Kafka waits before aborting a transaction a hub left open (a hub killed mid-push)."));
    static final ConfigKey<Integer> KAFKA_SESSION_TIMEOUT_MILLIS = SECTION.add(ConfigKey.integer(
            "hub.kafka_session_timeout_millis",
            10_000,
            500,
            300_000,
            "milliseconds",
            "How long a silent hub keeps its shards: after it, the other hubs of the fleet take them (and fence"
                    + " it). Bounded below by the brokers' group.min.session.timeout.ms."));
    static final ConfigKey<Map<String, String>> KAFKA_PRODUCER = SECTION.add(ConfigKey.mapping(
            "hub.kafka_producer",
            "Kafka producer settings passed as they are (TLS, SASL, compression.type, linger.ms); the hub sets"
                    + " the ones its guarantees rest on itself.",
            HubKeys::producer));

    static final ConfigKey<String> KAFKA_TOPICS = SECTION.add(ConfigKey.oneOf(
            "hub.kafka_topics",
            "lane",
            List.of("lane", "stream"),
            "Topics of the records: 'lane' (PREFIX.events.LANE, four topics) or 'stream' (PREFIX.stream.STREAM, a"
                    + " topic per stream, created when its first record arrives)."));
    static final ConfigKey<Integer> KAFKA_STREAM_TOPICS_MAX = SECTION.add(ConfigKey.integer(
            "hub.kafka_stream_topics_max",
            1_000,
            1,
            100_000,
            "topics",
            "With hub.kafka_topics: stream, the stream topics a hub creates at most; a push of a further stream"
                    + " gets 503 (the node keeps it) until this is raised."));
    static final ConfigKey<String> KAFKA_ADVERTISED_URL = SECTION.add(ConfigKey.text(
            "hub.kafka_advertised_url",
            "",
            "How the other hubs of the fleet reach this one (http://host:port); a push for a node whose shard"
                    + " another hub owns is forwarded there. Empty: this hub cannot be forwarded to (pushes for its"
                    + " shards that reach another hub get 503 and the node retries)."));

    /** Producer settings the hub sets itself: exactly once rests on them. */
    static final List<String> KAFKA_RESERVED = List.of(
            "transactional.id",
            "enable.idempotence",
            "acks",
            "key.serializer",
            "value.serializer",
            "bootstrap.servers",
            "transaction.timeout.ms");

    private HubKeys() {}

    static OutpostConfig.Hub read(ConfigValues v) {
        return new OutpostConfig.Hub(
                v.get(ENABLED),
                v.get(PUSH_CONCURRENCY_MAX),
                v.get(BODY_BYTES_MAX),
                v.get(NODE_LOGS_OPEN_MAX),
                v.get(ROLLUP_RETENTION_HOURS),
                v.get(FLEET_CHANGES_BYTES_MAX),
                v.get(NODES),
                v.get(BACKEND),
                new OutpostConfig.Kafka(
                        v.get(KAFKA_BOOTSTRAP_SERVERS).strip(),
                        v.get(KAFKA_TOPIC_PREFIX).strip(),
                        v.get(KAFKA_SHARDS),
                        v.get(KAFKA_TRANSACTION_TIMEOUT_MILLIS),
                        v.get(KAFKA_SESSION_TIMEOUT_MILLIS),
                        v.get(KAFKA_PRODUCER),
                        advertisedUrl(v.get(KAFKA_ADVERTISED_URL).strip()),
                        v.get(KAFKA_TOPICS).equals("stream"),
                        v.get(KAFKA_STREAM_TOPICS_MAX)));
    }

    /** {@code hub.kafka_advertised_url}: empty, or an absolute http(s) URL without a path. */
    private static String advertisedUrl(String url) {
        if (url.isEmpty()) {
            return url;
        }
        java.net.URI u;
        try {
            u = new java.net.URI(url);
        } catch (java.net.URISyntaxException e) {
            u = null;
        }
        if (u == null
                || !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))
                || u.getHost() == null
                || (u.getRawPath() != null
                        && !u.getRawPath().isEmpty()
                        && !u.getRawPath().equals("/"))) {
            throw new ConfigException(
                    "hub.kafka_advertised_url",
                    "config error: hub.kafka_advertised_url must be empty or http(s)://host:port (no path), not '" + url
                            + "'");
        }
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** {@code hub.kafka_producer: {SETTING: VALUE}}, none of {@link #KAFKA_RESERVED}. */
    private static Map<String, String> producer(Object raw, String source) {
        if (raw == null) {
            return Map.of();
        }
        if (!(raw instanceof Map<?, ?> m)) {
            throw new ConfigException(
                    "hub.kafka_producer",
                    "config error in " + source + ": 'hub.kafka_producer' must be a mapping of producer settings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String k = String.valueOf(e.getKey());
            if (KAFKA_RESERVED.contains(k)) {
                throw new ConfigException(
                        "hub.kafka_producer." + k,
                        "config error in " + source + ": '" + k + "' is set by the hub (exactly once rests on it);"
                                + " remove it from hub.kafka_producer. The hub sets: " + KAFKA_RESERVED);
            }
            out.put(k, String.valueOf(e.getValue()));
        }
        return Map.copyOf(out);
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
                        "config error in " + source + ": node id '" + id + "' must be " + NodeKeys.ID_RULE);
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

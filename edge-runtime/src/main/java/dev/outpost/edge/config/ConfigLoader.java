package dev.outpost.edge.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads the YAML configuration strictly: an unknown key or a bad value is a {@link
 * ConfigException} that names the key and what is allowed, never a silent default.
 */
public final class ConfigLoader {
    private static final Pattern SIZE = Pattern.compile("(?i)^\\s*(\\d+)\\s*(b|kib|mib|gib|kb|mb|gb)?\\s*$");

    private ConfigLoader() {}

    /** The configuration with every default. */
    public static OutpostConfig defaults() {
        return load(Map.of(), "defaults");
    }

    /** Loads and validates {@code file}. */
    public static OutpostConfig load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("", "config error: file " + file + " does not exist or is not a file");
        }
        LoaderOptions lo = new LoaderOptions();
        lo.setAllowDuplicateKeys(false);
        lo.setMaxAliasesForCollections(10);
        lo.setCodePointLimit(1024 * 1024);
        Object root;
        try (Reader r = Files.newBufferedReader(file)) {
            root = new Yaml(new SafeConstructor(lo)).load(r);
        } catch (IOException e) {
            throw new ConfigException("", "config error: cannot read " + file + ": " + e.getMessage());
        } catch (YAMLException e) {
            throw new ConfigException("", "config error: " + file + " is not valid YAML: " + e.getMessage());
        }
        if (root == null) {
            root = Map.of();
        }
        if (!(root instanceof Map<?, ?> m)) {
            throw new ConfigException(
                    "",
                    "config error: " + file
                            + " must be a YAML mapping of sections (node, data, http, log, compress, ingest, state, budget, query, streams)");
        }
        return load(m, file.toString());
    }

    static OutpostConfig load(Map<?, ?> root, String source) {
        Map<String, ConfigKey> byPath = OutpostConfig.KEYS.stream()
                .collect(Collectors.toMap(ConfigKey::path, k -> k, (a, b) -> a, LinkedHashMap::new));
        List<String> sections = new java.util.ArrayList<>(
                OutpostConfig.KEYS.stream().map(ConfigKey::section).distinct().toList());
        sections.add("streams");
        Map<String, OutpostConfig.StreamDecl> streams = new LinkedHashMap<>();
        Map<String, Object> values = new LinkedHashMap<>();
        for (ConfigKey k : OutpostConfig.KEYS) {
            values.put(k.path(), parse(k, k.defaultValue(), "default"));
        }
        for (Map.Entry<?, ?> e : root.entrySet()) {
            String section = String.valueOf(e.getKey());
            if (!sections.contains(section)) {
                throw new ConfigException(
                        section,
                        "config error in " + source + ": unknown key '" + section + "'; allowed top-level keys: "
                                + String.join(", ", sections));
            }
            if (e.getValue() == null) {
                continue;
            }
            if (section.equals("streams")) {
                streams.putAll(streams(e.getValue(), source));
                continue;
            }
            if (!(e.getValue() instanceof Map<?, ?> sub)) {
                throw new ConfigException(
                        section,
                        "config error in " + source + ": '" + section + "' must be a mapping of keys: "
                                + allowedIn(section));
            }
            for (Map.Entry<?, ?> se : sub.entrySet()) {
                String path = section + "." + se.getKey();
                if (path.equals("hub.nodes")) {
                    values.put(path, hubNodes(se.getValue(), source));
                    continue;
                }
                ConfigKey k = byPath.get(path);
                if (k == null) {
                    throw new ConfigException(
                            path,
                            "config error in " + source + ": unknown key '" + path + "'; allowed keys under '" + section
                                    + "': " + allowedIn(section));
                }
                if (se.getValue() != null) {
                    values.put(path, parse(k, se.getValue(), source));
                }
            }
        }
        values.put("streams", streams);
        return OutpostConfig.fromValues(values);
    }

    /** {@code hub.nodes: {NODE_ID: TOKEN}}: the nodes a hub accepts and their tokens. */
    private static Map<String, String> hubNodes(Object raw, String source) {
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
        return out;
    }

    private static String allowedIn(String section) {
        return OutpostConfig.KEYS.stream()
                        .filter(k -> k.section().equals(section))
                        .map(ConfigKey::leaf)
                        .collect(Collectors.joining(", "))
                + (section.equals("hub") ? ", nodes" : "");
    }

    /**
     * Validates one value of a live key as a hub sends it ({@code source} says where it came from).
     *
     * @return the parsed value
     * @throws ConfigException naming the key: unknown, not changeable at runtime, or a bad value
     */
    static long parseLive(String key, Object raw, String source) {
        ConfigKey k = OutpostConfig.KEYS.stream()
                .filter(c -> c.path().equals(key))
                .findFirst()
                .orElse(null);
        String liveKeys = String.join(", ", LiveConfig.keys());
        if (k == null) {
            throw new ConfigException(
                    key, "config error in " + source + ": unknown key '" + key + "'; keys a hub may set: " + liveKeys);
        }
        if (!k.live()) {
            throw new ConfigException(
                    key,
                    "config error in " + source + ": '" + key + "' cannot change while the agent runs (set it in the"
                            + " YAML file and restart); keys a hub may set: " + liveKeys);
        }
        return (Long) parse(k, raw, source);
    }

    private static Object parse(ConfigKey k, Object raw, String source) {
        String where = "config error in " + source + ": '" + k.path() + "' = '" + raw + "' ";
        return switch (k.kind()) {
            case STRING -> {
                if (!(raw instanceof String || raw instanceof Number)) {
                    throw new ConfigException(k.path(), where + "is not allowed; expected a string");
                }
                yield String.valueOf(raw);
            }
            case PATH -> {
                if (!(raw instanceof String s) || s.isBlank()) {
                    throw new ConfigException(k.path(), where + "is not allowed; expected a directory path");
                }
                yield Path.of(s).normalize();
            }
            case ENUM -> {
                String s = String.valueOf(raw);
                String match = k.allowed().stream()
                        .filter(a -> a.equalsIgnoreCase(s))
                        .findFirst()
                        .orElse(null);
                if (match == null) {
                    throw new ConfigException(
                            k.path(), where + "is not allowed; allowed values: " + String.join(", ", k.allowed()));
                }
                yield match;
            }
            case INT -> {
                long v;
                if (raw instanceof Integer || raw instanceof Long) {
                    v = ((Number) raw).longValue();
                } else {
                    throw new ConfigException(
                            k.path(),
                            where + "is not allowed; expected a whole number from " + k.min() + " to " + k.max());
                }
                if (v < k.min() || v > k.max()) {
                    throw new ConfigException(
                            k.path(), where + "is out of range; allowed: " + k.min() + " to " + k.max());
                }
                yield v;
            }
            case BYTES -> {
                long v = bytes(raw);
                if (v < 0) {
                    throw new ConfigException(
                            k.path(),
                            where + "is not allowed; expected a size like 512KiB, 1MiB, 2GiB or a number of bytes");
                }
                if (v < k.min() || v > k.max()) {
                    throw new ConfigException(
                            k.path(), where + "is out of range; allowed: " + k.min() + " to " + k.max() + " bytes");
                }
                yield v;
            }
        };
    }

    /** Stream declarations: {@code streams: {NAME: {priority, retention_seconds, schema}}}. */
    private static Map<String, OutpostConfig.StreamDecl> streams(Object raw, String source) {
        if (!(raw instanceof Map<?, ?> m)) {
            throw new ConfigException(
                    "streams",
                    "config error in " + source
                            + ": 'streams' must be a mapping of stream names to {priority, retention_seconds, schema}");
        }
        Map<String, OutpostConfig.StreamDecl> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String name = String.valueOf(e.getKey());
            String at = "streams." + name;
            if (!dev.outpost.edge.ingest.EventParser.validName(name) || name.startsWith("_")) {
                throw new ConfigException(
                        at,
                        "config error in " + source + ": stream name '" + name
                                + "' must be 1-128 of A-Z a-z 0-9 . _ - and not start with '_'");
            }
            Map<?, ?> d = e.getValue() == null ? Map.of() : e.getValue() instanceof Map<?, ?> dm ? dm : null;
            if (d == null) {
                throw new ConfigException(
                        at,
                        "config error in " + source + ": '" + at
                                + "' must be a mapping of: priority, retention_seconds, schema");
            }
            for (Object k : d.keySet()) {
                if (!List.of("priority", "retention_seconds", "schema").contains(String.valueOf(k))) {
                    throw new ConfigException(
                            at + "." + k,
                            "config error in " + source + ": unknown key '" + at + "." + k + "'; allowed keys under '"
                                    + at + "': priority, retention_seconds, schema");
                }
            }
            String priority = d.get("priority") == null ? "normal" : String.valueOf(d.get("priority"));
            if (!dev.outpost.edge.ingest.EventParser.PRIORITIES.contains(priority)) {
                throw new ConfigException(
                        at + ".priority",
                        "config error in " + source + ": '" + at + ".priority' = '"
                                + priority + "' is not allowed; allowed values: "
                                + String.join(", ", dev.outpost.edge.ingest.EventParser.PRIORITIES));
            }
            long retention = 0;
            if (d.get("retention_seconds") != null) {
                if (!(d.get("retention_seconds") instanceof Number n) || n.longValue() < 0) {
                    throw new ConfigException(
                            at + ".retention_seconds",
                            "config error in " + source + ": '" + at
                                    + ".retention_seconds' must be a whole number of seconds >= 0 (0: kept until the disk budget needs the space)");
                }
                retention = n.longValue();
            }
            Object schema = d.get("schema");
            if (schema != null) {
                try {
                    dev.outpost.edge.streams.StreamSchema.compile(schema);
                } catch (IllegalArgumentException ex) {
                    throw new ConfigException(
                            at + ".schema", "config error in " + source + ": '" + at + ".schema': " + ex.getMessage());
                }
            }
            out.put(name, new OutpostConfig.StreamDecl(priority, retention, schema));
        }
        return out;
    }

    /** Parses a size with a binary unit (KiB, MiB, GiB; KB/MB/GB are read as the same); -1 if not a size. */
    static long bytes(Object raw) {
        if (raw instanceof Integer || raw instanceof Long) {
            return ((Number) raw).longValue();
        }
        Matcher m = SIZE.matcher(String.valueOf(raw));
        if (!m.matches()) {
            return -1;
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        return switch (unit) {
            case "kib", "kb" -> n * OutpostConfig.KIB;
            case "mib", "mb" -> n * OutpostConfig.MIB;
            case "gib", "gb" -> n * OutpostConfig.GIB;
            default -> n;
        };
    }
}

package dev.outpost.edge.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    /** The top-level key whose entries are stream names, read apart from the keyed sections. */
    static final String STREAMS = "streams";

    /** The top-level key whose entries are engine rules by name, read apart from the keyed sections. */
    static final String RULES = "rules";

    /** The top-level key whose entries are rollups by name, read apart from the keyed sections. */
    static final String ROLLUPS = "rollups";

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
                    "config error: " + file + " must be a YAML mapping of sections ("
                            + String.join(", ", topLevelKeys()) + ")");
        }
        return load(m, file.toString());
    }

    static OutpostConfig load(Map<?, ?> root, String source) {
        List<String> sections = topLevelKeys();
        Map<String, OutpostConfig.StreamDecl> streams = new LinkedHashMap<>();
        Map<String, Object> rules = new LinkedHashMap<>();
        Map<String, Object> rollups = new LinkedHashMap<>();
        ConfigValues values = ConfigValues.defaults();
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
            if (section.equals(STREAMS)) {
                streams.putAll(streams(e.getValue(), source));
                continue;
            }
            if (section.equals(RULES)) {
                rules.putAll(rules(e.getValue(), source));
                continue;
            }
            if (section.equals(ROLLUPS)) {
                rollups.putAll(rollups(e.getValue(), source));
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
                ConfigKey<?> k = key(path);
                if (k == null) {
                    throw new ConfigException(
                            path,
                            "config error in " + source + ": unknown key '" + path + "'; allowed keys under '" + section
                                    + "': " + allowedIn(section));
                }
                if (se.getValue() != null) {
                    values = values.with(path, k.parse(se.getValue(), source));
                }
            }
        }
        return OutpostConfig.load(values, streams, new OutpostConfig.Definitions(rules, rollups));
    }

    /** The sections' names and streams, in file order. */
    static List<String> topLevelKeys() {
        List<String> names = new ArrayList<>(
                OutpostConfig.SECTIONS.stream().map(ConfigSection::name).toList());
        names.add(STREAMS);
        names.add(RULES);
        names.add(ROLLUPS);
        return names;
    }

    /** The key at {@code path}, or null. */
    static ConfigKey<?> key(String path) {
        return OutpostConfig.KEYS.stream()
                .filter(k -> k.path().equals(path))
                .findFirst()
                .orElse(null);
    }

    private static String allowedIn(String section) {
        return OutpostConfig.KEYS.stream()
                .filter(k -> k.section().equals(section))
                .map(ConfigKey::leaf)
                .collect(Collectors.joining(", "));
    }

    /**
     * Validates one value of a live key as a hub sends it ({@code source} says where it came from).
     *
     * @return the parsed value
     * @throws ConfigException naming the key: unknown, not changeable at runtime, or a bad value
     */
    static long parseLive(String key, Object raw, String source) {
        ConfigKey<?> k = key(key);
        String liveKeys = String.join(", ", LiveConfig.keys());
        if (k == null) {
            throw new ConfigException(
                    key, "config error in " + source + ": unknown key '" + key + "'; keys a hub may set: " + liveKeys);
        }
        if (!k.isLive()) {
            throw new ConfigException(
                    key,
                    "config error in " + source + ": '" + key + "' cannot change while the agent runs (set it in the"
                            + " YAML file and restart); keys a hub may set: " + liveKeys);
        }
        return (Long) k.parse(raw, source);
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
            Object r = d.get("retention_seconds");
            if (r != null) {
                // An Integer or a Long only: 1.5 was cut to 1, and a YAML integer past a long (a BigInteger) wrapped.
                if (!(r instanceof Integer || r instanceof Long) || ((Number) r).longValue() < 0) {
                    throw new ConfigException(
                            at + ".retention_seconds",
                            "config error in " + source + ": '" + at + ".retention_seconds' = '" + r
                                    + "' is not allowed; expected a whole number of seconds from 0 to "
                                    + Long.MAX_VALUE + " (0: kept until the disk budget needs the space)");
                }
                retention = ((Number) r).longValue();
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

    /**
     * Rule declarations: {@code rules: {NAME: {stream, conditions, threshold, ...}}} (docs/RULES.md). Each is parsed
     * here so a bad one stops startup naming it; the check against stream schemas comes when the agent starts.
     */
    private static Map<String, Object> rules(Object raw, String source) {
        if (!(raw instanceof Map<?, ?> m)) {
            throw new ConfigException(
                    RULES,
                    "config error in " + source + ": 'rules' must be a mapping of rule names to rule definitions"
                            + " (docs/RULES.md)");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String name = String.valueOf(e.getKey());
            try {
                dev.outpost.edge.engine.RuleBook.checkName(name);
                dev.outpost.edge.engine.RuleSpec.parse(name, e.getValue());
            } catch (dev.outpost.edge.engine.RuleRefusal r) {
                throw new ConfigException(
                        ruleKey(r), "config error in " + source + ": '" + ruleKey(r) + "': " + r.getMessage());
            }
            out.put(name, e.getValue());
        }
        return out;
    }

    /** The dotted key of what a rule refusal names: {@code rules.NAME[.conditions.N][.FIELD]}. */
    public static String ruleKey(dev.outpost.edge.engine.RuleRefusal r) {
        StringBuilder key = new StringBuilder(RULES).append('.').append(r.rule());
        if (r.condition() != null) {
            key.append(".conditions.").append(r.condition());
        }
        if (r.field() != null) {
            key.append('.').append(r.field());
        }
        return key.toString();
    }

    /** Rollup declarations: {@code rollups: {NAME: {stream, group_by, window, aggregates, ...}}} (docs/API.md). */
    private static Map<String, Object> rollups(Object raw, String source) {
        if (!(raw instanceof Map<?, ?> m)) {
            throw new ConfigException(
                    ROLLUPS,
                    "config error in " + source + ": 'rollups' must be a mapping of rollup names to rollup definitions"
                            + " (docs/API.md, \"Rollups\")");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String name = String.valueOf(e.getKey());
            try {
                dev.outpost.edge.engine.rollup.RollupSpec.parse(name, e.getValue());
            } catch (dev.outpost.edge.engine.rollup.RollupRefusal r) {
                throw new ConfigException(
                        rollupKey(r), "config error in " + source + ": '" + rollupKey(r) + "': " + r.getMessage());
            }
            out.put(name, e.getValue());
        }
        return out;
    }

    /** The dotted key of what a rollup refusal names: {@code rollups.NAME[.FIELD]}. */
    public static String rollupKey(dev.outpost.edge.engine.rollup.RollupRefusal r) {
        return ROLLUPS + "." + r.rollup() + (r.field() == null ? "" : "." + r.field());
    }
}

package dev.outpost.edge.streams;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.edge.ingest.IngestOutcome;
import dev.outpost.edge.ingest.IngestStage;
import dev.outpost.edge.ingest.ParsedEvent;
import dev.outpost.store.Catalog;
import dev.outpost.store.Lane;
import dev.outpost.store.LogFields;
import dev.outpost.store.json.JsonTree;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Stream definitions: declared in YAML ({@code streams:}) or by {@code PUT /v1/streams/{name}},
 * kept in the catalog.
 *
 * <p>Design note. YAML declarations are written to the catalog at start when they differ from it,
 * and win: a stream declared in config cannot be changed over HTTP, so the file stays the
 * truth for what it names. Streams nobody declared are accepted with class {@code normal}, no
 * retention and no schema. Invariants: a definition from the API is visible to ingest only after
 * the catalog has it; a YAML declaration is in force even if the catalog cannot store it (a full
 * disk at start must not keep the agent down: the file is its truth, stored at the next start).
 */
public final class StreamRegistry {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StreamRegistry.class);

    /** Most streams that can be defined. */
    public static final int STREAMS_MAX = 10_000;

    /**
     * A stream's definition.
     *
     * @param name the stream
     * @param priority critical, high, normal or bulk
     * @param retentionSeconds how long its data is kept (0: until the disk budget needs it)
     * @param schema its compiled data schema, or null
     * @param fromConfig true if declared in the YAML configuration
     */
    public record Stream(
            String name, String priority, long retentionSeconds, StreamSchema schema, boolean fromConfig) {}

    private final Catalog catalog;
    private final Map<String, Stream> streams = new ConcurrentHashMap<>();

    public StreamRegistry(Catalog catalog, Map<String, OutpostConfig.StreamDecl> declared) {
        this.catalog = catalog;
        for (Catalog.StreamRow r : catalog.streams()) {
            Object tree = r.schemaJson() == null ? null : parse(r.schemaJson());
            streams.put(
                    r.name(),
                    new Stream(
                            r.name(),
                            r.priority(),
                            r.retentionSeconds(),
                            tree == null ? null : StreamSchema.compile(tree),
                            "config".equals(r.source())));
        }
        Map<String, Catalog.StreamRow> stored = new java.util.HashMap<>();
        catalog.streams().forEach(r -> stored.put(r.name(), r));
        for (Map.Entry<String, OutpostConfig.StreamDecl> e : declared.entrySet()) {
            OutpostConfig.StreamDecl d = e.getValue();
            Catalog.StreamRow row = row(e.getKey(), d.priority(), d.retentionSeconds(), d.schema(), true);
            if (row.equals(stored.get(e.getKey()))) {
                continue; // unchanged: no write at start
            }
            try {
                catalog.putStream(row);
            } catch (dev.outpost.store.StoreException ex) {
                LOG.atWarn()
                        .addKeyValue(LogFields.STREAM, e.getKey())
                        .addKeyValue(
                                LogFields.ADVICE,
                                "check the data directory's disk (catalog.db); the declaration is"
                                        + " in force meanwhile")
                        .log(
                                "streams: declared stream '{}' is in force but could not be stored in the catalog ({});"
                                        + " it is stored at the next start",
                                e.getKey(),
                                ex.getMessage());
            }
            streams.put(e.getKey(), stream(row, d.schema()));
        }
    }

    private static Catalog.StreamRow row(
            String name, String priority, long retention, Object schema, boolean fromConfig) {
        String json = schema == null ? null : new String(JsonTree.write(toTree(schema)), StandardCharsets.UTF_8);
        return new Catalog.StreamRow(name, priority, retention, json, fromConfig ? "config" : "api");
    }

    private static Stream stream(Catalog.StreamRow r, Object schema) {
        return new Stream(
                r.name(),
                r.priority(),
                r.retentionSeconds(),
                schema == null ? null : StreamSchema.compile(toTree(schema)),
                "config".equals(r.source()));
    }

    private static Object parse(String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return JsonTree.parseStored(b, 0, b.length); // from the catalog (or the YAML file, via JsonTree.write)
    }

    /** The log lane of a stream's events: its priority class ({@code normal} if undeclared). */
    public Lane laneOf(String name) {
        Stream s = get(name);
        return s == null ? Lane.NORMAL : Lane.of(s.priority());
    }

    /** The definition, or null for an undeclared stream. */
    public Stream get(String name) {
        return streams.get(name);
    }

    public Collection<Stream> all() {
        return streams.values();
    }

    /**
     * Defines or replaces a stream (from the HTTP API, or pulled from a hub).
     *
     * @throws StreamRefusal if the definition is not taken
     */
    public Stream put(String name, Object body) {
        if (!EventParser.validName(name) || name.startsWith("_")) {
            throw new StreamRefusal(
                    StreamRefusal.Kind.MALFORMED,
                    "stream name must be 1-128 of A-Z a-z 0-9 . _ - and not start" + " with '_'",
                    "name");
        }
        Stream existing = streams.get(name);
        if (existing != null && existing.fromConfig()) {
            throw new StreamRefusal(
                    StreamRefusal.Kind.DECLARED_IN_CONFIG,
                    "stream '" + name + "' is declared in the configuration" + " file; change it there",
                    "name");
        }
        if (!(body instanceof Map<?, ?> m)) {
            throw new StreamRefusal(
                    StreamRefusal.Kind.MALFORMED, "the body must be {priority, retention_seconds, schema}", null);
        }
        for (Object k : m.keySet()) {
            if (!List.of("priority", "retention_seconds", "schema").contains(String.valueOf(k))) {
                throw new StreamRefusal(
                        StreamRefusal.Kind.MALFORMED,
                        "unknown field '" + k + "'; allowed: priority, retention_seconds, schema",
                        String.valueOf(k));
            }
        }
        String priority = m.get("priority") == null ? "normal" : String.valueOf(m.get("priority"));
        if (!EventParser.PRIORITIES.contains(priority)) {
            throw new StreamRefusal(
                    StreamRefusal.Kind.MALFORMED, "priority must be one of " + EventParser.PRIORITIES, "priority");
        }
        long retention = 0;
        if (m.get("retention_seconds") != null) {
            if (!(m.get("retention_seconds") instanceof Long l) || l < 0) {
                throw new StreamRefusal(
                        StreamRefusal.Kind.MALFORMED,
                        "retention_seconds must be a whole number >= 0",
                        "retention_seconds");
            }
            retention = l;
        }
        Object schema = m.get("schema") == JsonTree.NULL ? null : m.get("schema");
        if (schema != null) {
            try {
                StreamSchema.compile(schema);
            } catch (IllegalArgumentException e) {
                throw new StreamRefusal(StreamRefusal.Kind.BAD_SCHEMA, e.getMessage(), "schema");
            }
        }
        if (existing == null && streams.size() >= STREAMS_MAX) {
            throw new StreamRefusal(
                    StreamRefusal.Kind.TOO_MANY, "at most " + STREAMS_MAX + " streams can be defined", null);
        }
        return store(name, priority, retention, schema, false);
    }

    private Stream store(String name, String priority, long retention, Object schema, boolean fromConfig) {
        Catalog.StreamRow row = row(name, priority, retention, schema, fromConfig);
        catalog.putStream(row);
        Stream s = stream(row, schema);
        streams.put(name, s);
        return s;
    }

    /** YAML gives Integer/Double where JSON gives Long/BigDecimal: normalize through JSON text. */
    private static Object toTree(Object yamlOrJson) {
        return parse(new String(JsonTree.write(normalize(yamlOrJson)), StandardCharsets.UTF_8));
    }

    private static Object normalize(Object o) {
        return switch (o) {
            case Map<?, ?> m -> {
                Map<String, Object> out = new java.util.LinkedHashMap<>();
                m.forEach((k, v) -> out.put(String.valueOf(k), normalize(v)));
                yield out;
            }
            case List<?> l -> l.stream().map(StreamRegistry::normalize).toList();
            case Integer i -> (long) i;
            case Double d -> java.math.BigDecimal.valueOf(d);
            case Float f -> java.math.BigDecimal.valueOf(f);
            case null -> JsonTree.NULL;
            default -> o;
        };
    }

    /**
     * The ingest pipeline's validation stage: checks each event against its stream's schema; the
     * first violation refuses the request, naming the field (and the 1-based line, for a batch).
     */
    public IngestOutcome.Invalid validate(IngestStage.Batch batch) {
        List<ParsedEvent> events = batch.events();
        for (int i = 0; i < events.size(); i++) {
            ParsedEvent e = events.get(i);
            Stream s = streams.get(e.stream());
            if (s == null || s.schema() == null) {
                continue;
            }
            Map<?, ?> event = (Map<?, ?>) JsonTree.parse(e.json(), e.offset(), e.length());
            StreamSchema.Violation why = s.schema().validate(event.get("data"));
            if (why != null) {
                int line = batch.line(i);
                return new IngestOutcome.Invalid(
                        IngestOutcome.Fault.SCHEMA_VIOLATION,
                        line,
                        why.field(),
                        (line > 0 ? "line " + line + ": " : "") + "stream '" + e.stream() + "': " + why.text());
            }
        }
        return null;
    }
}

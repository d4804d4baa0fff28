package dev.outpost.edge.engine;

import dev.outpost.edge.engine.rollup.RollupRefusal;
import dev.outpost.edge.engine.rollup.RollupSpec;
import dev.outpost.edge.engine.rollup.Rollups;
import dev.outpost.store.Catalog;
import dev.outpost.store.EngineRecords;
import dev.outpost.store.LogFields;
import dev.outpost.store.Retention;
import dev.outpost.store.json.JsonTree;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rollups' definitions: those declared in the YAML file ({@code rollups:}) and those set over the API
 * ({@code PUT /v1/rollups/{name}}), put in force in {@link Rollups} (which keeps the windows).
 *
 * <p>Design note. Invariants, as {@link RuleBook}'s: a change is applied all or nothing ({@link Rollups#define}
 * first, then the catalog); the file wins for its rollups ({@link DefinitionConflict}); a rollup removed from the file
 * is gone at the next start (with its rows). A new or changed rollup is backfilled from the log by the engine:
 * {@link #generation()} moves with every change, so the engine knows to read again from
 * {@link Rollups#lowestCoveredSeq()}.
 */
public final class RollupBook {
    private static final Logger LOG = LoggerFactory.getLogger(RollupBook.class);

    /**
     * One rollup in force.
     *
     * @param source {@link RuleBook#FROM_CONFIG} or {@link RuleBook#FROM_API}
     */
    public record Entry(RollupSpec spec, String source) {}

    private final Catalog catalog;
    private final Rollups rollups;
    private final LongSupplier logLastSeq;
    private final TreeMap<String, Entry> entries = new TreeMap<>(); // guarded by this
    private volatile long generation;

    /**
     * @param declared the file's rollups by name (definition trees, parsed once by the config loader)
     * @throws RollupRefusal if the file's rollups cannot be defined together
     */
    public RollupBook(Catalog catalog, Rollups rollups, Map<String, Object> declared, LongSupplier logLastSeq) {
        this.catalog = catalog;
        this.rollups = rollups;
        this.logLastSeq = logLastSeq;
        TreeMap<String, Entry> next = new TreeMap<>();
        declared.forEach((name, tree) -> next.put(name, new Entry(RollupSpec.parse(name, tree), RuleBook.FROM_CONFIG)));
        for (EngineRecords.DefinitionRow row : catalog.engine().rollups()) {
            if (row.source().equals(RuleBook.FROM_CONFIG) || next.containsKey(row.name())) {
                continue;
            }
            try {
                next.put(
                        row.name(), new Entry(RollupSpec.parse(row.name(), parse(row.definitionJson())), row.source()));
            } catch (RollupRefusal r) {
                LOG.atWarn()
                        .addKeyValue(
                                LogFields.ADVICE,
                                "define the rollup again (PUT /v1/rollups/{name}) in a form this"
                                        + " version accepts (docs/API.md, Rollups)")
                        .log(
                                "rollups: stored rollup '{}' no longer parses and is dropped: {}",
                                row.name(),
                                r.getMessage());
            }
        }
        rollups.define(specs(next), logLastSeq.getAsLong());
        entries.putAll(next);
        List<EngineRecords.DefinitionRow> rows = rows(entries);
        if (!rows.equals(catalog.engine().rollups())) {
            catalog.engine().replaceRollups(rows);
        }
    }

    /** The rollups and their windows. */
    public Rollups rollups() {
        return rollups;
    }

    /**
     * The rollups as retention sees them: a stream has summaries if a rollup reads it, covered up to the lowest
     * covered seq of its rollups (as of their last flush: on disk).
     */
    public Retention.Summaries summaries() {
        return new Retention.Summaries() {
            @Override
            public boolean has(String stream) {
                return rollups.coveredSeq(stream) != Long.MAX_VALUE;
            }

            @Override
            public long coveredSeq(String stream) {
                return rollups.coveredSeq(stream);
            }
        };
    }

    /** Moves with every change of the set (the engine then reads again from the lowest covered seq). */
    public long generation() {
        return generation;
    }

    /** Every rollup in force, by name. */
    public synchronized List<Entry> list() {
        return List.copyOf(entries.values());
    }

    /** The rollup named {@code name}, or null. */
    public synchronized Entry get(String name) {
        return entries.get(name);
    }

    /**
     * Defines or replaces a rollup (a new or changed one is backfilled from the log).
     *
     * @throws RollupRefusal if the definition is not valid or the set with it cannot be defined (400)
     * @throws DefinitionConflict if the rollup is declared in the configuration file (409)
     */
    public synchronized Entry put(String name, Object definition, String source) {
        RollupSpec spec = RollupSpec.parse(name, definition);
        refuseIfDeclared(name, "replaced");
        TreeMap<String, Entry> next = new TreeMap<>(entries);
        Entry entry = new Entry(spec, source);
        next.put(name, entry);
        install(next);
        return entry;
    }

    /**
     * Deletes a rollup and its windows.
     *
     * @return false if there was none
     * @throws DefinitionConflict if the rollup is declared in the configuration file (409)
     */
    public synchronized boolean delete(String name) {
        if (!entries.containsKey(name)) {
            return false;
        }
        refuseIfDeclared(name, "deleted");
        TreeMap<String, Entry> next = new TreeMap<>(entries);
        next.remove(name);
        install(next);
        return true;
    }

    private void refuseIfDeclared(String name, String what) {
        Entry existing = entries.get(name);
        if (existing != null && existing.source().equals(RuleBook.FROM_CONFIG)) {
            throw new DefinitionConflict(
                    name,
                    "rollup '" + name + "' is declared in the configuration file and cannot be " + what
                            + " at runtime; change it in the file (rollups." + name + ") and restart");
        }
    }

    private void install(TreeMap<String, Entry> next) {
        rollups.define(specs(next), logLastSeq.getAsLong());
        catalog.engine().replaceRollups(rows(next));
        entries.clear();
        entries.putAll(next);
        generation++;
    }

    private static List<RollupSpec> specs(Map<String, Entry> set) {
        return set.values().stream().map(Entry::spec).toList();
    }

    private static List<EngineRecords.DefinitionRow> rows(Map<String, Entry> set) {
        List<EngineRecords.DefinitionRow> out = new ArrayList<>(set.size());
        for (Entry e : set.values()) {
            String json = new String(JsonTree.write(e.spec().toTree()), StandardCharsets.UTF_8);
            out.add(new EngineRecords.DefinitionRow(e.spec().name(), json, e.source()));
        }
        return out;
    }

    private static Object parse(String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return JsonTree.parseStored(b, 0, b.length);
    }
}

package dev.outpost.edge.engine;

import dev.outpost.edge.streams.StreamSchema;
import dev.outpost.store.Catalog;
import dev.outpost.store.EngineRecords;
import dev.outpost.store.LogFields;
import dev.outpost.store.json.JsonTree;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's rules: those declared in the YAML file ({@code rules:}), those set over the API
 * ({@code PUT /v1/rules/{name}}) and those pushed by a hub, compiled into the {@link RuleSet} the engine runs.
 *
 * <p>Design note. Invariants:
 *
 * <ul>
 *   <li><b>All or nothing.</b> Every change compiles the whole new set first ({@link RuleSet#compile}, which checks
 *       each rule against its stream's schema); only if it compiles is it stored (one catalog transaction) and put in
 *       force. A refused change leaves the set in force as it was.
 *   <li><b>The file wins for its rules.</b> A rule declared in the file cannot be replaced or deleted over the API or
 *       by a hub ({@link DefinitionConflict}); at each start the file's rules replace what the catalog held for them, and a
 *       rule removed from the file is gone.
 *   <li><b>A stored rule that no longer compiles</b> (its stream got a schema it breaks) is dropped at start with a
 *       warning naming it and why; a declared one stops the start instead (it is the operator's file).
 * </ul>
 */
public final class RuleBook {
    private static final Logger LOG = LoggerFactory.getLogger(RuleBook.class);

    /** Where a rule came from. */
    public static final String FROM_CONFIG = "config";

    public static final String FROM_API = "api";
    public static final String FROM_HUB = "hub";

    /**
     * One rule in force.
     *
     * @param source {@link #FROM_CONFIG}, {@link #FROM_API} or {@link #FROM_HUB}
     */
    public record Rule(RuleSpec spec, String source) {}

    private final Catalog catalog;
    private final Function<String, StreamSchema> schemaOf;
    private final TreeMap<String, Rule> rules = new TreeMap<>(); // guarded by this
    private volatile RuleSet current = RuleSet.EMPTY;

    /**
     * @param declared the file's rules by name (definition trees, already parsed once by the config loader)
     * @param schemaOf a stream's schema, or null
     * @throws RuleRefusal if a declared rule does not compile (the start stops, naming it)
     */
    public RuleBook(Catalog catalog, Map<String, Object> declared, Function<String, StreamSchema> schemaOf) {
        this.catalog = catalog;
        this.schemaOf = schemaOf;
        TreeMap<String, Rule> next = new TreeMap<>();
        for (Map.Entry<String, Object> e : declared.entrySet()) {
            next.put(e.getKey(), new Rule(RuleSpec.parse(e.getKey(), e.getValue()), FROM_CONFIG));
        }
        compile(next); // the file's rules alone must compile
        for (EngineRecords.DefinitionRow row : catalog.engine().rules()) {
            if (row.source().equals(FROM_CONFIG) || next.containsKey(row.name())) {
                continue; // the file's rules come from the file
            }
            TreeMap<String, Rule> with = new TreeMap<>(next);
            try {
                with.put(row.name(), new Rule(RuleSpec.parse(row.name(), parse(row.definitionJson())), row.source()));
                compile(with);
                next = with;
            } catch (RuleRefusal r) {
                LOG.atWarn()
                        .addKeyValue(
                                LogFields.ADVICE,
                                "fix the rule and PUT it again (/v1/rules/{name}, or from the"
                                        + " hub that set it); docs/RULES.md")
                        .log(
                                "rules: stored rule '{}' (set by {}) no longer compiles and is dropped: {}",
                                row.name(),
                                row.source(),
                                r.getMessage());
            }
        }
        rules.putAll(next);
        current = compile(rules);
        List<EngineRecords.DefinitionRow> rows = rows(rules);
        if (!rows.equals(catalog.engine().rules())) {
            catalog.engine().replaceRules(rows);
        }
    }

    /** Refuses a rule name that is not valid ({@link RuleSpec#checkName}). */
    public static void checkName(String name) {
        RuleSpec.checkName(name);
    }

    /** The compiled set in force. */
    public RuleSet current() {
        return current;
    }

    /** Every rule in force, by name. */
    public synchronized List<Rule> list() {
        return List.copyOf(rules.values());
    }

    /** The rule named {@code name}, or null. */
    public synchronized Rule get(String name) {
        return rules.get(name);
    }

    /**
     * Defines or replaces a rule.
     *
     * @param source {@link #FROM_API} or {@link #FROM_HUB}
     * @return the rule now in force
     * @throws RuleRefusal if the rule is not valid or the set with it does not compile (422)
     * @throws DefinitionConflict if the rule is declared in the configuration file (409)
     */
    public synchronized Rule put(String name, Object definition, String source) {
        checkName(name);
        RuleSpec spec = RuleSpec.parse(name, definition);
        refuseIfDeclared(name, "replaced");
        TreeMap<String, Rule> next = new TreeMap<>(rules);
        Rule rule = new Rule(spec, source);
        next.put(name, rule);
        install(next);
        return rule;
    }

    /**
     * Deletes a rule.
     *
     * @return false if there was none
     * @throws DefinitionConflict if the rule is declared in the configuration file (409)
     */
    public synchronized boolean delete(String name) {
        if (!rules.containsKey(name)) {
            return false;
        }
        refuseIfDeclared(name, "deleted");
        TreeMap<String, Rule> next = new TreeMap<>(rules);
        next.remove(name);
        install(next);
        return true;
    }

    private void refuseIfDeclared(String name, String what) {
        Rule existing = rules.get(name);
        if (existing != null && existing.source().equals(FROM_CONFIG)) {
            throw new DefinitionConflict(
                    name,
                    "rule '" + name + "' is declared in the configuration file and cannot be " + what
                            + " at runtime; change it in the file (rules." + name + ") and restart");
        }
    }

    /** Compiles, stores and puts {@code next} in force, or throws leaving everything as it was. */
    private void install(TreeMap<String, Rule> next) {
        RuleSet compiled = compile(next);
        catalog.engine().replaceRules(rows(next));
        rules.clear();
        rules.putAll(next);
        current = compiled;
    }

    private RuleSet compile(Map<String, Rule> set) {
        return RuleSet.compile(set.values().stream().map(Rule::spec).toList(), schemaOf);
    }

    private static List<EngineRecords.DefinitionRow> rows(Map<String, Rule> set) {
        List<EngineRecords.DefinitionRow> out = new ArrayList<>(set.size());
        for (Rule r : set.values()) {
            String json = new String(JsonTree.write(r.spec().toTree()), StandardCharsets.UTF_8);
            out.add(new EngineRecords.DefinitionRow(r.spec().name(), json, r.source()));
        }
        return out;
    }

    private static Object parse(String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return JsonTree.parseStored(b, 0, b.length);
    }
}

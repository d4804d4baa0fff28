package dev.outpost.edge.engine;

import dev.outpost.edge.streams.StreamSchema;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * An immutable, compiled set of rules: what every evaluator of the agent runs against the events it sees.
 *
 * <p>Design note. A set is compiled whole and replaced whole: {@link #compile} succeeds for every rule or refuses with
 * the first bad one (in name order), so a change through the API, the file or the hub never leaves half a rule set in
 * force. Rules are grouped by stream; each stream's rules share one {@link FieldTree}, so an event is read once for all
 * the rules that select its stream, and an event of a stream no rule selects is not read at all. Invariants: at most
 * {@link #RULES_MAX} rules with unique names; immutable after compile, so thread-safe; each thread evaluates through its
 * own {@link Evaluator}.
 */
public final class RuleSet {
    /** Most rules in a set. */
    public static final int RULES_MAX = 1_000;

    /** The set with no rules. */
    public static final RuleSet EMPTY = new RuleSet(List.of(), Map.of(), 0, 0, 0);

    /** The compiled rules of one stream, in name order, and the fields they read. */
    record StreamRules(CompiledRule[] rules, FieldTree fields) {}

    private final List<RuleSpec> specs;
    private final Map<String, RuleSpec> byName;
    private final Map<String, StreamRules> byStream;
    private final int slotsMax;
    private final int regexes;
    private final int detectors;

    private RuleSet(List<RuleSpec> specs, Map<String, StreamRules> byStream, int slotsMax, int regexes, int detectors) {
        this.specs = List.copyOf(specs);
        Map<String, RuleSpec> names = new LinkedHashMap<>();
        specs.forEach(s -> names.put(s.name(), s));
        this.byName = Map.copyOf(names);
        this.byStream = Map.copyOf(byStream);
        this.slotsMax = slotsMax;
        this.regexes = regexes;
        this.detectors = detectors;
    }

    /**
     * Checks and compiles every rule, all or nothing: RuleRefusal for the first bad one in name order (a name given
     * twice is refused too).
     *
     * @param schemaOf the schema of a stream, or null when it has none; a null function means no schemas
     */
    public static RuleSet compile(Collection<RuleSpec> rules, Function<String, StreamSchema> schemaOf) {
        List<RuleSpec> sorted = new ArrayList<>(rules);
        sorted.sort(Comparator.comparing(RuleSpec::name, Comparator.nullsFirst(Comparator.naturalOrder())));
        if (sorted.size() > RULES_MAX) {
            throw new RuleRefusal(
                    sorted.get(RULES_MAX).name(), null, null, "a rule set holds at most " + RULES_MAX + " rules");
        }
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).name() != null
                    && sorted.get(i).name().equals(sorted.get(i - 1).name())) {
                throw new RuleRefusal(sorted.get(i).name(), null, "name", "the rule set has two rules of this name");
            }
        }
        Map<String, List<CompiledRule>> perStream = new TreeMap<>();
        Map<String, FieldTree> trees = new HashMap<>();
        int[] regexes = {0};
        int[] detectors = {0};
        for (RuleSpec spec : sorted) {
            String stream = spec.stream();
            StreamSchema schema = stream == null || schemaOf == null ? null : schemaOf.apply(stream);
            FieldTree tree = stream == null ? new FieldTree() : trees.computeIfAbsent(stream, s -> new FieldTree());
            CompiledRule rule = CompiledRule.compile(spec, schema, tree, () -> regexes[0]++, () -> detectors[0]++);
            perStream.computeIfAbsent(stream, s -> new ArrayList<>()).add(rule);
        }
        Map<String, StreamRules> byStream = new HashMap<>();
        int slotsMax = 0;
        for (Map.Entry<String, List<CompiledRule>> e : perStream.entrySet()) {
            FieldTree tree = trees.get(e.getKey());
            byStream.put(e.getKey(), new StreamRules(e.getValue().toArray(CompiledRule[]::new), tree));
            slotsMax = Math.max(slotsMax, tree.slots());
        }
        return new RuleSet(sorted, byStream, slotsMax, regexes[0], detectors[0]);
    }

    /** This set with {@code spec} added or replacing the rule of its name, compiled all or nothing. */
    public RuleSet with(RuleSpec spec, Function<String, StreamSchema> schemaOf) {
        Map<String, RuleSpec> next = new LinkedHashMap<>(byName);
        next.put(spec.name(), spec);
        return compile(next.values(), schemaOf);
    }

    /** This set without the rule of that name (itself if there is none). */
    public RuleSet without(String name, Function<String, StreamSchema> schemaOf) {
        if (!byName.containsKey(name)) {
            return this;
        }
        Map<String, RuleSpec> next = new LinkedHashMap<>(byName);
        next.remove(name);
        return compile(next.values(), schemaOf);
    }

    /** The rules, sorted by name. */
    public List<RuleSpec> specs() {
        return specs;
    }

    /** The rule of that name, or null. */
    public RuleSpec spec(String name) {
        return byName.get(name);
    }

    /** True when a rule selects the stream. */
    public boolean watches(String stream) {
        return byStream.containsKey(stream);
    }

    /** A new evaluator, for one thread, with detector state of its own (bounded by the default). */
    public Evaluator evaluator() {
        return evaluator(new Detectors(Detectors.GROUPS_MAX_DEFAULT));
    }

    /** A new evaluator, for one thread, whose anomaly conditions keep their state in {@code state}. */
    Evaluator evaluator(Detectors state) {
        return new Evaluator(this, slotsMax, regexes, detectors, state);
    }

    /** The ids of the anomaly detectors of the set's rules. */
    Set<String> detectorIds() {
        Set<String> ids = new HashSet<>();
        byStream.values()
                .forEach(r -> Arrays.stream(r.rules())
                        .flatMap(CompiledRule::detectorIds)
                        .forEach(ids::add));
        return ids;
    }

    StreamRules rulesOf(String stream) {
        return byStream.get(stream);
    }
}

package dev.outpost.edge;

import dev.outpost.edge.config.ConfigException;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.engine.Engine;
import dev.outpost.edge.engine.RollupBook;
import dev.outpost.edge.engine.RuleBook;
import dev.outpost.edge.engine.RuleRefusal;
import dev.outpost.edge.engine.rollup.Limits;
import dev.outpost.edge.engine.rollup.RollupRefusal;
import dev.outpost.edge.engine.rollup.Rollups;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.edge.streams.StreamRegistry;
import dev.outpost.store.Catalog;
import dev.outpost.store.EventLog;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Opens the engine's parts for {@link Agent}: the rules, the rollups (their SQLite file {@value #ROLLUPS_FILE} in the
 * data directory) and the engine thread that applies both, with the alert stream declared. A declared rule or rollup
 * that cannot be put in force stops the start, naming its key.
 */
final class EngineWiring {
    /** The rollups' file, in the data directory (counted against budget.disk with the rest of it). */
    static final String ROLLUPS_FILE = "rollups.db";

    /** The engine's parts, in the order they are opened. */
    record Parts(RuleBook rules, RollupBook rollups, Engine engine) {}

    private EngineWiring() {}

    /**
     * @param open registers what must be closed when the agent stops (most recent first) and returns it
     */
    static Parts open(
            OutpostConfig config,
            EventLog log,
            Catalog catalog,
            StreamRegistry streams,
            Metrics metrics,
            UnaryOperator<AutoCloseable> open) {
        RuleBook rules = ruleBook(config, catalog, streams);
        Rollups windows = Rollups.open(
                config.data().dir().resolve(ROLLUPS_FILE),
                System::currentTimeMillis,
                new Limits(config.engine().rollupGroupsMax(), Limits.ROLLUPS_MAX_DEFAULT));
        open.apply(windows);
        RollupBook rollups = rollupBook(config, catalog, windows, log);
        metrics.gauge(
                "outpost_rollup_groups_in_memory", "Rollup window summaries held in memory.", windows::groupsInMemory);
        metrics.counterFn(
                "outpost_rollup_events_read_with_rules_total",
                "Events whose fields the rollups took from the rules' pass over the event (not read a second time).",
                windows::eventsReadShared);
        metrics.counterFn(
                "outpost_rollup_final_windows_emitted_total",
                "Final rollup windows written to the stream outpost.rollup_windows for the hub.",
                windows::finalEmitted);
        metrics.gauge(
                "outpost_rollup_final_windows_pending",
                "Final rollup windows not yet written for the hub (as of the last flush).",
                windows::finalBacklog);
        Engine engine = new Engine(
                log,
                catalog,
                rules,
                rollups,
                alertStream(config, streams),
                config.engine().detectorGroupsMax(),
                System::currentTimeMillis,
                metrics);
        engine.threadNice(config.engine().threadNice());
        open.apply(engine);
        return new Parts(rules, rollups, engine);
    }

    private static RuleBook ruleBook(OutpostConfig config, Catalog catalog, StreamRegistry streams) {
        try {
            return new RuleBook(catalog, config.rules(), name -> {
                StreamRegistry.Stream s = streams.get(name);
                return s == null ? null : s.schema();
            });
        } catch (RuleRefusal r) {
            String key = ConfigLoader.ruleKey(r);
            throw new ConfigException(key, "config error: '" + key + "': " + r.getMessage());
        }
    }

    private static RollupBook rollupBook(OutpostConfig config, Catalog catalog, Rollups windows, EventLog log) {
        try {
            return new RollupBook(catalog, windows, config.rollups(), log::lastSeq);
        } catch (RollupRefusal r) {
            String key = ConfigLoader.rollupKey(r);
            throw new ConfigException(key, "config error: '" + key + "': " + r.getMessage());
        }
    }

    /** The engine's alert stream, declared in the critical lane unless the file declares it (then it must be). */
    private static String alertStream(OutpostConfig config, StreamRegistry streams) {
        String name = config.engine().alertStream();
        StreamRegistry.Stream s = streams.get(name);
        if (s == null) {
            streams.put(name, Map.of("priority", "critical"));
        } else if (!s.priority().equals("critical")) {
            throw new ConfigException(
                    "streams." + name + ".priority",
                    "config error: stream '" + name + "' is engine.alert_stream and must have priority critical (alerts"
                            + " reach the hub first), not " + s.priority());
        }
        return name;
    }
}

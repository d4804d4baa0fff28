package dev.outpost.edge.config;

import static dev.outpost.edge.config.ConfigKey.GIB;
import static dev.outpost.edge.config.ConfigKey.MIB;

/** Section {@code budget}: the one resource budget the governor measures pressure against. */
final class BudgetKeys {
    static final ConfigSection SECTION = new ConfigSection("budget");

    static final ConfigKey<Long> MEMORY = SECTION.add(ConfigKey.bytes(
            "budget.memory",
            512 * MIB,
            64 * MIB,
            1024 * GIB,
            "The agent's whole memory budget, against the process RSS (the cgroup's usage is reported in"
                    + " GET /v1/governor, not budgeted)."));
    static final ConfigKey<Long> DISK = SECTION.add(ConfigKey.bytes(
            "budget.disk",
            GIB,
            16 * MIB,
            1024 * 1024 * GIB,
            "The data directory's budget: log, state file, catalog, quarantine."));
    static final ConfigKey<Integer> CPU = SECTION.add(ConfigKey.integer(
            "budget.cpu", 2, 1, 1024, "cores", "CPU cores the agent may use (pressure = process CPU / this)."));
    static final ConfigKey<Integer> CONNECTIONS = SECTION.add(ConfigKey.integer(
            "budget.connections",
            1000,
            1,
            1_000_000,
            "connections",
            "Open HTTP connections; more are refused with 503 before their body is read."));
    static final ConfigKey<Integer> PROBE_CONNECTIONS = SECTION.add(ConfigKey.integer(
            "budget.probe_connections",
            8,
            0,
            100_000,
            "connections",
            "Of budget.connections, how many are kept for GET /health* and /metrics; less than budget.connections."));
    static final ConfigKey<Long> INGEST_RATE = SECTION.add(ConfigKey.count(
            "budget.ingest_rate",
            0,
            0,
            100_000_000,
            "events per second",
            "Events per second the agent ingests before shedding low priorities (0: no rate budget)."));
    static final ConfigKey<Integer> LATENCY_P95_MILLIS = SECTION.add(ConfigKey.integer(
                    "budget.latency_p95_millis",
                    50,
                    1,
                    5_000,
                    "milliseconds",
                    "Target p95 latency of POST /v1/events; above it the governor halves query pages and batches.")
            .live());

    private BudgetKeys() {}

    static OutpostConfig.Budget read(ConfigValues v) {
        return new OutpostConfig.Budget(
                v.get(MEMORY),
                v.get(DISK),
                v.get(CPU),
                v.get(CONNECTIONS),
                v.get(PROBE_CONNECTIONS),
                v.get(INGEST_RATE),
                v.get(LATENCY_P95_MILLIS));
    }
}

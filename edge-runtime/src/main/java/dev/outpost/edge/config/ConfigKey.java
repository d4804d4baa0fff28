package dev.outpost.edge.config;

import java.util.List;

/**
 * One configuration key: its dotted path, kind, default and meaning. The single source the loader
 * validates against and the example file is checked against.
 */
record ConfigKey(
        String path,
        Kind kind,
        Object defaultValue,
        long min,
        long max,
        List<String> allowed,
        String meaning,
        boolean live) {

    enum Kind {
        STRING,
        INT,
        BYTES,
        ENUM,
        PATH
    }

    static ConfigKey string(String path, String def, String meaning) {
        return new ConfigKey(path, Kind.STRING, def, 0, 0, List.of(), meaning, false);
    }

    static ConfigKey path(String path, String def, String meaning) {
        return new ConfigKey(path, Kind.PATH, def, 0, 0, List.of(), meaning, false);
    }

    static ConfigKey integer(String path, long def, long min, long max, String meaning) {
        return new ConfigKey(path, Kind.INT, def, min, max, List.of(), meaning, false);
    }

    static ConfigKey bytes(String path, long def, long min, long max, String meaning) {
        return new ConfigKey(path, Kind.BYTES, def, min, max, List.of(), meaning, false);
    }

    static ConfigKey oneOf(String path, String def, List<String> allowed, String meaning) {
        return new ConfigKey(path, Kind.ENUM, def, 0, 0, allowed, meaning, false);
    }

    /**
     * This key changeable at runtime: a hub may set it over pull (config changes), and it takes
     * effect without a restart. Only keys whose every reader reads the current value per use.
     */
    ConfigKey asLive() {
        return new ConfigKey(path, kind, defaultValue, min, max, allowed, meaning, true);
    }

    String section() {
        int dot = path.indexOf('.');
        return dot < 0 ? "" : path.substring(0, dot);
    }

    String leaf() {
        return path.substring(path.indexOf('.') + 1);
    }
}

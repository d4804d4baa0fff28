package dev.outpost.edge.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The parsed value of every key (as {@link ConfigKey#parse} gives it), by path: the source an
 * {@link OutpostConfig} is built from, and what a live change or hub mode replaces before building
 * again. Immutable.
 */
final class ConfigValues {
    private final Map<String, Object> byPath;

    private ConfigValues(Map<String, Object> byPath) {
        this.byPath = Map.copyOf(byPath);
    }

    /** Every key at its default. */
    static ConfigValues defaults() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (ConfigKey<?> k : OutpostConfig.KEYS) {
            m.put(k.path(), k.parse(k.defaultValue(), "default"));
        }
        return new ConfigValues(m);
    }

    /** The component value of {@code key}. */
    <T> T get(ConfigKey<T> key) {
        return key.convert(parsed(key.path()));
    }

    /** The parsed value of the key at {@code path}. */
    Object parsed(String path) {
        Object v = byPath.get(path);
        if (v == null) {
            throw new AssertionError("not a configuration key: " + path);
        }
        return v;
    }

    /** A copy with the key at {@code path} set to {@code parsed} (a value its key's parse gave). */
    ConfigValues with(String path, Object parsed) {
        parsed(path); // asserts the key exists
        Map<String, Object> m = new LinkedHashMap<>(byPath);
        m.put(path, Objects.requireNonNull(parsed, path));
        return new ConfigValues(m);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfigValues v && v.byPath.equals(byPath);
    }

    @Override
    public int hashCode() {
        return byPath.hashCode();
    }

    /** Not the values: they hold tokens and passwords, and the section records show the rest. */
    @Override
    public String toString() {
        return "ConfigValues[" + byPath.size() + " keys]";
    }
}

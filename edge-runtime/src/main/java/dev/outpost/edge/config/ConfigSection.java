package dev.outpost.edge.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One top-level YAML section (http, log, ...) and its keys, in file order. A section class
 * registers each key here as it defines it ({@code static final ... X = SECTION.add(...)}), so the
 * list of keys is never written a second time.
 */
final class ConfigSection {
    private final String name;
    private final List<ConfigKey<?>> keys = new ArrayList<>();

    ConfigSection(String name) {
        this.name = name;
    }

    /** Registers {@code key} (its path must be under this section) and returns it. */
    <T> ConfigKey<T> add(ConfigKey<T> key) {
        if (!key.section().equals(name) || keys.stream().anyMatch(k -> k.path().equals(key.path()))) {
            throw new IllegalStateException("key " + key.path() + " does not belong to section " + name + " once");
        }
        keys.add(key);
        return key;
    }

    String name() {
        return name;
    }

    List<ConfigKey<?>> keys() {
        return Collections.unmodifiableList(keys);
    }
}

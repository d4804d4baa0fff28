package dev.outpost.edge.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The configuration in force, key by key, as {@code outpost check-config} prints it: every key of the file with its
 * value (the file's, or the default) and its unit, then the streams, rules and rollups declared. Secrets are not
 * printed: a key that holds a token or a password shows only whether it is set, and a mapping (hub.nodes) only how many
 * entries it has.
 */
public final class EffectiveConfig {
    private EffectiveConfig() {}

    /** One line per key ({@code path: value  # default|set, unit}), then the declarations. */
    public static List<String> lines(OutpostConfig c) {
        ConfigValues defaults = ConfigValues.defaults();
        List<String> out = new ArrayList<>();
        String section = null;
        for (ConfigKey<?> k : OutpostConfig.KEYS) {
            if (!k.section().equals(section)) {
                section = k.section();
                out.add(section + ":");
            }
            Object value = c.values().parsed(k.path());
            boolean isDefault = value.equals(defaults.parsed(k.path()));
            String comment = (isDefault ? "default" : "set") + (k.unit().isEmpty() ? "" : ", " + k.unit());
            out.add("  " + k.path().substring(section.length() + 1) + ": " + shown(k, value) + "  # " + comment);
        }
        out.add("streams: " + names(c.streams().keySet()));
        out.add("rules: " + names(c.rules().keySet()));
        out.add("rollups: " + names(c.rollups().keySet()));
        return out;
    }

    private static String shown(ConfigKey<?> k, Object value) {
        String path = k.path();
        if (path.contains("token") || path.contains("password")) {
            return String.valueOf(value).isEmpty() ? "(not set)" : "(set, not shown)";
        }
        if (value instanceof Map<?, ?> m) {
            return "(" + m.size() + " entries, not shown)";
        }
        if (value instanceof Collection<?> list) {
            return "(" + list.size() + " entries, not shown)";
        }
        String text = String.valueOf(value);
        return text.isEmpty() ? "''" : text;
    }

    private static String names(Collection<String> names) {
        return names.isEmpty() ? "none" : names.size() + " (" + String.join(", ", names) + ")";
    }
}

package dev.outpost.edge.config;

import dev.outpost.store.LogFields;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration keys a hub may change while the agent runs (config changes over pull, BRIEF
 * §5): the file's value of each, what the hub set on top, and the effective configuration.
 *
 * <p>Design note. Invariants:
 *
 * <ol>
 *   <li>The effective configuration always passes the validation startup applies: every value in
 *       its key's range and every relationship between limits. A change that would break one is
 *       refused whole; nothing of it takes effect, and the refusal is kept for GET /v1/config.
 *   <li>A change is stored before it takes effect, and the stored set is replaced in one
 *       transaction, so after a crash or restart the node runs with exactly what it ran with before.
 *   <li>Hub values win over the file for the keys they name, until the hub unsets them (a null
 *       value), which brings back the file's value. Editing the file does not override the hub.
 * </ol>
 *
 * <p>Only keys defined with {@code live()} (see {@link ConfigKey}) can change: those whose readers
 * read {@code Agent.config()} at each use, or are told through a listener. Changes are serialised;
 * readers read one volatile snapshot. Exceptions from listeners are contained and logged.
 */
public final class LiveConfig {
    private static final Logger LOG = LoggerFactory.getLogger(LiveConfig.class);

    /** A stored value is a whole number when it is all digits (the YAML reader gives numbers as Long). */
    private static final Pattern WHOLE = Pattern.compile("-?\\d{1,18}");

    /**
     * One key a hub set.
     *
     * @param key the dotted key, as in the YAML file
     * @param rawValue the value as the hub sent it (a number or a size such as 64KiB)
     * @param hlc the hub's HLC of the change that set it
     * @param origin the node id of the hub
     */
    public record Setting(String key, String rawValue, long hlc, String origin) {}

    /** Stores the whole set of hub settings, durably, replacing what was stored. */
    @FunctionalInterface
    public interface Store {
        void replace(List<Setting> all);
    }

    /**
     * A change the node refused.
     *
     * @param hlc the hub's HLC of the change
     * @param key the key at fault
     * @param message what was wrong and what is allowed
     */
    public record Refusal(long hlc, String key, String message) {}

    private final OutpostConfig file;
    private final Store store;
    private final List<Consumer<OutpostConfig>> listeners = new CopyOnWriteArrayList<>();
    private volatile OutpostConfig current;
    private volatile Map<String, Setting> settings;
    private volatile Refusal lastRefusal;

    /**
     * @param file the configuration from the file (or defaults)
     * @param stored the settings stored by an earlier run; any that no longer validate (a newer
     *     binary dropped a key, or a relationship fails) are dropped with a warning
     * @param store where changes are stored before they take effect
     */
    public LiveConfig(OutpostConfig file, List<Setting> stored, Store store) {
        this.file = file;
        this.store = store;
        Map<String, Setting> ok = new TreeMap<>();
        for (Setting s : stored) {
            try {
                ConfigLoader.parseLive(
                        s.key(), storedValue(s.rawValue()), "the catalog (set by hub " + s.origin() + ")");
                ok.put(s.key(), s);
            } catch (ConfigException e) {
                LOG.atWarn()
                        .addKeyValue(
                                LogFields.ADVICE,
                                "set the key again from the hub (PUT /v1/fleet/config/{target})"
                                        + " with a value this version accepts")
                        .log("config: ignoring a stored hub setting: {}", e.getMessage());
            }
        }
        OutpostConfig c;
        try {
            c = file.withLive(values(ok));
        } catch (ConfigException e) {
            LOG.atWarn()
                    .addKeyValue(
                            LogFields.ADVICE,
                            "change this file or set the keys again from the hub so that they"
                                    + " agree (GET /v1/config shows what is in force)")
                    .log(
                            "config: ignoring the stored hub settings {}: with this file they break a rule: {}",
                            ok.keySet(),
                            e.getMessage());
            ok.clear();
            c = file;
        }
        this.current = c;
        this.settings = Collections.unmodifiableMap(ok);
    }

    /** The keys a hub may set, in file order. */
    public static List<String> keys() {
        return OutpostConfig.KEYS.stream()
                .filter(ConfigKey::isLive)
                .map(ConfigKey::path)
                .toList();
    }

    /**
     * Checks one value as a hub would publish it.
     *
     * @throws ConfigException naming the key, if it is unknown, not live, or the value is bad
     */
    public static void check(String key, Object raw) {
        if (raw != null) {
            ConfigLoader.parseLive(key, raw, "the change");
        } else {
            ConfigKey<?> k = ConfigLoader.key(key);
            ConfigLoader.parseLive(key, k == null ? null : k.defaultValue(), "the change");
        }
    }

    /** The effective configuration: the file's, with the hub's settings on top. */
    public OutpostConfig current() {
        return current;
    }

    /** The configuration from the file, without hub settings. */
    public OutpostConfig file() {
        return file;
    }

    /** What the hub set, by key. */
    public Map<String, Setting> settings() {
        return settings;
    }

    /** The last change refused, or null. */
    public Refusal lastRefusal() {
        return lastRefusal;
    }

    /** Calls {@code l} with the new configuration after each change that takes effect. */
    public void onChange(Consumer<OutpostConfig> l) {
        listeners.add(l);
    }

    /**
     * Applies one change from the hub: each key to its new value, or back to the file's value
     * where the value is null. All or nothing.
     *
     * @throws ConfigException naming the key at fault; nothing of the change took effect
     */
    public synchronized void apply(Map<String, ?> change, long hlc, String origin) {
        Map<String, Setting> next = new TreeMap<>(settings);
        OutpostConfig c;
        try {
            for (Map.Entry<String, ?> e : change.entrySet()) {
                check(e.getKey(), e.getValue());
                if (e.getValue() == null) {
                    next.remove(e.getKey());
                } else {
                    next.put(e.getKey(), new Setting(e.getKey(), String.valueOf(e.getValue()), hlc, origin));
                }
            }
            c = file.withLive(values(next));
        } catch (ConfigException e) {
            lastRefusal = new Refusal(hlc, e.key(), e.getMessage());
            throw e;
        }
        store.replace(new ArrayList<>(next.values()));
        current = c;
        settings = Collections.unmodifiableMap(next);
        LOG.info("config: hub {} set {} (change hlc {})", origin, change, hlc);
        for (Consumer<OutpostConfig> l : listeners) {
            try {
                l.accept(c);
            } catch (RuntimeException ex) {
                LOG.atError()
                        .addKeyValue(
                                LogFields.ADVICE,
                                "restart the agent to apply the configuration in full, and report" + " this")
                        .setCause(ex)
                        .log("config: a listener failed on the new configuration");
            }
        }
    }

    private static Map<String, Long> values(Map<String, Setting> s) {
        Map<String, Long> v = new TreeMap<>();
        for (Setting x : s.values()) {
            v.put(x.key(), ConfigLoader.parseLive(x.key(), storedValue(x.rawValue()), "hub " + x.origin()));
        }
        return v;
    }

    private static Object storedValue(String raw) {
        return WHOLE.matcher(raw).matches() ? (Object) Long.parseLong(raw) : raw;
    }
}

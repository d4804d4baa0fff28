package dev.outpost.edge.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One configuration key, defined once: its YAML path, kind, default (spelled as in the YAML file),
 * bounds or allowed values, unit, meaning, whether a hub may change it at runtime, and how its
 * parsed value becomes the type of its record component.
 *
 * <p>Design note. The per-section classes ({@code HttpKeys}, {@code LogKeys}, ...) hold the keys as
 * constants and build their section record from them; the loader, the live changes and the example
 * file test all read these definitions, so nothing else spells a key's default, range or meaning.
 * Parsing ({@link #parse}) gives the canonical value stored in {@link ConfigValues} (a String, Long,
 * Path or Map); {@link #convert} turns that into the component's type and may refuse it naming the
 * key (e.g. {@code sync.upstream} that is no URL).
 *
 * @param <T> the type of the record component the key fills
 */
final class ConfigKey<T> {
    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    static final long GIB = 1024 * MIB;

    private static final Pattern SIZE = Pattern.compile("(?i)^\\s*(\\d+)\\s*(b|kib|mib|gib|kb|mb|gb)?\\s*$");

    enum Kind {
        STRING,
        INT,
        BYTES,
        ENUM,
        PATH,
        /** A mapping read by its own parser (hub.nodes). */
        MAP
    }

    private final String path;
    private final Kind kind;
    private final Object defaultValue;
    private final long min;
    private final long max;
    private final List<String> allowed;
    private final String unit;
    private final String meaning;
    private final boolean live;
    private final Function<Object, T> convert;
    private final BiFunction<Object, String, Object> mapParser;

    private ConfigKey(
            String path,
            Kind kind,
            Object defaultValue,
            long min,
            long max,
            List<String> allowed,
            String unit,
            String meaning,
            boolean live,
            Function<Object, T> convert,
            BiFunction<Object, String, Object> mapParser) {
        this.path = path;
        this.kind = kind;
        this.defaultValue = defaultValue;
        this.min = min;
        this.max = max;
        this.allowed = List.copyOf(allowed);
        this.unit = unit;
        this.meaning = meaning;
        this.live = live;
        this.convert = convert;
        this.mapParser = mapParser;
    }

    private static <T> ConfigKey<T> of(
            String path,
            Kind kind,
            Object def,
            long min,
            long max,
            String unit,
            String meaning,
            Function<Object, T> c) {
        return new ConfigKey<>(path, kind, def, min, max, List.of(), unit, meaning, false, c, null);
    }

    /** Free text (a number is read as its text). */
    static ConfigKey<String> text(String path, String def, String meaning) {
        return text(path, def, meaning, s -> s);
    }

    /** Free text turned into {@code T} by {@code convert}, which may throw a ConfigException. */
    static <T> ConfigKey<T> text(String path, String def, String meaning, Function<String, T> convert) {
        return of(path, Kind.STRING, def, 0, 0, "", meaning, o -> convert.apply((String) o));
    }

    /** A file path where empty means none (null). */
    static ConfigKey<Path> optionalPath(String path, String meaning) {
        return text(path, "", meaning, s -> s.isBlank() ? null : pathOf(path, s.strip()));
    }

    /** {@code s} as a normalised path; a ConfigException naming {@code key} if it cannot be one (a NUL in it, say). */
    static Path pathOf(String key, String s) {
        try {
            return Path.of(s).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw new ConfigException(
                    key,
                    "config error: '" + key + "' = '" + s.replace("\0", "\\0") + "' is not allowed; expected a path ("
                            + e.getReason() + ")");
        }
    }

    /** A directory that must be given (not blank). */
    static ConfigKey<Path> directory(String path, String def, String meaning) {
        return of(path, Kind.PATH, def, 0, 0, "", meaning, o -> (Path) o);
    }

    /** A whole number from {@code min} to {@code max} for an int component. */
    static ConfigKey<Integer> integer(String path, int def, int min, int max, String unit, String meaning) {
        return of(path, Kind.INT, (long) def, min, max, unit, meaning, o -> ((Long) o).intValue());
    }

    /** A whole number from {@code min} to {@code max} for a long component. */
    static ConfigKey<Long> count(String path, long def, long min, long max, String unit, String meaning) {
        return of(path, Kind.INT, def, min, max, unit, meaning, o -> (Long) o);
    }

    /** A size in bytes, written as a number or with a binary unit (64KiB, 1MiB, 2GiB). */
    static ConfigKey<Long> bytes(String path, long def, long min, long max, String meaning) {
        return of(path, Kind.BYTES, def, min, max, "bytes", meaning, o -> (Long) o);
    }

    /** One of {@code allowed} (case-insensitive; stored as spelled in {@code allowed}). */
    static ConfigKey<String> oneOf(String path, String def, List<String> allowed, String meaning) {
        return oneOf(path, def, allowed, meaning, s -> s);
    }

    /** One of {@code allowed}, turned into {@code T} (an enum, a flag). */
    static <T> ConfigKey<T> oneOf(
            String path, String def, List<String> allowed, String meaning, Function<String, T> convert) {
        return new ConfigKey<>(
                path, Kind.ENUM, def, 0, 0, allowed, "", meaning, false, o -> convert.apply((String) o), null);
    }

    /** A mapping read by {@code parser(raw, source)}, which names the key in its ConfigException. */
    static <K, V> ConfigKey<Map<K, V>> mapping(
            String path, String meaning, BiFunction<Object, String, Map<K, V>> parser) {
        @SuppressWarnings("unchecked")
        Function<Object, Map<K, V>> cast = o -> (Map<K, V>) o;
        return new ConfigKey<>(path, Kind.MAP, Map.of(), 0, 0, List.of(), "", meaning, false, cast, parser::apply);
    }

    /**
     * This key changeable at runtime: a hub may set it over pull (config changes), and it takes
     * effect without a restart. Only keys whose every reader reads the current value per use, and
     * only whole numbers and sizes (GET /v1/config reports them as numbers).
     */
    ConfigKey<T> live() {
        if (kind != Kind.INT && kind != Kind.BYTES) {
            throw new IllegalStateException("only numeric keys can be live: " + path);
        }
        return new ConfigKey<>(path, kind, defaultValue, min, max, allowed, unit, meaning, true, convert, mapParser);
    }

    String path() {
        return path;
    }

    Kind kind() {
        return kind;
    }

    /** The default as the YAML file would spell it (the example file shows it). */
    Object defaultValue() {
        return defaultValue;
    }

    long min() {
        return min;
    }

    long max() {
        return max;
    }

    /** The accepted values of an enumerated key; empty for others. */
    List<String> allowed() {
        return allowed;
    }

    /** The unit of a number ("bytes", "milliseconds", ...), or empty. */
    String unit() {
        return unit;
    }

    String meaning() {
        return meaning;
    }

    boolean isLive() {
        return live;
    }

    String section() {
        int dot = path.indexOf('.');
        return dot < 0 ? "" : path.substring(0, dot);
    }

    String leaf() {
        return path.substring(path.indexOf('.') + 1);
    }

    /** The component value from the parsed value; may throw a ConfigException naming this key. */
    T convert(Object parsed) {
        return convert.apply(parsed);
    }

    /**
     * Validates {@code raw} as read from YAML (or sent by a hub).
     *
     * @param source where it came from, for the message
     * @return the canonical parsed value: String, Long, Path or Map
     * @throws ConfigException naming this key and what is allowed
     */
    Object parse(Object raw, String source) {
        String where = "config error in " + source + ": '" + path + "' = '" + raw + "' ";
        return switch (kind) {
            case STRING -> {
                if (!(raw instanceof String || raw instanceof Number)) {
                    throw new ConfigException(path, where + "is not allowed; expected a string");
                }
                yield String.valueOf(raw);
            }
            case PATH -> {
                if (!(raw instanceof String s) || s.isBlank()) {
                    throw new ConfigException(path, where + "is not allowed; expected a directory path");
                }
                yield pathOf(path, s);
            }
            case ENUM -> {
                String s = String.valueOf(raw);
                String match = allowed.stream()
                        .filter(a -> a.equalsIgnoreCase(s))
                        .findFirst()
                        .orElse(null);
                if (match == null) {
                    throw new ConfigException(
                            path, where + "is not allowed; allowed values: " + String.join(", ", allowed));
                }
                yield match;
            }
            case INT -> {
                if (!(raw instanceof Integer || raw instanceof Long)) {
                    throw new ConfigException(
                            path, where + "is not allowed; expected a whole number from " + min + " to " + max);
                }
                yield inRange(((Number) raw).longValue(), where);
            }
            case BYTES -> {
                long v;
                try {
                    v = bytes(raw);
                } catch (ArithmeticException e) { // more bytes than a long holds: wrapped round before
                    throw outOfRange(where);
                }
                if (v < 0) {
                    throw new ConfigException(
                            path,
                            where + "is not allowed; expected a size like 512KiB, 1MiB, 2GiB or a number of bytes");
                }
                yield inRange(v, where);
            }
            case MAP -> mapParser.apply(raw, source);
        };
    }

    private long inRange(long v, String where) {
        if (v < min || v > max) {
            throw outOfRange(where);
        }
        return v;
    }

    private ConfigException outOfRange(String where) {
        return new ConfigException(
                path, where + "is out of range; allowed: " + min + " to " + max + (unit.isEmpty() ? "" : " " + unit));
    }

    /**
     * Parses a size with a binary unit (KiB, MiB, GiB; KB/MB/GB are read as the same); -1 if not a size.
     *
     * @throws ArithmeticException if the size is more bytes than a long holds (a YAML integer read as a BigInteger,
     *     or a number of units that overflows)
     */
    static long bytes(Object raw) {
        if (raw instanceof Integer || raw instanceof Long) {
            return ((Number) raw).longValue();
        }
        Matcher m = SIZE.matcher(String.valueOf(raw));
        if (!m.matches()) {
            return -1;
        }
        long n;
        try {
            n = Long.parseLong(m.group(1)); // digits only: fails only when they are over Long.MAX_VALUE
        } catch (NumberFormatException e) {
            throw new ArithmeticException("more than " + Long.MAX_VALUE);
        }
        String u = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        return switch (u) {
            case "kib", "kb" -> Math.multiplyExact(n, KIB);
            case "mib", "mb" -> Math.multiplyExact(n, MIB);
            case "gib", "gb" -> Math.multiplyExact(n, GIB);
            default -> n;
        };
    }

    @Override
    public String toString() {
        return path;
    }
}

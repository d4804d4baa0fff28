package dev.outpost.edge.config;

/** The configuration is wrong: the message names the key and what is allowed. Stops startup. */
public final class ConfigException extends RuntimeException {
    private final String key;

    public ConfigException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** The dotted key at fault, e.g. {@code log.durability}. */
    public String key() {
        return key;
    }
}

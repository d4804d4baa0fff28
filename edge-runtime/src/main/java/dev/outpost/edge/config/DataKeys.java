package dev.outpost.edge.config;

import java.nio.file.Path;

/** Section {@code data}: where the agent keeps what it stores. */
final class DataKeys {
    static final ConfigSection SECTION = new ConfigSection("data");

    static final ConfigKey<Path> DIR = SECTION.add(ConfigKey.directory(
            "data.dir", "./data", "Directory of the event log, quarantine, state file and catalog."));

    private DataKeys() {}

    static OutpostConfig.Data read(ConfigValues v) {
        return new OutpostConfig.Data(v.get(DIR));
    }
}

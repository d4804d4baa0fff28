package dev.outpost.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a log keeps the corrupt groups recovery found: each group's bytes in its own file, and their log indexes in
 * one list ({@value #LIST}, appended with SYNC), read back at open so a quarantined group stays skipped in every later
 * run. Nothing is ever deleted from the log itself. Thread-safe: readers test {@link #holds} while recovery adds.
 */
final class Quarantine {
    /** Name of the file in the quarantine directory that lists quarantined group indexes. */
    static final String LIST = "quarantined-groups.txt";

    private static final Logger LOG = LoggerFactory.getLogger(Quarantine.class);

    private final Path dir;
    private final LogCounters counters;
    private final Set<Long> indexes = ConcurrentHashMap.newKeySet();

    private final String lane;

    /** @param lane the lane whose log this is, named in the log lines (null for a log opened alone) */
    Quarantine(Path dir, LogCounters counters, String lane) {
        this.lane = lane;
        this.dir = dir;
        this.counters = counters;
    }

    /** Creates the directory and reads the list of earlier runs. */
    void open() throws IOException {
        Files.createDirectories(dir);
        Path list = dir.resolve(LIST);
        if (Files.exists(list)) {
            try (Stream<String> lines = Files.lines(list)) {
                lines.map(String::strip).filter(s -> !s.isEmpty()).forEach(s -> indexes.add(Long.parseLong(s)));
            }
        }
    }

    /** Keeps aside the corrupt group at log index {@code index} (of {@code cycle}) and skips it from now on. */
    void add(long index, int cycle, byte[] group, int len) {
        Path file = file(index);
        try {
            Files.write(file, Arrays.copyOf(group, len));
            Files.writeString(
                    dir.resolve(LIST),
                    index + "\n",
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND,
                    StandardOpenOption.SYNC);
        } catch (IOException e) {
            // Still skip it in this run; the next start will find and try to quarantine it again.
            LogFields.with(LOG.atError(), LogFields.LANE, lane)
                    .addKeyValue(
                            LogFields.ADVICE, "check the data directory's filesystem (space, permissions, I/O errors)")
                    .setCause(e)
                    .log("could not write quarantine file {}; the corrupt group is skipped but not kept aside", file);
        }
        indexes.add(index);
        counters.quarantined.increment();
        LogFields.with(LOG.atWarn(), LogFields.LANE, lane)
                .addKeyValue(
                        LogFields.ADVICE,
                        "nothing to do for the agent, which goes on without it; keep the file to inspect it (GET"
                                + " /v1/quarantine lists them) and check the disk if it happens again")
                .log(
                        "quarantined a corrupt group of {} bytes at log index {} (cycle {}) to {}: its checksum does not match;"
                                + " it was never acknowledged or the disk lost it",
                        len,
                        index,
                        cycle,
                        file);
    }

    boolean holds(long index) {
        return indexes.contains(index);
    }

    /** The live set of quarantined indexes (cursors test it as recovery adds). */
    Set<Long> indexes() {
        return indexes;
    }

    Path file(long index) {
        return dir.resolve("group-" + Long.toHexString(index) + ".bin");
    }

    List<Long> groups() {
        return indexes.stream().sorted().toList();
    }

    int count() {
        return indexes.size();
    }
}

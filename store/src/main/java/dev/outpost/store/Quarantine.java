package dev.outpost.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a log keeps the corrupt groups recovery found: each group's bytes in its own file, and their log indexes in
 * one list ({@value #LIST}, appended with SYNC), read back at open so a quarantined group stays skipped in every later
 * run. A torn cycle ({@link TornCycle}) is kept the same way under the index of its first lost excerpt (the file holds
 * the torn region's bytes), and also listed in {@value #TORN} ({@code cycle firstLostIndex} a line), which readers
 * consult to go on at the next cycle instead of stopping at the tear. Nothing is ever deleted from the log itself.
 * Thread-safe: readers test {@link #holds} and {@link #tornAt} while recovery adds.
 */
final class Quarantine {
    /** Name of the file in the quarantine directory that lists quarantined group indexes. */
    static final String LIST = "quarantined-groups.txt";

    /** Name of the file in the quarantine directory that lists torn cycles: "cycle firstLostIndex" a line. */
    static final String TORN = "torn-cycles.txt";

    private static final Logger LOG = LoggerFactory.getLogger(Quarantine.class);

    private final Path dir;
    private final LogCounters counters;
    private final Set<Long> indexes = ConcurrentHashMap.newKeySet();
    /** Torn cycles: cycle to the log index of its first excerpt readers cannot reach. */
    private final Map<Integer, Long> torn = new ConcurrentHashMap<>();

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
        torn.putAll(readTorn(dir));
    }

    /** The torn cycles listed in {@code dir} (cycle to first lost index); empty if none. */
    static Map<Integer, Long> readTorn(Path dir) throws IOException {
        Path list = dir.resolve(TORN);
        Map<Integer, Long> out = new HashMap<>();
        if (Files.isRegularFile(list)) {
            try (Stream<String> lines = Files.lines(list)) {
                lines.map(String::strip).filter(s -> !s.isEmpty()).forEach(s -> {
                    String[] p = s.split(" ");
                    out.put(Integer.parseInt(p[0]), Long.parseLong(p[1]));
                });
            }
        }
        return out;
    }

    /** Log index of the first excerpt readers cannot reach in {@code cycle}, {@link Long#MAX_VALUE} if not torn. */
    long tornAt(int cycle) {
        Long at = torn.get(cycle);
        return at == null ? Long.MAX_VALUE : at;
    }

    /**
     * Keeps aside the torn region of a cycle ({@code bytes}: from the damage to the written end) under the index of its
     * first lost excerpt, lists the tear, and counts its {@code lostGroups} as quarantined.
     *
     * @param seqBound the sequence number the log continues above (said in the log line)
     */
    void addTear(TornCycle.Tear tear, byte[] bytes, long seqBound) {
        long index = tear.firstLostIndex();
        Path file = file(index);
        try {
            Files.write(file, bytes);
            appendLine(LIST, index + "\n");
            appendLine(TORN, tear.cycle() + " " + index + "\n");
        } catch (IOException e) {
            LogFields.with(LOG.atError(), LogFields.LANE, lane)
                    .addKeyValue(
                            LogFields.ADVICE, "check the data directory's filesystem (space, permissions, I/O errors)")
                    .setCause(e)
                    .log("could not write quarantine file {}; the torn region is skipped but not kept aside", file);
        }
        indexes.add(index);
        torn.put(tear.cycle(), index);
        counters.quarantined.add(tear.lostGroups());
        LogFields.with(LOG.atWarn(), LogFields.LANE, lane)
                .addKeyValue(
                        LogFields.ADVICE,
                        "check the disk (I/O errors, SMART) and the hub's received ranges; the agent goes on in a new"
                                + " cycle file, keeps the records before the damage, and numbers new events above "
                                + seqBound
                                + "; keep "
                                + file
                                + " to inspect the lost region (GET /v1/quarantine lists it)")
                .log(
                        "cycle {} is torn: its framing breaks at byte {}, before its written end at byte {}; {} group(s)"
                                + " from log index {} on cannot be read ({} bytes copied to {})",
                        tear.cycle(),
                        tear.damagePosition(),
                        tear.writePosition(),
                        tear.lostGroups(),
                        index,
                        bytes.length,
                        file);
    }

    private void appendLine(String name, String line) throws IOException {
        Files.writeString(
                dir.resolve(name),
                line,
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND,
                StandardOpenOption.SYNC);
    }

    /** Keeps aside the corrupt group at log index {@code index} (of {@code cycle}) and skips it from now on. */
    void add(long index, int cycle, byte[] group, int len) {
        Path file = file(index);
        try {
            Files.write(file, Arrays.copyOf(group, len));
            appendLine(LIST, index + "\n");
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

package dev.outpost.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;

/**
 * Offline verification of one lane of an event log (for {@code outpost fsck}): every group read from the start through
 * the cursor the agent reads with, in a read-only queue, so that nothing on disk changes — corrupt groups and records are
 * counted, not quarantined; groups the agent already quarantined are counted and passed over. Also checks that sequence
 * numbers rise, and walks every cycle for a tear ({@link TornCycle}: framing broken before the written end), reading
 * on at the next cycle as the agent's readers do. Start-up recovery (the agent: the last cycle; {@code fsck --repair}:
 * every cycle) is what salvages and quarantines.
 */
public final class LogCheck {
    /**
     * What one lane holds.
     *
     * @param records readable records
     * @param corrupt records and groups that do not decode (checksum, lengths), skipped
     * @param quarantined groups recovery set aside earlier (listed in the lane's quarantine)
     * @param outOfOrder records whose seq is not above the one before
     * @param torn torn cycles not recorded in the quarantine yet (a start or --repair records them)
     * @param tornGroups groups those torn cycles lost (written after the tear, unreadable)
     */
    public record Report(
            String lane,
            long records,
            long corrupt,
            long quarantined,
            long outOfOrder,
            long firstSeq,
            long lastSeq,
            long torn,
            long tornGroups) {
        /** True when nothing is wrong (quarantined groups and recorded tears were dealt with already). */
        public boolean clean() {
            return corrupt == 0 && outOfOrder == 0 && torn == 0;
        }
    }

    private LogCheck() {}

    /**
     * Reads the lane in {@code laneDir} whole; {@code quarantineDir} is its quarantine (may not exist).
     *
     * @param progress told the records read so far, every 65,536
     * @throws StoreException if the directory is not a queue that can be read
     */
    public static Report check(Path laneDir, Path quarantineDir, LongConsumer progress) {
        Set<Long> quarantined = quarantined(quarantineDir);
        Map<Integer, Long> recorded;
        try {
            recorded = Quarantine.readTorn(quarantineDir);
        } catch (IOException | RuntimeException e) {
            throw new StoreException("read torn cycle list", quarantineDir, "the file lists 'cycle index' per line", e);
        }
        Map<Integer, Long> tornAt = new HashMap<>(recorded);
        long torn = 0;
        long tornGroups = 0;
        LogCounters counters = new LogCounters();
        long records = 0;
        long outOfOrder = 0;
        long first = 0;
        long last = 0;
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.single(laneDir.toFile())
                        .readOnly(true)
                        .build();
                ExcerptTailer t = q.createTailer().toStart();
                LogCursor c = new LogCursor(
                        t, 1, q.rollCycle(), counters, quarantined, cy -> tornAt.getOrDefault(cy, Long.MAX_VALUE))) {
            int firstCycle = q.firstCycle();
            int lastCycle = q.lastCycle();
            if (firstCycle != Integer.MAX_VALUE && lastCycle != Integer.MIN_VALUE) {
                for (Long cy : q.listCyclesBetween(firstCycle, lastCycle)) {
                    TornCycle.Tear tear = recorded.containsKey(cy.intValue()) ? null : TornCycle.find(q, cy.intValue());
                    if (tear != null) {
                        tornAt.put(tear.cycle(), tear.firstLostIndex());
                        torn++;
                        tornGroups += tear.lostGroups();
                    }
                }
            }
            RecordView v = new RecordView();
            while (c.next(v)) {
                if (records == 0) {
                    first = v.seq();
                } else if (v.seq() <= last) {
                    outOfOrder++;
                }
                last = Math.max(last, v.seq());
                if (++records % 65_536 == 0) {
                    progress.accept(records);
                }
            }
        } catch (RuntimeException e) {
            throw new StoreException("check event log", laneDir, "is this a lane of an Outpost data directory?", e);
        }
        progress.accept(records);
        return new Report(
                laneDir.getFileName().toString(),
                records,
                counters.corruptSkipped.sum(),
                quarantined.size(),
                outOfOrder,
                first,
                last,
                torn,
                tornGroups);
    }

    /**
     * The lane's newest cycle file if its writer created it and never began to write it (killed in between): it holds
     * nothing, and Chronicle, reading it, waits out its timeouts (~30 s). A start or {@code --repair} removes it
     * ({@link UnformattedCycle}); a check leaves it and reports it instead of reading the lane. A file that cannot be
     * read is not taken for one (reading the lane then reports it).
     *
     * @throws StoreException if the directory cannot be listed
     */
    public static Optional<Path> newestCycleNeverWritten(Path laneDir) {
        try {
            return UnformattedCycle.newest(laneDir).filter(UnformattedCycle::unformattedQuietly);
        } catch (IOException e) {
            throw new StoreException(
                    "check the newest cycle file", laneDir, "check permissions of the data directory", e);
        }
    }

    private static Set<Long> quarantined(Path dir) {
        Path list = dir.resolve(Quarantine.LIST);
        Set<Long> out = new HashSet<>();
        if (Files.isRegularFile(list)) {
            try (Stream<String> lines = Files.lines(list)) {
                lines.map(String::strip).filter(s -> !s.isEmpty()).forEach(s -> out.add(Long.parseLong(s)));
            } catch (IOException | NumberFormatException e) {
                throw new StoreException("read quarantine list", list, "the file lists one log index per line", e);
            }
        }
        return out;
    }
}

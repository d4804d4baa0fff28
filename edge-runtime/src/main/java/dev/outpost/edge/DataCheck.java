package dev.outpost.edge;

import dev.outpost.edge.config.ConfigException;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.Catalog;
import dev.outpost.store.ChronicleStateStore;
import dev.outpost.store.HybridClock;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogCheck;
import dev.outpost.store.StoreException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code outpost fsck DATA_DIR [--repair] [--config FILE]}: offline verification of a stopped agent's data directory.
 *
 * <p>Design note. Without {@code --repair} nothing on disk changes: every lane of the event log is read whole through
 * the agent's own cursor in a read-only queue ({@link LogCheck}: corrupt groups and records counted, sequence order
 * checked), and each SQLite file (catalog, rollups) gets {@code PRAGMA integrity_check} on a read-only connection. The
 * state file is a Chronicle Map, whose only way in recovers what a crash left (it writes), so its records are checked by
 * {@code --repair}, which opens the log, the catalog and the state file exactly as a start does — salvaging torn tails
 * and quarantining corrupt groups — and records torn cycles in every cycle of the log (a start checks only each lane's
 * last cycle, see {@code LogRecovery}), closes them, and checks again. It refuses to touch a directory an agent holds (the
 * state file's lock) and holds that lock itself while it reads. Exit 0 when clean, 1 when something is wrong (or
 * cannot be read), 2 for a bad command line.
 */
final class DataCheck {
    private static final String USAGE = """
            usage: outpost fsck DATA_DIR [--repair] [--config FILE]
              --repair        open the directory as a start does (salvage torn tails, quarantine corrupt groups and
                              torn cycles, recover the state file), then check again
              --config FILE   the agent's configuration (log options for --repair; data.dir is DATA_DIR)
            """;

    private final Path dir;
    private final PrintStream out;
    private final PrintStream err;
    private final boolean terminal = System.console() != null;
    private int problems;

    private DataCheck(Path dir, PrintStream out, PrintStream err) {
        this.dir = dir;
        this.out = out;
        this.err = err;
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Path dir = null;
        Path config = null;
        boolean repair = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--repair" -> repair = true;
                case "--config" -> config = i + 1 < args.length ? Path.of(args[++i]) : null;
                case "--help", "-h" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> {
                    if (args[i].startsWith("-") || dir != null) {
                        err.println("outpost fsck: unknown option '" + args[i] + "'; options: --repair, --config FILE");
                        return Main.EXIT_USAGE;
                    }
                    dir = Path.of(args[i]);
                }
            }
        }
        if (dir == null || !Files.isDirectory(dir.resolve("log"))) {
            err.println("outpost fsck: give a data directory (one holding log/): outpost fsck DATA_DIR [--repair]");
            return Main.EXIT_USAGE;
        }
        OutpostConfig cfg;
        try {
            cfg = (config == null ? ConfigLoader.defaults() : ConfigLoader.load(config)).withDataDir(dir);
        } catch (ConfigException e) {
            err.println("outpost: " + e.getMessage());
            return Main.EXIT_USAGE;
        }
        return new DataCheck(dir, out, err).run(cfg, repair);
    }

    private int run(OutpostConfig cfg, boolean repair) {
        if (repair) {
            out.println("outpost fsck " + dir + ": repairing (opening it as a start does)");
            if (!repairOpen(cfg)) {
                return 1;
            }
        }
        out.println("outpost fsck " + dir + (repair ? ": after the repair" : ": read-only (--repair to salvage)"));
        try (Held lock = lock()) {
            if (lock == null) {
                err.println("outpost fsck: an agent holds " + dir + " (its state file is locked); stop it first");
                return 1;
            }
            checkLog();
            checkSqlite("catalog.db");
            checkSqlite("rollups.db");
            out.println(String.format("%-16s %s", "state", stateLine(repair)));
        } catch (IOException e) {
            err.println("outpost fsck: cannot read " + dir + ": " + e.getMessage());
            return 1;
        }
        out.println(
                problems == 0
                        ? "summary: clean"
                        : "summary: " + problems + " problem(s)"
                                + (repair
                                        ? " remain after the repair: corrupt records inside the log cannot be"
                                                + " salvaged; readers skip and count them"
                                                + " (outpost_log_corrupt_skipped_total) and go on past them"
                                        : "; `outpost fsck " + dir + " --repair` salvages what a start would"));
        return problems == 0 ? 0 : 1;
    }

    private void checkLog() throws IOException {
        List<Path> lanes = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir.resolve("log"))) {
            s.filter(Files::isDirectory).sorted().forEach(lanes::add);
        }
        for (Path lane : lanes) {
            String name = "log/" + lane.getFileName();
            try {
                var unwritten = LogCheck.newestCycleNeverWritten(lane);
                if (unwritten.isPresent()) {
                    // Chronicle would wait out its timeouts on it; it holds nothing
                    out.println(String.format(
                            "%-16s NOT READ: its newest cycle file %s was created but never written (the agent"
                                    + " stopped as it made it; it holds nothing); --repair or a start removes it",
                            name, unwritten.get().getFileName()));
                    problems++;
                    continue;
                }
                LogCheck.Report r = LogCheck.check(
                        lane, dir.resolve("quarantine").resolve(lane.getFileName()), n -> progress(name, n));
                if (terminal) {
                    err.print("\r\033[K");
                }
                out.println(String.format(
                        "%-16s %,d records%s, corrupt %d, quarantined groups %d, out of order %d%s",
                        name,
                        r.records(),
                        r.records() == 0 ? "" : " (seq " + r.firstSeq() + ".." + r.lastSeq() + ")",
                        r.corrupt(),
                        r.quarantined(),
                        r.outOfOrder(),
                        r.torn() == 0
                                ? ""
                                : ", TORN cycles " + r.torn() + " (" + r.tornGroups()
                                        + " groups after the tear unreadable)"));
                problems += r.clean() ? 0 : 1;
            } catch (StoreException e) {
                out.println(String.format("%-16s UNREADABLE: %s", name, e.getMessage()));
                problems++;
            }
        }
    }

    private void progress(String lane, long records) {
        if (terminal) {
            err.print("\r\033[K" + lane + ": " + String.format("%,d", records) + " records read");
            err.flush();
        }
    }

    private void checkSqlite(String file) {
        Path f = dir.resolve(file);
        if (!Files.exists(f)) {
            out.println(String.format("%-16s absent (made at the next start)", file));
            return;
        }
        // A WAL database's reader makes -wal and -shm files beside it even read-only: those it made go again.
        Path wal = dir.resolve(file + "-wal");
        Path shm = dir.resolve(file + "-shm");
        boolean walBefore = Files.exists(wal);
        boolean shmBefore = Files.exists(shm);
        String result;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + f.toAbsolutePath() + "?mode=ro");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
            result = rs.next() ? rs.getString(1) : "no answer";
        } catch (SQLException e) {
            result = "unreadable: " + e.getMessage();
        }
        removeMade(wal, walBefore);
        removeMade(shm, shmBefore);
        problems += result.equals("ok") ? 0 : 1;
        out.println(String.format("%-16s integrity %s", file, result));
    }

    private static void removeMade(Path f, boolean existedBefore) {
        if (!existedBefore) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                // left behind: SQLite removes it at the next clean close
            }
        }
    }

    private String stateLine(boolean repaired) throws IOException {
        Path state = dir.resolve("state");
        List<String> files = new ArrayList<>();
        if (Files.isDirectory(state)) {
            try (Stream<Path> s = Files.list(state)) {
                s.filter(p -> p.toString().endsWith(".cm3"))
                        .forEach(p -> files.add(p.getFileName() + " (" + size(p) + " bytes)"));
            }
        }
        String what = files.isEmpty() ? "no state file" : String.join(", ", files);
        return what + (repaired ? "; opened and recovered by the repair" : "; its records are checked by --repair");
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }

    /** The state file's lock, taken as the agent takes it; null if an agent holds it. */
    private Held lock() throws IOException {
        Path lockFile = dir.resolve("state").resolve("state.lock");
        if (!Files.exists(lockFile)) {
            return new Held(null, null); // no agent ever opened a state file here
        }
        FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE);
        try {
            FileLock l = ch.tryLock();
            if (l == null) {
                ch.close();
                return null;
            }
            return new Held(ch, l);
        } catch (OverlappingFileLockException e) {
            ch.close();
            return null;
        }
    }

    /** The lock held while checking (nothing when there was no lock file). */
    private record Held(FileChannel channel, FileLock lock) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            if (channel != null) {
                channel.close(); // releases the lock
            }
        }
    }

    /** Opens log, catalog and state file as a start does (their recovery runs), then closes them. */
    private boolean repairOpen(OutpostConfig cfg) {
        try (LanedEventLog log = LanedEventLog.open(Agent.logOptions(cfg), HybridClock.system());
                Catalog catalog = Catalog.open(dir.resolve("catalog.db"));
                ChronicleStateStore state = ChronicleStateStore.open(
                        dir.resolve("state").resolve("state.cm3"), cfg.state().documentsMax(), (int)
                                cfg.state().docBytesAvg())) {
            int tears = log.recordTears();
            out.println("repair: log " + log.summary() + "; torn cycles recorded " + tears + "; quarantined groups "
                    + log.counters().quarantined.sum() + "; state entries " + state.size()
                    + (state.recoveredOnOpen() ? " (recovered)" : "") + ", corrupt values " + state.corrupt.sum()
                    + "; catalog schema " + catalog.schemaVersion());
            return true;
        } catch (RuntimeException e) {
            err.println("outpost fsck: the repair could not open " + dir + ": " + e.getMessage());
            return false;
        }
    }
}

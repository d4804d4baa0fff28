package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command table in process: usage, help per command, --version, unknown commands, check-config. */
class CommandLineTest {
    static final List<String> COMMANDS =
            List.of("run", "hub", "check-config", "loadgen", "fsck", "top", "train", "jvm-flags", "help", "version");

    @TempDir
    Path dir;

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int run(String... args) {
        out.reset();
        err.reset();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        return Main.cli(o, e).run(args);
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theUsageListsEveryCommandAndEachHasItsOwnHelp() {
        assertEquals(0, run("help"));
        String usage = out();
        for (String c : COMMANDS) {
            assertTrue(usage.contains("\n  " + c), c + " missing from:\n" + usage);
            assertEquals(0, run("help", c), c);
            assertTrue(out().startsWith("usage: outpost " + c), out());
            if (!c.equals("help")) {
                assertEquals(0, run(c, "--help"), c + ": " + err());
                assertTrue(out().contains("usage: outpost " + c), c + ": " + out());
            }
        }
        assertTrue(usage.contains("--version"));
        assertEquals(Main.EXIT_USAGE, run(), "no command: the usage, and a usage exit");
        assertEquals(usage, out());
        assertEquals(0, run("--help"));
        assertEquals(usage, out());
    }

    @Test
    void unknownCommandsAndOptionsNameTheValidOnes() {
        assertEquals(Main.EXIT_USAGE, run("fly"));
        assertTrue(err().contains("unknown command 'fly'") && err().contains("check-config"), err());
        assertEquals(Main.EXIT_USAGE, run("help", "fly"));
        assertTrue(err().contains("no command 'fly'"), err());
        assertEquals(Main.EXIT_USAGE, run("train", "--fast"));
        assertTrue(err().contains("unknown option '--fast'"), err());
        assertEquals(Main.EXIT_USAGE, run("version", "--long"));
    }

    @Test
    void versionNamesTheVersionAndTheJava() {
        assertEquals(0, run("--version"));
        assertTrue(out().startsWith("outpost " + Cli.version() + " (Java " + Runtime.version()), out());
        assertEquals(0, run("version"));
    }

    @Test
    void checkConfigPrintsTheConfigurationInForceAndItsJvmFlags() throws Exception {
        Path cfg = dir.resolve("ok.yaml");
        Files.writeString(cfg, "http:\n  port: 7171\n  api_token: s3cret-token-value\nbudget:\n  memory: 256MiB\n");
        assertEquals(0, run("check-config", cfg.toString()), err());
        String o = out();
        assertTrue(o.contains("valid"), o);
        assertTrue(o.contains("\n  port: 7171  # set"), o);
        assertTrue(o.contains("\n  durability: os  # default"), o);
        assertTrue(o.contains("api_token: (set, not shown)"), o);
        assertFalse(o.contains("s3cret"), "a token is never printed");
        assertTrue(o.contains("# JVM flags from budget.memory") && o.contains("-Xmx"), o);
        assertTrue(o.contains("\nrules: none"), o);

        Files.writeString(cfg, "log:\n  durability: sometimes\n");
        assertEquals(Main.EXIT_USAGE, run("check-config", cfg.toString()));
        assertTrue(err().contains("log.durability") && err().contains("os, fsync"), err());
        assertEquals(Main.EXIT_USAGE, run("check-config"));
        assertEquals(
                Main.EXIT_USAGE, run("check-config", dir.resolve("missing.yaml").toString()));
    }
}

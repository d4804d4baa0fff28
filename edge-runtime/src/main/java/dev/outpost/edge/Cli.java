package dev.outpost.edge;

import dev.outpost.edge.config.ConfigException;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.config.EffectiveConfig;
import dev.outpost.edge.config.OutpostConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * The command line's table of commands: each with its synopsis, a one-line summary for {@code outpost help} and its
 * own help text for {@code outpost help COMMAND} and {@code outpost COMMAND --help}. Unknown commands and options name
 * the valid ones; a bad command line exits with {@link Main#EXIT_USAGE}. The usage text is built from the table, so it
 * lists every command there is.
 */
final class Cli {
    /** One command. {@code ownHelp}: it answers --help itself (its options are its own). */
    record Command(
            String name,
            String synopsis,
            String summary,
            String help,
            boolean ownHelp,
            ToIntFunction<String[]> action) {}

    private final List<Command> commands;
    private final PrintStream out;
    private final PrintStream err;

    Cli(List<Command> commands, PrintStream out, PrintStream err) {
        List<Command> all = new ArrayList<>(commands);
        all.add(new Command("help", "help [COMMAND]", "this text, or one command's details", "", true, this::help));
        all.add(new Command(
                "version", "version", "print the version (also: outpost --version)", "", false, this::version));
        this.commands = List.copyOf(all);
        this.out = out;
        this.err = err;
    }

    /** A command that takes no options: runs {@code action}, or refuses what it was given. */
    static ToIntFunction<String[]> noOptions(String name, PrintStream err, java.util.function.IntSupplier action) {
        return args -> {
            if (args.length > 0) {
                err.println("outpost " + name + ": unknown option '" + args[0] + "'; it takes none");
                return Main.EXIT_USAGE;
            }
            return action.getAsInt();
        };
    }

    /** Runs the command line; returns the exit code. */
    int run(String[] args) {
        if (args.length == 0) {
            out.print(usage());
            return Main.EXIT_USAGE;
        }
        String name = switch (args[0]) {
            case "--help", "-h" -> "help";
            case "--version", "-V" -> "version";
            default -> args[0];
        };
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        Command c = find(name);
        if (c == null) {
            err.println("outpost: unknown command '" + name + "'; commands: " + names() + " (outpost help)");
            return Main.EXIT_USAGE;
        }
        if (!c.ownHelp() && (List.of(rest).contains("--help") || List.of(rest).contains("-h"))) {
            out.print(helpOf(c));
            return 0;
        }
        return c.action().applyAsInt(rest);
    }

    private int help(String[] rest) {
        if (rest.length > 1) {
            err.println("outpost help: name one command at most; commands: " + names());
            return Main.EXIT_USAGE;
        }
        if (rest.length == 0) {
            out.print(usage());
            return 0;
        }
        Command c = find(rest[0]);
        if (c == null) {
            err.println("outpost help: no command '" + rest[0] + "'; commands: " + names());
            return Main.EXIT_USAGE;
        }
        out.print(helpOf(c));
        return 0;
    }

    private int version(String[] rest) {
        if (rest.length > 0) {
            err.println("outpost version: unknown option '" + rest[0] + "'; it takes none");
            return Main.EXIT_USAGE;
        }
        out.println("outpost " + version() + " (Java " + Runtime.version() + ", " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ")");
        return 0;
    }

    /** The version the jar's manifest names, or "development" when run from classes. */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "development" : v;
    }

    String usage() {
        StringBuilder sb = new StringBuilder("usage: outpost <command> [options]\n\ncommands:\n");
        int width = commands.stream().mapToInt(c -> c.synopsis().length()).max().orElse(0) + 3;
        for (Command c : commands) {
            sb.append("  ")
                    .append(c.synopsis())
                    .append(" ".repeat(width - c.synopsis().length()));
            sb.append(c.summary()).append('\n');
        }
        sb.append("\n`outpost help COMMAND` or `outpost COMMAND --help` for a command's details; --version prints the"
                + " version.\ndocs: README.md, docs/API.md, docs/STORAGE.md; every config key:"
                + " docs/outpost.example.yaml\n");
        return sb.toString();
    }

    private static String helpOf(Command c) {
        return "usage: outpost " + c.synopsis() + "\n\n" + c.summary() + "\n"
                + (c.help().isEmpty() ? "" : "\n" + c.help());
    }

    private Command find(String name) {
        return commands.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }

    private String names() {
        return String.join(", ", commands.stream().map(Command::name).toList());
    }

    /**
     * {@code check-config FILE}: validates the file as a start would, then prints the configuration in force (every
     * key, default or set) and the JVM flags its memory budget implies. 0 when valid, 2 when not.
     */
    static int checkConfig(String[] args, PrintStream out, PrintStream err) {
        if (args.length != 1 || args[0].startsWith("-")) {
            err.println("outpost check-config: give one configuration file: outpost check-config FILE");
            return Main.EXIT_USAGE;
        }
        OutpostConfig c;
        try {
            c = ConfigLoader.load(Path.of(args[0]));
        } catch (ConfigException e) {
            err.println("outpost: " + e.getMessage());
            return Main.EXIT_USAGE;
        }
        out.println("# " + args[0] + ": valid. The configuration in force (keys not in the file at their default):");
        EffectiveConfig.lines(c).forEach(out::println);
        out.println(
                "# JVM flags from budget.memory (the launcher passes them): " + String.join(" ", JvmSizing.flags(c)));
        return 0;
    }
}

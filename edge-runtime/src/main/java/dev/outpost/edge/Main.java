package dev.outpost.edge;

import dev.outpost.edge.config.ConfigException;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.LogFields;
import dev.outpost.store.StoreException;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The command line: {@code outpost run [--config FILE]}, {@code outpost loadgen ...}. */
public final class Main {
    /** Exit code for a bad command line or configuration. */
    public static final int EXIT_USAGE = 2;
    /** Exit code when the agent cannot start (e.g. the data directory is unusable). */
    public static final int EXIT_START_FAILED = 1;
    /** How long a SIGTERM during start waits for the start to finish before the process exits anyway. */
    static final long START_WAIT_SECONDS = 60;

    private Main() {}

    public static void main(String[] args) {
        System.setProperty("chronicle.analytics.disable", "true");
        // Chronicle announces itself as its first queue opens (its banner, read from its jars' pom files):
        // ~30 ms of the start on a small device, for lines nothing shows.
        if (System.getProperty("chronicle.announcer.disable") == null) {
            System.setProperty("chronicle.announcer.disable", "true");
        }
        // Netty's pooled allocator reports chunk allocations as JFR events: its first buffer registers
        // them, which sets up JFR's whole metadata repository (~100 ms of the first request on a
        // small device). Nothing of ours reads those events; -Dio.netty.jfr.enabled=true turns them on.
        if (System.getProperty("io.netty.jfr.enabled") == null) {
            System.setProperty("io.netty.jfr.enabled", "false");
        }
        int code = run(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    static int run(String[] args) {
        return cli(System.out, System.err).run(args);
    }

    /** The commands there are. Long because it is their table, one entry a command. */
    static Cli cli(PrintStream out, PrintStream err) {
        return new Cli(
                List.of(
                        new Cli.Command(
                                "run",
                                "run [--config FILE]",
                                "run the agent (defaults: data in ./data, HTTP on 127.0.0.1:7070, offline)",
                                CONFIG_HELP,
                                false,
                                a -> runAgent(a, false)),
                        new Cli.Command(
                                "hub",
                                "hub [--config FILE]",
                                "run as a hub: also accept pushes from the nodes of hub.nodes, serve /v1/fleet",
                                CONFIG_HELP,
                                false,
                                a -> runAgent(a, true)),
                        new Cli.Command(
                                "check-config",
                                "check-config FILE",
                                "validate a configuration file as a start would; print the configuration in force"
                                        + " and its JVM flags",
                                "Exit code 0 when the file is valid, 2 when not (the message names the key and what"
                                        + " it allows).\n",
                                false,
                                a -> Cli.checkConfig(a, out, err)),
                        new Cli.Command(
                                "loadgen",
                                "loadgen [options]",
                                "drive the HTTP API over loopback (ingest, state, live tails); print rates and latency",
                                "",
                                true,
                                a -> dev.outpost.edge.loadgen.LoadGenerator.run(a, out, err)),
                        new Cli.Command(
                                "fsck",
                                "fsck DATA_DIR [--repair] [--config FILE]",
                                "verify a stopped agent's data directory (log, state, catalog); --repair salvages",
                                "",
                                true,
                                a -> DataCheck.run(a, out, err)),
                        new Cli.Command(
                                "top",
                                "top [--url URL] [--token TOKEN] [--once]",
                                "a terminal view of a running agent: level, pressure, rates, lanes, data at risk",
                                "",
                                true,
                                a -> dev.outpost.edge.top.StatusScreen.run(a, out, err)),
                        new Cli.Command(
                                "train",
                                "train",
                                "the training run the start-up cache is recorded from (a temporary agent)",
                                "",
                                false,
                                Cli.noOptions("train", err, TrainingRun::run)),
                        new Cli.Command(
                                "service-index",
                                "service-index FILE",
                                "list the class path's Micronaut services into FILE (the distribution's build; a"
                                        + " start reads them instead of scanning the jars)",
                                "",
                                false,
                                a -> ServiceIndex.writeCommand(a, err)),
                        new Cli.Command(
                                "jvm-flags",
                                "jvm-flags [--config FILE]",
                                "print the JVM flags the configuration's budget.memory implies (the launcher's)",
                                CONFIG_HELP,
                                false,
                                Main::jvmFlags)),
                out,
                err);
    }

    private static final String CONFIG_HELP = """
            options:
              --config FILE   the YAML configuration (every key: docs/outpost.example.yaml); without it,
                              every key at its default
            """;

    /** Prints the JVM flags for the configuration named by {@code run}'s arguments (used by the launcher). */
    private static int jvmFlags(String[] args) {
        Path configFile = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                configFile = Path.of(args[++i]);
            } // anything else is the command's own option (the launcher passes run's arguments): not ours to judge
        }
        try {
            OutpostConfig c = configFile == null ? ConfigLoader.defaults() : ConfigLoader.load(configFile);
            System.out.println(String.join(" ", JvmSizing.flags(c)));
            return 0;
        } catch (ConfigException e) {
            System.err.println("outpost: " + e.getMessage());
            return EXIT_USAGE;
        }
    }

    private static int runAgent(String[] args, boolean hub) {
        Path configFile = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                configFile = Path.of(args[++i]);
            } else {
                System.err.println("outpost run: unknown option '" + args[i] + "'; allowed: --config FILE");
                return EXIT_USAGE;
            }
        }
        OutpostConfig config;
        try {
            config = configFile == null ? ConfigLoader.defaults() : ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            System.err.println("outpost: " + e.getMessage());
            return EXIT_USAGE;
        }
        if (hub) {
            config = config.asHub();
        }
        // The hook is in place before the agent starts: a SIGTERM that arrives as soon as
        // "listening" is printed (or during start) waits for the start to finish, then stops the
        // agent cleanly; registered after, it was refused ("Shutdown in progress") and the process
        // exited with its files open.
        CompletableFuture<RunningAgent> started = new CompletableFuture<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopWhenStarted(started, stopped), "outpost-shutdown"));
        RunningAgent running = null;
        int failed;
        try {
            running = start(config);
            failed = 0;
        } catch (RuntimeException e) {
            failed = startFailure(config, e);
        } finally {
            started.complete(running);
        }
        if (failed != 0) {
            return failed;
        }
        if (!memoryBudgetHolds(config, running)) {
            running.close();
            return EXIT_USAGE;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** The shutdown hook: waits for the start to finish, then stops the agent cleanly. */
    private static void stopWhenStarted(CompletableFuture<RunningAgent> started, CountDownLatch stopped) {
        try {
            RunningAgent r = started.get(START_WAIT_SECONDS, TimeUnit.SECONDS);
            if (r != null) {
                r.close();
            }
        } catch (Exception e) {
            System.err.println("outpost: stopping before the start finished: " + e);
        } finally {
            stopped.countDown();
        }
    }

    /**
     * An error about the whole agent, on stderr: a line {@code outpost: ...} in text, a logged error with
     * {@code node.log_format: json} (so every line of stderr stays one JSON object).
     */
    private static void sayError(String message) {
        if (LogSetup.json()) {
            LoggerFactory.getLogger(Main.class)
                    .atError()
                    .addKeyValue(LogFields.ADVICE, "change what the message names, then start the agent again")
                    .log("{}", message);
        } else {
            System.err.println("outpost: " + message);
        }
    }

    /** Says why the start failed and returns the exit code; rethrows what is not a known start failure. */
    private static int startFailure(OutpostConfig config, RuntimeException e) {
        if (e instanceof ConfigException) {
            // A TLS file read again at start (e.g. changed since the configuration was checked).
            sayError(e.getMessage());
            return EXIT_USAGE;
        }
        if (e instanceof StoreException || e instanceof IllegalStateException) {
            // IllegalStateException: native codecs could not load and compress.native_missing is refuse.
            sayError("cannot start: " + e.getMessage());
            return EXIT_START_FAILED;
        }
        if (e instanceof io.micronaut.http.server.exceptions.ServerStartupException) {
            sayError("cannot start: cannot listen on "
                    + config.http().host() + ":" + config.http().port()
                    + " (http.host, http.port): "
                    + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage())
                    + "; is another agent running there?");
            return EXIT_START_FAILED;
        }
        throw e;
    }

    /**
     * The memory budget must hold the heap (the launcher's -Xmx) and the state file, which is memory-mapped whole;
     * checked on the real process, where -Xmx is the launcher's. Says what to change when it does not.
     */
    private static boolean memoryBudgetHolds(OutpostConfig config, RunningAgent running) {
        long heap = Runtime.getRuntime().maxMemory();
        // The state file grows in steps: hold the budget to its size at state.documents_max.
        long stateFile = Math.max(running.agent().stateFileBytes(), JvmSizing.stateFileBytes(config));
        long reserve = JvmSizing.nonHeapReserveBytes(config, JvmSizing.runningC1Only());
        if (heap + stateFile + reserve <= config.budget().memoryBytes()) {
            return true;
        }
        sayError("config error: budget.memory (" + config.budget().memoryBytes() + " bytes) is smaller"
                + " than the heap (" + heap + " bytes: -Xmx, set by OUTPOST_HEAP) plus the state file ("
                + stateFile
                + " bytes, sized from state.documents_max and state.doc_bytes_avg) plus "
                + (reserve >> 20)
                + " MiB for the JVM's own memory and the log's mapped blocks (log.block_bytes);"
                + " raise budget.memory or lower those");
        return false;
    }

    /** Starts the agent and its HTTP server; close the result to stop both. */
    public static RunningAgent start(OutpostConfig config) {
        LogSetup.use(config.node().logFormat(), config.node().id());
        NativeLibraries.useForJna(); // before anything initialises Chronicle's core
        StartAhead.begin();
        Logger log = LoggerFactory.getLogger(Main.class);
        CompletableFuture<ApplicationContext> context = HttpContext.startAhead(serverProperties(config));
        Agent agent;
        try {
            agent = new Agent(config);
        } catch (RuntimeException | Error e) {
            HttpContext.closeWhenStarted(context);
            throw e;
        }
        if (agent.natives().zstd() && agent.natives().lz4Native()) {
            log.info("{}", agent.natives().message());
        } else {
            log.atWarn()
                    .addKeyValue(
                            LogFields.ADVICE,
                            "point compress.native_dir at a directory that allows executables (not"
                                    + " a noexec mount), or set compress.native_missing: refuse to stop rather than run slower")
                    .log("{}", agent.natives().message());
        }
        ApplicationContext ctx;
        EmbeddedServer server;
        try {
            ctx = HttpContext.withServices(context, agent.services());
            server = ctx.getBean(EmbeddedServer.class);
        } catch (RuntimeException e) {
            HttpContext.closeWhenStarted(context);
            agent.close();
            throw e;
        }
        try {
            server.start();
        } catch (RuntimeException e) {
            // e.g. the port is taken: release the data directory before saying so
            try {
                ctx.close();
            } finally {
                agent.close();
            }
            throw e;
        }
        agent.markReady();
        announce(config, log, server.getPort());
        return new RunningAgent(agent, ctx, server.getPort());
    }

    /** Micronaut's server settings from the configuration. */
    private static Map<String, Object> serverProperties(OutpostConfig config) {
        Map<String, Object> props = new HashMap<>();
        props.put("micronaut.application.name", "outpost");
        props.put("micronaut.server.host", config.http().host());
        props.put("micronaut.server.port", config.http().port());
        if (config.http().tlsKeyStore() != null) {
            // HTTPS only, on http.port: Netty's one listener is the SSL one; no plain HTTP beside it.
            props.put("micronaut.server.ssl.enabled", true);
            props.put("micronaut.server.ssl.port", config.http().port());
            props.put("micronaut.server.dual-protocol", false);
            props.put(
                    "micronaut.server.ssl.key-store.path",
                    "file:" + config.http().tlsKeyStore().toAbsolutePath());
            props.put("micronaut.server.ssl.key-store.type", "PKCS12");
            props.put("micronaut.server.ssl.key-store.password", config.http().tlsKeyStorePassword());
        }
        // The largest body any endpoint takes; ingest and state check their own (smaller) bound.
        props.put(
                "micronaut.server.max-request-size",
                Math.max(
                        config.http().bodyBytesMax(),
                        config.hub().enabled() ? config.hub().bodyBytesMax() : 0));
        // A Date header costs a formatted timestamp per response (~2 % of single-event ingest CPU)
        // and no client of a local agent needs it.
        props.put("micronaut.server.date-header", false);
        // Linux's epoll transport where its native library loads (NIO otherwise): less CPU per read and write.
        // -Doutpost.epoll=false keeps NIO (to compare, or should a kernel misbehave).
        boolean epoll = Boolean.parseBoolean(System.getProperty("outpost.epoll", "true"));
        for (String group : List.of(
                "micronaut.netty.event-loops.default",
                "micronaut.server.netty.parent",
                "micronaut.server.netty.worker")) {
            props.put(group + ".prefer-native-transport", epoll);
        }
        return props;
    }

    /** Logs and prints where the agent listens; launchers and tests wait for the printed line. */
    private static void announce(OutpostConfig config, Logger log, int port) {
        String scheme = config.http().tlsKeyStore() == null ? "http" : "https";
        log.info(
                "Outpost {} '{}' listening on {}://{}:{} (data: {}, durability: {}, {})",
                config.hub().enabled() ? "hub" : "node",
                config.node().id(),
                scheme,
                config.http().host(),
                port,
                config.data().dir().toAbsolutePath(),
                config.log().durability().name().toLowerCase(),
                config.sync().upstream() == null
                        ? "offline"
                        : "pushing to " + config.sync().upstream());
        System.out.println(
                "outpost: listening on " + scheme + "://" + config.http().host() + ":" + port);
        System.out.flush();
    }

    /** A started agent. */
    public static final class RunningAgent implements AutoCloseable {
        private final Agent agent;
        private final ApplicationContext ctx;
        private final int port;
        private boolean closed;

        RunningAgent(Agent agent, ApplicationContext ctx, int port) {
            this.agent = agent;
            this.ctx = ctx;
            this.port = port;
        }

        public int port() {
            return port;
        }

        public Agent agent() {
            return agent;
        }

        /** A bean of the running server (e.g. its router, for tests that compare the routes with the API's document). */
        public <T> T bean(Class<T> type) {
            return ctx.getBean(type);
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            Logger log = LoggerFactory.getLogger(Main.class);
            log.info("shutting down");
            try {
                ctx.close();
            } finally {
                agent.close();
            }
            if (LogSetup.json()) {
                log.info("stopped cleanly (event log closed {})", agent.log().summary());
            } else {
                // Straight to stderr: launchers wait for this line whatever the log level.
                System.err.println("outpost: stopped cleanly (event log closed "
                        + agent.log().summary() + ")");
                System.err.flush();
            }
        }
    }
}

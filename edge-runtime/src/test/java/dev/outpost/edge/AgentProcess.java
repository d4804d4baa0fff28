package dev.outpost.edge;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The real agent as a child process (same JVM binary, classpath and flags as the tests). */
public final class AgentProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");

    final Process process;
    final int port;
    final Path stderrFile;

    private AgentProcess(Process process, int port, Path stderrFile) {
        this.process = process;
        this.port = port;
        this.stderrFile = stderrFile;
    }

    /** What the agent logged so far (its stderr goes to a file: no pipe to drain). */
    String log() {
        try {
            return java.nio.file.Files.readString(stderrFile);
        } catch (IOException e) {
            return "(cannot read " + stderrFile + ": " + e + ")";
        }
    }

    static ProcessBuilder command(Path config, Path home) {
        return command(config, home, "run");
    }

    /** The command line of {@code outpost <command> --config config}. */
    static ProcessBuilder command(Path config, Path home, String command) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-")
                    || a.startsWith("--enable-native-access")
                    || a.startsWith("--sun-misc")
                    || a.startsWith("-Dchronicle")) {
                cmd.add(a);
            }
        }
        // The launcher derives -Xmx160m for the default 512 MiB budget; 192m still passes the startup check.
        cmd.add("-Xmx192m");
        cmd.add("-XX:+UseSerialGC");
        // C1 only, as the launcher runs budgets under 384 MiB: a child agent here lives seconds, and
        // C2's warm-up would double its start on the two cores CI shares with the test JVM.
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.add(command);
        if (config != null) {
            cmd.add("--config");
            cmd.add(config.toString());
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (home != null) {
            pb.environment().put("HOME", home.toString());
            cmd.add(1, "-Duser.home=" + home);
        }
        return pb;
    }

    /** Starts the agent and waits (bounded) until it prints its port. */
    static AgentProcess start(Path config, Path home) throws IOException {
        return start(config, home, "run");
    }

    /** Starts {@code outpost <command>} and waits (bounded) until it prints its port. */
    static AgentProcess start(Path config, Path home, String command) throws IOException {
        return start(command(config, home, command));
    }

    /** Starts the agent {@code pb} describes ({@link #command}, amended) and waits (bounded) until it prints its port. */
    static AgentProcess start(ProcessBuilder pb) throws IOException {
        Path errFile = java.nio.file.Files.createTempFile("outpost-agent-", ".log");
        Process p = pb.redirectError(errFile.toFile()).start();
        errFile.toFile().deleteOnExit();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (IOException ignored) {
                // the process died; the port future times out or the exit is seen below
            }
            port.complete(-1);
        });
        int got;
        try {
            got = port.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IOException(
                    "agent did not start within 60 s; stderr:\n" + java.nio.file.Files.readString(errFile), e);
        }
        if (got < 0) {
            throw new IOException("agent exited during start with " + waitExit(p) + "; stderr:\n"
                    + java.nio.file.Files.readString(errFile));
        }
        return new AgentProcess(p, got, errFile);
    }

    private static int waitExit(Process p) {
        try {
            return p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Runs a command to its end (bounded: 60 s); returns stdout and stderr merged, exit code in exit[0]. */
    static String runToEnd(ProcessBuilder pb, int[] exit) throws IOException, InterruptedException {
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("command did not end within 60 s: " + pb.command() + "\n" + out);
        }
        exit[0] = p.exitValue();
        return out;
    }

    /** SIGKILL: Process.destroyForcibly sends SIGKILL on Linux. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, then wait for the exit (the JVM reports 143 = 128 + SIGTERM after its hooks ran). */
    int terminate() throws InterruptedException {
        process.destroy();
        int code = process.waitFor(30, TimeUnit.SECONDS) ? process.exitValue() : -1;
        return code;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                kill();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

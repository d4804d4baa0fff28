package dev.outpost.edge.hub;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A real Apache Kafka broker for tests: one KRaft node (broker and controller) on loopback, started as a child process
 * from the {@code kafka_2.13} artifacts of Maven Central (the same version as the agent's client), waited for, and
 * stopped.
 *
 * <p>The broker's classpath is resolved once from {@code src/test/kafka/pom.xml} by the project's Maven wrapper
 * (offline first) into {@code target/kafka-broker.classpath}, so the broker's own dependencies (Scala, log4j, another
 * Jackson) stay out of the agent's test classpath. Its output goes to {@code DIR/broker.log}.
 */
public final class KafkaBroker implements AutoCloseable {
    /** Longest the broker may take to answer after its start. */
    static final long START_TIMEOUT_MILLIS = 90_000;

    private final Process process;
    private final String bootstrap;

    private KafkaBroker(Process process, String bootstrap) {
        this.process = process;
        this.bootstrap = bootstrap;
    }

    /** host:port of the broker's client listener. */
    public String bootstrapServers() {
        return bootstrap;
    }

    /** Starts a broker with its data in {@code dir}; returns once it answers an admin request. */
    public static KafkaBroker start(Path dir) throws Exception {
        String cp = classpath();
        int port = freePort();
        int controller = freePort();
        Path props = dir.resolve("server.properties");
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(
                props,
                String.join(
                        "\n",
                        "process.roles=broker,controller",
                        "node.id=1",
                        "controller.quorum.bootstrap.servers=127.0.0.1:" + controller,
                        "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controller,
                        "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                        "controller.listener.names=CONTROLLER",
                        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                        "log.dirs=" + dir.resolve("data"),
                        "offsets.topic.replication.factor=1",
                        "transaction.state.log.replication.factor=1",
                        "transaction.state.log.min.isr=1",
                        "transaction.state.log.num.partitions=4",
                        "offsets.topic.num.partitions=4",
                        "num.partitions=3",
                        "group.initial.rebalance.delay.ms=0",
                        "group.min.session.timeout.ms=500",
                        ""));
        run(
                List.of(
                        java(),
                        "-cp",
                        cp,
                        "kafka.tools.StorageTool",
                        "format",
                        "--standalone",
                        "--cluster-id=" + uuid(), // one argument: an id may start with '-'
                        "-c",
                        props.toString()),
                dir.resolve("format.log"));
        Process p = new ProcessBuilder(
                        java(), "-Xmx512m", "-XX:+UseSerialGC", "-cp", cp, "kafka.Kafka", props.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("broker.log").toFile())
                .start();
        KafkaBroker b = new KafkaBroker(p, "127.0.0.1:" + port);
        try {
            b.awaitReady(dir);
        } catch (Exception e) {
            b.close();
            throw e;
        }
        return b;
    }

    private void awaitReady(Path dir) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        try (Admin admin = Admin.create(p)) {
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the Kafka broker exited: " + tail(dir.resolve("broker.log")));
                }
                try {
                    admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
                    return;
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the Kafka broker did not answer in " + START_TIMEOUT_MILLIS
                                + " ms: " + tail(dir.resolve("broker.log")));
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String uuid() {
        // A Kafka cluster id: 16 random bytes in URL-safe base64 without padding (what StorageTool random-uuid prints).
        UUID u = UUID.randomUUID();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
        b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    /** The broker's classpath, resolved once per build. */
    private static synchronized String classpath() throws Exception {
        Path out = Path.of("target", "kafka-broker.classpath").toAbsolutePath();
        if (!Files.isRegularFile(out) || Files.size(out) == 0) {
            Path pom = Path.of("src", "test", "kafka", "pom.xml").toAbsolutePath();
            Path mvnw = Path.of("..", "mvnw").toAbsolutePath().normalize();
            List<String> cmd = new ArrayList<>(List.of(
                    mvnw.toString(),
                    "-q",
                    "-B",
                    "-f",
                    pom.toString(),
                    "-Dkafka.version=" + clientVersion(),
                    "dependency:build-classpath",
                    "-Dmdep.outputFile=" + out));
            Path log = out.resolveSibling("kafka-broker-resolve.log");
            List<String> offline = new ArrayList<>(cmd);
            offline.add(1, "-o");
            if (runQuietly(offline, log) != 0) {
                run(cmd, log); // not in the local repository yet: from Maven Central
            }
        }
        return Files.readString(out).strip();
    }

    /** The Kafka client's version (the broker's is the same). */
    private static String clientVersion() throws IOException {
        Properties v = new Properties();
        try (var in = Admin.class.getClassLoader().getResourceAsStream("kafka/kafka-version.properties")) {
            if (in == null) {
                throw new IOException("kafka/kafka-version.properties is not on the classpath");
            }
            v.load(in);
        }
        return v.getProperty("version");
    }

    private static void run(List<String> cmd, Path log) throws Exception {
        int rc = runQuietly(cmd, log);
        if (rc != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited with " + rc + ": " + tail(log));
        }
    }

    private static int runQuietly(List<String> cmd, Path log) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " took more than 10 minutes");
        }
        return p.exitValue();
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

package dev.outpost.edge.config;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.Durability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private OutpostConfig load(String yaml) throws IOException {
        Path f = dir.resolve("outpost.yaml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f);
    }

    private ConfigException bad(String yaml) {
        return assertThrows(ConfigException.class, () -> load(yaml));
    }

    /** A path no file system takes (a NUL in it) is a config error naming the key, not a stack trace. */
    @Test
    void aPathThatCannotBeOneIsRefusedNamingTheKey() {
        for (String key : new String[] {"data:\n  dir", "compress:\n  native_dir", "http:\n  tls_key_store"}) {
            ConfigException e = bad(key + ": \"a\\0b\"\n");
            String name = key.replace(":\n  ", ".");
            assertTrue(
                    e.getMessage().contains("'" + name + "'") && e.getMessage().contains("expected a path"),
                    e.getMessage());
        }
    }

    @Test
    void defaultsAreOfflineOnLoopbackWithDataInDotData() {
        OutpostConfig c = ConfigLoader.defaults();
        assertEquals("127.0.0.1", c.http().host());
        assertEquals(7070, c.http().port());
        assertEquals(Path.of("data"), c.data().dir());
        assertEquals(Durability.OS, c.log().durability());
        assertEquals(1024 * 1024, c.http().bodyBytesMax());
        assertEquals(Path.of("data", "native"), c.compress().nativeDir(), "native libraries under the data directory");
        assertEquals("auto", c.log().compression());
    }

    @Test
    void readsValuesWithUnits() throws IOException {
        OutpostConfig c = load(
                "http:\n  port: 9000\n  body_bytes_max: 2MiB\nlog:\n  durability: fsync\ningest:\n  event_bytes_max: 512KiB\n");
        assertEquals(9000, c.http().port());
        assertEquals(2L * 1024 * 1024, c.http().bodyBytesMax());
        assertEquals(Durability.FSYNC, c.log().durability());
        assertEquals(512L * 1024, c.ingest().eventBytesMax());
    }

    @Test
    void unknownKeyNamesTheKeyAndTheAllowedOnes() {
        ConfigException e = bad("http:\n  prot: 9000\n");
        assertEquals("http.prot", e.key());
        assertTrue(e.getMessage().contains("unknown key 'http.prot'"), e.getMessage());
        assertTrue(e.getMessage().contains("host, port, body_bytes_max, api_token"), e.getMessage());
        ConfigException top = bad("htp:\n  port: 1\n");
        assertTrue(
                top.getMessage()
                        .contains(
                                "allowed top-level keys: node, data, http, log, compress, ingest, state, budget, query"),
                top.getMessage());
    }

    @Test
    void aKafkaHubNeedsItsBrokersAndKeepsTheSettingsItsGuaranteesRestOn() throws Exception {
        assertEquals(
                "hub.kafka_bootstrap_servers", bad("hub:\n  backend: kafka\n").key());
        ConfigException e = bad(
                "hub:\n  backend: kafka\n  kafka_bootstrap_servers: k:9092\n" + "  kafka_producer:\n    acks: \"1\"\n");
        assertEquals("hub.kafka_producer.acks", e.key());
        assertTrue(e.getMessage().contains("set by the hub"), e.getMessage());
        assertTrue(bad("hub:\n  backend: pulsar\n").getMessage().contains("allowed values: local, kafka"));
        OutpostConfig c = assertDoesNotThrow(() -> load("hub:\n  backend: kafka\n  kafka_bootstrap_servers: k:9092\n"
                + "  kafka_producer:\n    compression.type: zstd\n"));
        assertTrue(c.hub().kafkaBackend());
        assertEquals(Map.of("compression.type", "zstd"), c.hub().kafka().producer());
        assertEquals(32, c.hub().kafka().shards());
        assertEquals("", c.hub().kafka().advertisedUrl());
        for (String url : List.of("ftp://hub:7070", "hub:7070", "http://hub:7070/v1")) {
            assertEquals(
                    "hub.kafka_advertised_url",
                    bad("hub:\n  kafka_advertised_url: \"" + url + "\"\n").key(),
                    url);
        }
        assertEquals(
                "http://hub-2:7070",
                load("hub:\n  kafka_advertised_url: http://hub-2:7070/\n")
                        .hub()
                        .kafka()
                        .advertisedUrl());
    }

    @Test
    void badValuesNameTheKeyAndWhatIsAllowed() {
        ConfigException e = bad("log:\n  durability: sometimes\n");
        assertEquals("log.durability", e.key());
        assertTrue(e.getMessage().contains("allowed values: os, fsync"), e.getMessage());
        assertTrue(bad("http:\n  port: 70000\n").getMessage().contains("allowed: 0 to 65535"));
        assertTrue(bad("http:\n  port: seven\n").getMessage().contains("'http.port'"));
        assertTrue(bad("http:\n  body_bytes_max: lots\n").getMessage().contains("expected a size like"));
        assertTrue(bad("log:\n  roll_cycle: WEEKLY\n").getMessage().contains("FAST_HOURLY"));
        assertTrue(bad("log:\n  compression: lz4\n").getMessage().contains("allowed values: auto, none"));
        assertTrue(
                bad("compress:\n  native_missing: ignore\n").getMessage().contains("allowed values: fallback, refuse"));
        assertTrue(bad("http: 5\n").getMessage().contains("'http' must be a mapping"));
        assertTrue(bad("- a\n- b\n").getMessage().contains("must be a YAML mapping"));
        assertTrue(bad("http:\n  port: 1\n  port: 2\n").getMessage().contains("not valid YAML"));
    }

    /**
     * A size past what a long holds is out of range naming the key: 17179869185GiB (2^64 + 1 GiB bytes) wrapped round
     * to 1 GiB and was taken, and a number of more than 19 digits (a BigInteger in YAML) threw NumberFormatException.
     */
    @Test
    void sizesPastALongAreOutOfRangeNotWrappedOrACrash() throws IOException {
        for (String disk : List.of(
                "17179869185GiB", "9223372036854775807KiB", "99999999999999999999", "99999999999999999999MiB")) {
            ConfigException e = bad("budget:\n  disk: " + disk + "\n");
            assertEquals("budget.disk", e.key(), disk);
            assertTrue(
                    e.getMessage().contains("out of range; allowed: 16777216 to 1125899906842624 bytes"),
                    e.getMessage());
        }
        assertEquals(
                1024 * 1024 * ConfigKey.GIB,
                load("budget:\n  disk: 1048576GiB\n").budget().diskBytes());
        ConfigException hub = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parseLive("sync.bandwidth_bytes_per_second", "99999999999999999999KiB", "hub"));
        assertEquals("sync.bandwidth_bytes_per_second", hub.key());
    }

    /** retention_seconds is a whole number of seconds in a long's range: 1.5 was cut to 1, a BigInteger wrapped. */
    @Test
    void retentionSecondsIsAWholeNumberInRange() throws IOException {
        for (String r : List.of("1.5", "99999999999999999999", "18446744073709551617", "-1", "soon")) {
            ConfigException e = bad("streams:\n  s:\n    retention_seconds: " + r + "\n");
            assertEquals("streams.s.retention_seconds", e.key(), r);
            assertTrue(e.getMessage().contains("whole number of seconds from 0 to " + Long.MAX_VALUE), e.getMessage());
        }
        assertEquals(
                3600,
                load("streams:\n  s:\n    retention_seconds: 3600\n")
                        .streams()
                        .get("s")
                        .retentionSeconds());
    }

    /**
     * node.id follows the hub's rule for the ids it accepts; an id with a space, a non-ASCII letter, over 128
     * characters or a line break was taken and the node never synced (or broke the push header or the HTTP client).
     */
    @Test
    void nodeIdIsAnIdTheHubAccepts() throws IOException {
        assertEquals(
                "edge-7.site_b", load("node:\n  id: edge-7.site_b\n").node().id());
        assertEquals("42", load("node:\n  id: 42\n").node().id());
        for (String id : List.of(
                "\"edge 7\"", "\"\u00e9dge\"", "x".repeat(129), "\"edge\\r\\nX-Evil: 1\"", "\"edge/7\"", "\" \"")) {
            ConfigException e = bad("node:\n  id: " + id + "\n");
            assertEquals("node.id", e.key(), id);
            assertTrue(e.getMessage().contains("1-128 characters of A-Z a-z 0-9 . _ -"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n") && !e.getMessage().contains("\r"), "one line: " + e.getMessage());
        }
        assertEquals(
                "x".repeat(128),
                load("node:\n  id: " + "x".repeat(128) + "\n").node().id());
        // Not configured: the host name, if it is such an id; else startup says to set node.id.
        assertEquals("gateway-3.plant", NodeKeys.idOrHostName("", () -> "gateway-3.plant"));
        for (String host : List.of("my host", "h".repeat(200), "caf\u00e9")) {
            ConfigException e = assertThrows(ConfigException.class, () -> NodeKeys.idOrHostName("", () -> host));
            assertEquals("node.id", e.key());
            assertTrue(e.getMessage().contains("set node.id"), e.getMessage());
            assertTrue(e.getMessage().contains("host name"), e.getMessage());
        }
    }

    @Test
    void relationshipsBetweenLimitsAreChecked() {
        ConfigException e = bad("http:\n  body_bytes_max: 64KiB\ningest:\n  event_bytes_max: 128KiB\n");
        assertEquals("ingest.event_bytes_max", e.key());
        assertTrue(e.getMessage().contains("http.body_bytes_max"));
        assertEquals(
                "query.limit_default",
                bad("query:\n  limit_default: 50\n  limit_max: 10\n").key());
        assertEquals(
                "state.doc_bytes_max",
                bad("http:\n  body_bytes_max: 32KiB\ningest:\n  event_bytes_max: 8KiB\n")
                        .key());
        assertEquals(
                "state.doc_bytes_avg",
                bad("state:\n  doc_bytes_avg: 2KiB\n  doc_bytes_max: 1KiB\n").key());
        assertEquals("log.block_bytes", bad("http:\n  body_bytes_max: 8MiB\n").key());
        assertEquals("budget.disk", bad("budget:\n  disk: 64MiB\n").key());
        assertTrue(bad("budget:\n  disk: 64MiB\n").getMessage().contains("log.block_bytes"));
    }

    /**
     * A subscriber's buffer must fit in a quarter of budget.memory: 64MiB buffers in a 64MiB budget made the live
     * subscriber limit 0 and every subscription was refused 503, with nothing said at startup.
     */
    @Test
    void liveBuffersMustFitInAQuarterOfTheMemoryBudget() throws IOException {
        ConfigException e = bad("budget:\n  memory: 64MiB\nlive:\n  buffer_bytes_max: 64MiB\n");
        assertEquals("live.buffer_bytes_max", e.key());
        assertTrue(
                e.getMessage().contains("live.buffer_bytes_max (67108864 bytes)")
                        && e.getMessage().contains("budget.memory (67108864 / 4 = 16777216 bytes)"),
                e.getMessage());
        assertEquals(
                "live.buffer_bytes_max",
                bad("budget:\n  memory: 64MiB\nlive:\n  buffer_bytes_max: 16388KiB\n")
                        .key());
        OutpostConfig c = load("budget:\n  memory: 64MiB\nlive:\n  buffer_bytes_max: 16MiB\n");
        assertEquals(1, c.liveSubscribersLimit(), "exactly one full buffer fits");
    }

    /** The TLS files are read at startup: a bad one stops it with a message naming the key. */
    @Test
    void tlsFilesAreCheckedAtStartup() throws Exception {
        dev.outpost.edge.TestTls tls = dev.outpost.edge.TestTls.create(dir, "node");
        String http = "http:\n  tls_key_store: %s\n  tls_key_store_password: %s\n";
        OutpostConfig good = load(http.formatted(tls.keyStore(), tls.password()));
        assertEquals(tls.keyStore(), good.http().tlsKeyStore());
        assertEquals(null, ConfigLoader.defaults().http().tlsKeyStore(), "plain HTTP by default");

        ConfigException missing = bad(http.formatted(dir.resolve("nope.p12"), tls.password()));
        assertEquals("http.tls_key_store", missing.key());
        assertTrue(
                missing.getMessage().contains("nope.p12")
                        && missing.getMessage().contains("does not exist"),
                missing.getMessage());
        Path garbage = Files.writeString(dir.resolve("garbage.p12"), "not a key store");
        ConfigException notPkcs12 = bad(http.formatted(garbage, tls.password()));
        assertEquals("http.tls_key_store", notPkcs12.key());
        assertTrue(notPkcs12.getMessage().contains("PKCS12"), notPkcs12.getMessage());
        ConfigException wrongPassword = bad(http.formatted(tls.keyStore(), "not-the-password"));
        assertEquals("http.tls_key_store_password", wrongPassword.key());
        assertTrue(wrongPassword.getMessage().contains("password is wrong"), wrongPassword.getMessage());
        ConfigException passwordAlone = bad("http:\n  tls_key_store_password: secret\n");
        assertEquals("http.tls_key_store", passwordAlone.key());
        // A PEM certificate is not a key store.
        assertEquals(
                "http.tls_key_store",
                bad(http.formatted(tls.pem(), tls.password())).key());

        String sync = "sync:\n  upstream: https://127.0.0.1:7443\n  token: t\n  tls_trust_file: %s\n";
        OutpostConfig trusting = load(sync.formatted(tls.pem()));
        assertEquals(tls.pem(), trusting.sync().tlsTrustFile());
        ConfigException noPem = bad(sync.formatted(dir.resolve("nope.pem")));
        assertEquals("sync.tls_trust_file", noPem.key());
        assertTrue(noPem.getMessage().contains("does not exist"), noPem.getMessage());
        Path badPem = Files.writeString(
                dir.resolve("bad.pem"), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
        ConfigException notPem = bad(sync.formatted(badPem));
        assertEquals("sync.tls_trust_file", notPem.key());
        assertTrue(notPem.getMessage().contains("not a PEM file of X.509 certificates"), notPem.getMessage());
        Path empty = Files.writeString(dir.resolve("empty.pem"), "");
        assertEquals("sync.tls_trust_file", bad(sync.formatted(empty)).key());
        // The key store is binary, not PEM.
        assertEquals("sync.tls_trust_file", bad(sync.formatted(tls.keyStore())).key());
        ConfigException plainUpstream =
                bad("sync:\n  upstream: http://127.0.0.1:7070\n  token: t\n  tls_trust_file: " + tls.pem() + "\n");
        assertEquals("sync.tls_trust_file", plainUpstream.key());
        assertTrue(plainUpstream.getMessage().contains("https://"), plainUpstream.getMessage());
    }

    @Test
    void connectionLimitsHaveDefaultsAndTheProbesShareMustLeaveRoom() throws IOException {
        OutpostConfig.Http d = ConfigLoader.defaults().http();
        assertEquals(5_000, d.headerTimeoutMillis());
        assertEquals(60_000, d.idleTimeoutMillis());
        assertEquals(1024, d.bodyRateBytesPerSecondMin());
        assertEquals(5_000, d.bodyGraceMillis());
        assertEquals(8, ConfigLoader.defaults().budget().probeConnections());
        OutpostConfig c = load("http:\n  header_timeout_millis: 250\n  body_rate_bytes_per_second_min: 4KiB\n"
                + "budget:\n  connections: 10\n  probe_connections: 9\n");
        assertEquals(250, c.http().headerTimeoutMillis());
        assertEquals(4096, c.http().bodyRateBytesPerSecondMin());
        assertEquals(9, c.budget().probeConnections());
        ConfigException e = bad("budget:\n  connections: 8\n");
        assertEquals("budget.probe_connections", e.key());
        assertTrue(e.getMessage().contains("must be less than budget.connections (8)"), e.getMessage());
        assertEquals(
                "http.header_timeout_millis",
                bad("http:\n  header_timeout_millis: 50\n").key());
    }

    @Test
    void missingFileIsAClearError() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir.resolve("nope.yaml")));
        assertTrue(e.getMessage().contains("does not exist"));
    }

    /**
     * Each key's definition reaches its section record: a value other than the default changes the
     * configuration's sections (a key defined but not wired, or wired to another key, fails here).
     */
    @Test
    void everyKeyReachesItsRecord() {
        ConfigValues defaults = ConfigValues.defaults();
        List<Record> base = OutpostConfig.of(defaults, Map.of(), OutpostConfig.Definitions.NONE)
                .sections();
        for (ConfigKey<?> k : OutpostConfig.KEYS) {
            Object other = switch (k.kind()) {
                case INT, BYTES -> (Long) defaults.parsed(k.path()) < k.max() ? k.max() : k.min();
                case ENUM ->
                    k.allowed().stream()
                            .filter(a -> !a.equals(defaults.parsed(k.path())))
                            .findFirst()
                            .orElseThrow();
                case PATH -> "elsewhere";
                case STRING ->
                    k.path().equals("sync.upstream") || k.path().equals("hub.kafka_advertised_url")
                            ? "http://hub.example:7070"
                            : "other";
                case MAP -> Map.of("node-1", "0123456789abcdef");
            };
            ConfigValues changed = defaults.with(k.path(), k.parse(other, "test"));
            List<Record> sections = OutpostConfig.of(changed, Map.of(), OutpostConfig.Definitions.NONE)
                    .sections();
            int section = OutpostConfig.SECTIONS.stream()
                    .map(ConfigSection::name)
                    .toList()
                    .indexOf(k.section());
            for (int i = 0; i < base.size(); i++) {
                boolean reached = !sections.get(i).equals(base.get(i));
                // compress.native_dir follows data.dir by default: changing data.dir reaches both.
                boolean expected = i == section || (k.path().equals("data.dir") && i == section + 3);
                assertEquals(expected, reached, k.path() + " in section " + base.get(i));
            }
        }
    }

    /** Live values, as hub mode, rebuild from the values: everything else stays as loaded. */
    @Test
    void liveChangesAndHubModeKeepEverythingElse() throws IOException {
        OutpostConfig c = load("http:\n  port: 9001\nhub:\n  nodes:\n    n1: 0123456789abcdef\n");
        OutpostConfig hub = c.asHub();
        assertTrue(hub.hub().enabled());
        assertEquals(Map.of("n1", "0123456789abcdef"), hub.hub().nodes());
        assertEquals(c.http(), hub.http());
        OutpostConfig live = c.withLive(Map.of("query.limit_max", 5000L));
        assertEquals(5000, live.query().limitMax());
        assertEquals(c.query().limitDefault(), live.query().limitDefault());
        assertEquals(c.http(), live.http());
        assertEquals(c.hub(), live.hub());
    }
}

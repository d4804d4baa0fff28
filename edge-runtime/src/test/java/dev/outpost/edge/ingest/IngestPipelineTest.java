package dev.outpost.edge.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.metrics.Metrics;
import dev.outpost.store.HybridClock;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ingest pipeline on a real event log: each outcome, the order of its stages (the extension point), and that a
 * refused request stores nothing.
 */
class IngestPipelineTest {
    /** The pipeline's body limit in these tests, bytes. */
    static final long BODY_BYTES_MAX = 4096;

    @TempDir
    Path dir;

    LanedEventLog log;
    final Metrics metrics = new Metrics();
    final List<String> seen = new ArrayList<>();

    @BeforeEach
    void open() {
        log = LanedEventLog.open(LogOptions.defaults(dir), HybridClock.system());
    }

    @AfterEach
    void close() {
        log.close();
    }

    /** A stage that records what it saw and refuses a stream named "refuse-<name>". */
    IngestStage stage(String name) {
        return new IngestStage() {
            @Override
            public IngestOutcome.Rejection check(Batch batch) {
                seen.add(name + ":check");
                for (ParsedEvent e : batch.events()) {
                    if (e.stream().equals("refuse-" + name)) {
                        return new IngestOutcome.Refused(IngestOutcome.Reason.OVERLOADED, name + " says no", 3);
                    }
                }
                return null;
            }

            @Override
            public void acknowledged(Batch batch, IngestOutcome.Accepted accepted) {
                seen.add(name + ":acknowledged " + accepted.stored());
            }
        };
    }

    IngestPipeline pipeline() {
        return new IngestPipeline(
                new EventParser(10, 1024),
                BODY_BYTES_MAX,
                stage("validate"),
                stage("admit"),
                List.of(stage("rules"), stage("rollups")),
                new Ingestor(log, 100, 100),
                metrics);
    }

    static IngestPipeline.Request ndjson(String body, String key) {
        return new IngestPipeline.Request(body.getBytes(StandardCharsets.UTF_8), true, key);
    }

    @Test
    void storesAcknowledgesAndRunsTheStagesInOrder() {
        IngestPipeline p = pipeline();
        IngestOutcome o = p.ingest(ndjson("{\"stream\":\"a\",\"data\":{}}\n{\"stream\":\"b\",\"data\":{}}\n", null))
                .join();
        IngestOutcome.Accepted a = assertInstanceOf(IngestOutcome.Accepted.class, o);
        assertArrayEquals(new long[] {1, 2}, a.seqs());
        assertEquals(2, a.stored());
        assertEquals(2, log.lastSeq());
        assertEquals(
                List.of(
                        "validate:check",
                        "admit:check",
                        "rules:check",
                        "rollups:check",
                        "validate:acknowledged 2",
                        "admit:acknowledged 2",
                        "rules:acknowledged 2",
                        "rollups:acknowledged 2"),
                seen);
        assertEquals(2, p.storedEvents());
        assertEquals(1, metrics.value("outpost_ingest_requests_total"));
    }

    @Test
    void aRetryIsADuplicateAndStoresNothing() {
        IngestPipeline p = pipeline();
        String body = "{\"stream\":\"a\",\"id\":\"e1\",\"data\":{}}\n";
        assertInstanceOf(
                IngestOutcome.Accepted.class, p.ingest(ndjson(body, "k1")).join());
        IngestOutcome.Duplicate replay = assertInstanceOf(
                IngestOutcome.Duplicate.class, p.ingest(ndjson(body, "k1")).join());
        assertTrue(replay.replayed());
        IngestOutcome.Duplicate byId = assertInstanceOf(
                IngestOutcome.Duplicate.class, p.ingest(ndjson(body, null)).join());
        assertEquals(false, byId.replayed());
        assertArrayEquals(new long[] {1}, byId.seqs());
        assertEquals(1, log.lastSeq());
        assertEquals(2, metrics.value("outpost_ingest_duplicates_total"));
    }

    @Test
    void invalidInputNamesLineAndFieldAndStoresNothing() {
        IngestPipeline p = pipeline();
        IngestOutcome.Invalid i = assertInstanceOf(
                IngestOutcome.Invalid.class,
                p.ingest(ndjson("{\"stream\":\"a\",\"data\":{}}\n{\"stream\":\"b\"}\n", null))
                        .join());
        assertEquals(IngestOutcome.Fault.MALFORMED_EVENT, i.fault());
        assertEquals(2, i.line());
        assertEquals("data", i.field());
        assertTrue(i.reason().startsWith("line 2: "), i.reason());
        IngestOutcome.Invalid big = assertInstanceOf(
                IngestOutcome.Invalid.class,
                p.ingest(ndjson("x".repeat((int) BODY_BYTES_MAX + 1), null)).join());
        assertEquals(IngestOutcome.Fault.BODY_TOO_LARGE, big.fault());
        IngestOutcome.Invalid key = assertInstanceOf(
                IngestOutcome.Invalid.class,
                p.ingest(ndjson("{\"stream\":\"a\",\"data\":{}}", "k".repeat(Ingestor.REQUEST_KEY_CHARS_MAX + 1)))
                        .join());
        assertEquals(IngestOutcome.Fault.BAD_IDEMPOTENCY_KEY, key.fault());
        assertEquals("Idempotency-Key", key.field());
        assertEquals(0, log.lastSeq());
        assertEquals(
                List.of(), seen.stream().filter(s -> s.contains("acknowledged")).toList());
        assertEquals(3, metrics.value("outpost_ingest_rejected_total"));
    }

    @Test
    void aRefusingStageStopsTheRequestBeforeLaterStagesAndTheAppend() {
        IngestPipeline p = pipeline();
        IngestOutcome.Refused r = assertInstanceOf(
                IngestOutcome.Refused.class,
                p.ingest(ndjson("{\"stream\":\"ok\",\"data\":{}}\n{\"stream\":\"refuse-rules\",\"data\":{}}\n", null))
                        .join());
        assertEquals("rules says no", r.detail());
        assertEquals(3, r.retryAfterSeconds());
        assertEquals(List.of("validate:check", "admit:check", "rules:check"), seen, "rollups never saw it");
        assertEquals(0, log.lastSeq(), "nothing of it stored");
    }
}

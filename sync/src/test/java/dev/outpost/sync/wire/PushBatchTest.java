package dev.outpost.sync.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.compress.Choice;
import dev.outpost.compress.DictionaryResolver;
import dev.outpost.compress.FrameCodec;
import dev.outpost.store.Lane;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PushBatchTest {
    private static final PushBatch.Decoder DECODER =
            new PushBatch.Decoder(new PushBatch.Limits(8 << 20, 64 << 20, 10_000));

    private static PushBatch sample(int n) {
        List<PushBatch.Record> rs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rs.add(new PushBatch.Record(
                    10 + 3L * i,
                    1_000_000L + i,
                    "sensors",
                    ("{\"stream\":\"sensors\",\"data\":{\"t\":" + (20 + i % 7) + ",\"id\":\"dev-" + (i % 13) + "\"}}")
                            .getBytes(StandardCharsets.UTF_8)));
        }
        return new PushBatch("edge-1", Lane.NORMAL, 9, 10 + 3L * Math.max(0, n - 1) + 2, rs);
    }

    @Test
    void roundTripsAndCompresses() {
        PushBatch b = sample(500);
        byte[] wire = b.encode(new FrameCodec(), Choice.zstd(3, false), null);
        PushBatch d = DECODER.decode(wire, wire.length, DictionaryResolver.NONE);
        assertEquals(b.node(), d.node());
        assertEquals(b.lane(), d.lane());
        assertEquals(b.fromSeq(), d.fromSeq());
        assertEquals(b.toSeq(), d.toSeq());
        assertEquals(500, d.records().size());
        for (int i = 0; i < 500; i++) {
            assertEquals(b.records().get(i).seq(), d.records().get(i).seq());
            assertEquals(b.records().get(i).hlc(), d.records().get(i).hlc());
            assertEquals("sensors", d.records().get(i).stream());
            assertArrayEquals(b.records().get(i).payload(), d.records().get(i).payload());
        }
        long raw = b.records().stream().mapToLong(r -> r.payload().length).sum();
        assertTrue(wire.length * 5 < raw, "wire " + wire.length + " vs raw JSON " + raw);
        assertEquals("edge-1", PushBatch.peekNode(wire, wire.length));
    }

    @Test
    void anEmptyBatchCoversARange() {
        PushBatch b = new PushBatch("n", Lane.BULK, 5, 9, List.of());
        byte[] wire = b.encode(new FrameCodec(), Choice.NONE, null);
        PushBatch d = DECODER.decode(wire, wire.length, DictionaryResolver.NONE);
        assertEquals(0, d.records().size());
        assertEquals(9, d.toSeq());
    }

    @Test
    void boundsAreCheckedBeforeDecoding() {
        byte[] wire = sample(50).encode(new FrameCodec(), Choice.zstd(1, false), null);
        WireException big = assertThrows(
                WireException.class,
                () -> new PushBatch.Decoder(new PushBatch.Limits(100, 1 << 20, 10))
                        .decode(wire, wire.length, DictionaryResolver.NONE));
        assertEquals(413, big.status());
        WireException many = assertThrows(
                WireException.class,
                () -> new PushBatch.Decoder(new PushBatch.Limits(1 << 20, 1 << 20, 10))
                        .decode(wire, wire.length, DictionaryResolver.NONE));
        assertEquals(413, many.status());
        WireException section = assertThrows(
                WireException.class,
                () -> new PushBatch.Decoder(new PushBatch.Limits(1 << 20, 100, 1000))
                        .decode(wire, wire.length, DictionaryResolver.NONE));
        assertEquals(413, section.status(), "a record section over the limit is too large, not damaged");
        assertTrue(section.getMessage().contains("at most 100 bytes of records"), section.getMessage());
    }

    /** What a hub charges a push for before decoding it: the record section its frame declares, from the headers. */
    @Test
    void theDeclaredSectionIsReadFromTheHeaders() {
        PushBatch b = sample(500);
        byte[] zstd = b.encode(new FrameCodec(), Choice.zstd(3, false), null);
        byte[] raw = b.encode(new FrameCodec(), Choice.NONE, null);
        int declared = DECODER.declaredBytes(zstd, zstd.length);
        assertEquals(DECODER.declaredBytes(raw, raw.length), declared, "the same section, however compressed");
        assertTrue(declared > zstd.length * 5, declared + " declared by " + zstd.length + " bytes");
        WireException over = assertThrows(
                WireException.class,
                () -> new PushBatch.Decoder(new PushBatch.Limits(1 << 20, declared - 1, 1000))
                        .declaredBytes(zstd, zstd.length));
        assertEquals(413, over.status());
        assertTrue(over.getMessage().contains("at most " + (declared - 1) + " bytes of records"), over.getMessage());
    }

    /** Seeded mutations: only the original batch or a typed error, never garbage or another exception. */
    @Test
    void mutatedBodiesAreTypedErrorsOrTheOriginal() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        PushBatch b = sample(40);
        byte[] wire = b.encode(new FrameCodec(), Choice.zstd(1, false), null);
        long deadline = System.nanoTime() + 2_000_000_000L;
        int n = 0;
        while (System.nanoTime() < deadline) {
            byte[] m = wire.clone();
            int len = m.length;
            switch (rnd.nextInt(3)) {
                case 0 -> m[rnd.nextInt(len)] ^= (byte) (1 << rnd.nextInt(8));
                case 1 -> len = rnd.nextInt(len);
                default -> m[rnd.nextInt(len)] = (byte) rnd.nextInt(256);
            }
            try {
                PushBatch d = DECODER.decode(m, len, DictionaryResolver.NONE);
                assertEquals(b.records().size(), d.records().size(), "seed " + seed);
                assertEquals(b.node(), d.node(), "seed " + seed);
                assertEquals(b.fromSeq(), d.fromSeq(), "seed " + seed);
                assertEquals(b.toSeq(), d.toSeq(), "seed " + seed);
                assertEquals(b.lane(), d.lane(), "seed " + seed);
                for (int i = 0; i < d.records().size(); i++) {
                    assertArrayEquals(
                            b.records().get(i).payload(), d.records().get(i).payload(), "seed " + seed);
                    assertEquals(b.records().get(i).seq(), d.records().get(i).seq(), "seed " + seed);
                }
            } catch (WireException expected) {
                assertTrue(expected.status() >= 400 && expected.status() < 500, "seed " + seed);
            }
            n++;
        }
        assertTrue(n > 1000, "ran " + n);
    }
}

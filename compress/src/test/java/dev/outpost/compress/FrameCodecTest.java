package dev.outpost.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
    private final FrameCodec codec = new FrameCodec();

    static byte[] event(Random r) {
        return ("{\"stream\":\"sensors\",\"key\":\"dev-" + r.nextInt(500) + "\",\"ts\":"
                        + (1795410041516L + r.nextInt(100000))
                        + ",\"data\":{\"site\":\"store-" + r.nextInt(60) + "\",\"temp_c\":"
                        + (15 + r.nextInt(150) / 10.0)
                        + ",\"rpm\":" + (900 + r.nextInt(600)) + ",\"door\":\"" + (r.nextBoolean() ? "open" : "closed")
                        + "\",\"fw\":\"4.2." + r.nextInt(3) + "\",\"alarms\":" + r.nextInt(3) + "}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    static byte[] block(long seed, int bytes) {
        Random r = new Random(seed);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(bytes + 512);
        while (out.size() < bytes) {
            out.writeBytes(event(r));
            out.write('\n');
        }
        return java.util.Arrays.copyOf(out.toByteArray(), bytes);
    }

    static List<Choice> allChoices() {
        return List.of(
                Choice.NONE,
                Choice.LZ4_FAST,
                Choice.lz4High(9),
                Choice.lz4High(17),
                Choice.zstd(-5, false),
                Choice.zstd(1, false),
                Choice.zstd(3, false),
                Choice.zstd(19, false));
    }

    @Test
    void everyCodecRoundTripsExactly() {
        byte[] data = block(1, 64 * 1024);
        for (Choice c : allChoices()) {
            byte[] f = codec.encode(data, 0, data.length, c, null);
            FrameCodec.Header h = codec.header(f, 0, f.length);
            assertEquals(c.codec(), h.codec(), c.toString());
            assertEquals(data.length, h.uncompressedLength());
            if (c.codec() != Codec.NONE) {
                assertTrue(f.length < data.length / 3, c + " should compress telemetry: " + f.length);
            }
            assertArrayEquals(data, codec.decode(f, 0, f.length, DictionaryResolver.NONE), c.toString());
        }
    }

    @Test
    void framesInsideLargerArraysAndEmptyContent() {
        byte[] data = block(2, 5000);
        byte[] dst = new byte[FrameCodec.frameBytesMax(4000) + 20];
        int n = codec.encode(data, 500, 4000, Choice.zstd(3, false), null, dst, 7);
        byte[] back = codec.decode(dst, 7, n, DictionaryResolver.NONE);
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 500, 4500), back);
        byte[] empty = codec.encode(new byte[0], 0, 0, Choice.LZ4_FAST, null);
        assertEquals(9, empty.length, "the smallest frame: 2 + three 1-byte varints + checksum");
        assertEquals(0, codec.decode(empty, 0, empty.length, DictionaryResolver.NONE).length);
    }

    @Test
    void incompressibleDataIsStoredRaw() {
        byte[] noise = new byte[4096];
        new Random(3).nextBytes(noise);
        byte[] f = codec.encode(noise, 0, noise.length, Choice.zstd(19, false), null);
        assertEquals(Codec.NONE, codec.header(f, 0, f.length).codec());
        assertEquals(noise.length + 2 + 1 + 2 + 2 + 4, f.length);
        assertArrayEquals(noise, codec.decode(f, 0, f.length, DictionaryResolver.NONE));
    }

    @Test
    void extremeRatiosAreCappedSoDecodersAcceptThem() {
        byte[] zeros = new byte[8 << 20];
        byte[] f = codec.encode(zeros, 0, zeros.length, Choice.zstd(3, false), null);
        FrameCodec.Header h = codec.header(f, 0, f.length);
        assertTrue(
                (long) h.compressedLength() * FrameCodec.EXPANSION_RATIO_MAX >= h.uncompressedLength(), h.toString());
        assertArrayEquals(zeros, codec.decode(f, 0, f.length, DictionaryResolver.NONE));
    }

    @Test
    void dictionaryFramesNeedTheirDictionary() {
        Random r = new Random(4);
        List<byte[]> samples = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            samples.add(event(r));
        }
        Dictionary dict = DictionaryTrainer.train(samples, 16 * 1024);
        assertEquals(Dictionary.idOf(dict.bytes()), dict.id(), "the id is derived from the content");
        assertTrue(dict.size() <= 16 * 1024);
        byte[] e = event(new Random(99));
        byte[] plain = codec.encode(e, 0, e.length, Choice.zstd(3, false), null);
        byte[] withDict = codec.encode(e, 0, e.length, Choice.zstd(3, true), dict);
        assertEquals(dict.id(), codec.header(withDict, 0, withDict.length).dictionaryId());
        assertTrue(
                withDict.length * 2 < plain.length,
                "dictionary must pay on a single event: " + withDict.length + " vs " + plain.length);
        assertArrayEquals(e, codec.decode(withDict, 0, withDict.length, id -> id == dict.id() ? dict : null));
        FrameException unknown = assertThrows(
                FrameException.class, () -> codec.decode(withDict, 0, withDict.length, DictionaryResolver.NONE));
        assertEquals(FrameException.Kind.UNKNOWN_DICTIONARY, unknown.kind());
        Dictionary other = DictionaryTrainer.train(samples.subList(0, 1500), 8 * 1024);
        // A different dictionary under the frame's id is never used: the resolver is by id.
        assertThrows(
                FrameException.class,
                () -> codec.decode(withDict, 0, withDict.length, id -> id == other.id() ? other : null));
    }

    /**
     * A codec's native contexts are reused whatever thread calls it: the hub decodes each push on a new virtual
     * thread, and a context kept per thread leaked one native context (zstd-jni frees it only on close) per push.
     */
    @Test
    void zstdContextsAreReusedAcrossThreads() throws Exception {
        byte[] data = block(6, 8 * 1024);
        byte[] f = codec.encode(data, 0, data.length, Choice.zstd(3, false), null);
        assertArrayEquals(data, codec.decode(f, 0, f.length, DictionaryResolver.NONE));
        long before = FrameCodec.zstdContextsOpen();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 200; i++) {
                byte[] decoded = threads.submit(() -> codec.decode(f, 0, f.length, DictionaryResolver.NONE))
                        .get();
                assertArrayEquals(data, decoded);
                byte[] encoded = threads.submit(() -> codec.encode(data, 0, data.length, Choice.zstd(3, false), null))
                        .get();
                assertArrayEquals(f, encoded);
            }
        }
        assertEquals(
                before,
                FrameCodec.zstdContextsOpen(),
                "one call at a time on 400 threads: the contexts the first calls made serve all of them");
    }

    /**
     * Bytes that start with the Zstd dictionary magic but hold no valid tables: refused by {@link
     * Dictionary#loadable}; a frame naming one that got stored anyway is a typed error, not an IllegalStateException.
     */
    @Test
    void aDictionaryZstdCannotLoadIsRefusedAndItsFramesAreCorrupt() {
        byte[] bad = new byte[256];
        new Random(8).nextBytes(bad);
        bad[0] = 0x37;
        bad[1] = (byte) 0xA4;
        bad[2] = 0x30;
        bad[3] = (byte) 0xEC;
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> Dictionary.loadable(bad));
        assertTrue(refused.getMessage().contains("cannot load"), refused.getMessage());
        byte[] raw = "content only: loaded as it is".getBytes(StandardCharsets.UTF_8);
        assertEquals(Dictionary.of(raw), Dictionary.loadable(raw), "bytes without the magic are raw content");
        Dictionary stored = Dictionary.of(bad);
        byte[] data = block(9, 1000);
        byte[] f = codec.encode(data, 0, data.length, Choice.zstd(3, false), null);
        f[2] = 0x01; // name dictionary 1 (a one-byte varint, as 0 was)
        long id = codec.header(f, 0, f.length).dictionaryId();
        FrameException e = assertThrows(
                FrameException.class, () -> codec.decode(f, 0, f.length, wanted -> wanted == id ? stored : null));
        assertEquals(FrameException.Kind.CORRUPT, e.kind());
        assertTrue(e.getMessage().contains("dictionary 1 cannot be loaded"), e.getMessage());
    }

    @Test
    void tooFewSamplesIsAClearError() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> DictionaryTrainer.train(List.of("{\"a\":1}".getBytes(StandardCharsets.UTF_8)), 16 * 1024));
        assertTrue(e.getMessage().contains("give more samples"), e.getMessage());
    }

    @Test
    void declaredSizesAreCheckedBeforeAllocating() {
        FrameCodec strict = new FrameCodec(new DecodeLimits(1000, 10));
        byte[] data = block(5, 4000);
        byte[] big = codec.encode(data, 0, data.length, Choice.LZ4_FAST, null);
        assertEquals(
                FrameException.Kind.TOO_LARGE,
                assertThrows(FrameException.class, () -> strict.decode(big, 0, big.length, DictionaryResolver.NONE))
                        .kind());
        byte[] small = codec.encode(new byte[900], 0, 900, Choice.LZ4_FAST, null);
        assertEquals(
                FrameException.Kind.EXPANSION_RATIO,
                assertThrows(FrameException.class, () -> strict.decode(small, 0, small.length, DictionaryResolver.NONE))
                        .kind());
        // A header that claims 2^34 bytes is refused as too large, not allocated.
        byte[] liar = {(byte) 0xC5, 0x11, 0, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01, 1, 0, 0, 0, 0, 0
        };
        assertEquals(
                FrameException.Kind.TOO_LARGE,
                assertThrows(FrameException.class, () -> codec.decode(liar, 0, liar.length, DictionaryResolver.NONE))
                        .kind());
    }

    @Test
    void badFramesAreTypedErrors() {
        byte[] data = block(6, 3000);
        byte[] f = codec.encode(data, 0, data.length, Choice.zstd(3, false), null);
        byte[] bad = f.clone();
        bad[0] = 0x00;
        assertEquals(FrameException.Kind.BAD_MAGIC, kind(bad));
        bad = f.clone();
        bad[1] = 0x21;
        assertEquals(FrameException.Kind.UNSUPPORTED_VERSION, kind(bad));
        bad = f.clone();
        bad[1] = 0x1F;
        assertEquals(FrameException.Kind.UNKNOWN_CODEC, kind(bad));
        assertEquals(FrameException.Kind.CORRUPT, kind(java.util.Arrays.copyOf(f, f.length - 1)));
        bad = f.clone();
        bad[f.length - 1] ^= 0x40;
        FrameException.Kind k = kind(bad);
        assertTrue(k == FrameException.Kind.CORRUPT || k == FrameException.Kind.CHECKSUM, k.toString());
        byte[] raw = codec.encode(data, 0, 100, Choice.NONE, null);
        raw[raw.length - 1] ^= 1;
        assertEquals(FrameException.Kind.CHECKSUM, kind(raw));
    }

    private FrameException.Kind kind(byte[] f) {
        return assertThrows(FrameException.class, () -> codec.decode(f, 0, f.length, DictionaryResolver.NONE))
                .kind();
    }

    @Test
    void choiceRejectsLevelsOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> Choice.zstd(0, false));
        assertThrows(IllegalArgumentException.class, () -> Choice.zstd(20, false));
        assertThrows(IllegalArgumentException.class, () -> Choice.lz4High(18));
        assertThrows(IllegalArgumentException.class, () -> new Choice(Codec.LZ4, 0, true));
    }
}

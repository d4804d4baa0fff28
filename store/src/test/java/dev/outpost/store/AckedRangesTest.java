package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** {@link AckedRanges} against a BitSet of acknowledged sequence numbers, plus its bound and its encoding. */
class AckedRangesTest {
    /** Sequence numbers the model test uses: small, so ranges collide, merge and leave gaps often. */
    private static final int DOMAIN = 120;

    private static final Path SOURCE = Path.of("test-cursor");

    /**
     * Random adds, checked after every step against the reference: the BitSet of every acknowledged
     * sequence number. Bounds from 1 (no range) to unbounded, so refusals are part of the model.
     */
    @Test
    void behavesLikeASetOfSequenceNumbers() {
        for (long seed = 1; seed <= 60; seed++) {
            Random rnd = new Random(seed);
            int max = seed % 3 == 0 ? AckedRanges.RANGES_MAX : 1 + rnd.nextInt(12);
            AckedRanges r = new AckedRanges(max);
            BitSet model = new BitSet();
            for (int step = 0; step < 400; step++) {
                long from = 1 + rnd.nextInt(DOMAIN);
                long to = Math.min(DOMAIN, from + (rnd.nextInt(4) == 0 ? rnd.nextInt(30) : rnd.nextInt(3)));
                BitSet after = (BitSet) model.clone();
                after.set((int) from, (int) to + 1);
                boolean fits = runs(after).size() <= max;
                String at = "seed " + seed + " step " + step + " add " + from + ".." + to + " to " + r;
                assertEquals(fits, r.add(from, to), at);
                if (fits) {
                    model = after;
                }
                check(model, r, rnd, at);
            }
        }
    }

    private static void check(BitSet model, AckedRanges r, Random rnd, String at) {
        List<AckedRanges.Range> runs = runs(model);
        assertEquals(runs, r.ranges(), at);
        assertEquals(runs.size(), r.rangeCount(), at);
        assertEquals(model.cardinality(), r.acknowledgedCount(), at);
        assertEquals(model.isEmpty(), r.isEmpty(), at);
        for (int seq = 1; seq <= DOMAIN + 2; seq++) {
            assertEquals(model.get(seq), r.contains(seq), at + ": contains " + seq);
            assertEquals(model.nextClearBit(seq), r.firstGap(seq), at + ": firstGap " + seq);
        }
        for (int i = 0; i < 40; i++) {
            int from = 1 + rnd.nextInt(DOMAIN);
            int to = from + rnd.nextInt(i < 20 ? 4 : DOMAIN - from + 1);
            boolean all = model.nextClearBit(from) > to;
            assertEquals(all, r.containsAll(from, to), at + ": containsAll " + from + ".." + to);
        }
        byte[] encoded = r.encode();
        AckedRanges decoded = AckedRanges.decode(encoded, SOURCE);
        assertEquals(r, decoded, at + ": decode(encode)");
        assertEquals(r.hashCode(), decoded.hashCode(), at);
        assertEquals(runs, decoded.ranges(), at);
        assertArrayEquals(encoded, decoded.encode(), at + ": encoding is canonical");
    }

    /** The maximal runs of set bits: what the ranges must be. */
    private static List<AckedRanges.Range> runs(BitSet b) {
        List<AckedRanges.Range> out = new ArrayList<>();
        for (int from = b.nextSetBit(1); from >= 0; from = b.nextSetBit(b.nextClearBit(from))) {
            out.add(new AckedRanges.Range(from, b.nextClearBit(from) - 1));
        }
        return out;
    }

    @Test
    void mergesOverlappingAndAdjacentButNotAcrossGaps() {
        AckedRanges r = new AckedRanges();
        assertTrue(r.add(10, 20));
        assertTrue(r.add(21, 21)); // adjacent above
        assertTrue(r.add(5, 9)); // adjacent below
        assertTrue(r.add(23, 30)); // gap at 22
        assertEquals(List.of(new AckedRanges.Range(5, 21), new AckedRanges.Range(23, 30)), r.ranges());
        assertEquals(22, r.firstGap(5));
        assertEquals(1, r.firstGap(1));
        assertFalse(r.containsAll(5, 30));
        assertTrue(r.add(1, 40)); // swallows both
        assertEquals(List.of(new AckedRanges.Range(1, 40)), r.ranges());
        assertEquals(41, r.firstGap(1));
        assertEquals("[1-40]", r.toString());
    }

    @Test
    void worksAtTheTopOfTheSequenceSpace() {
        AckedRanges r = new AckedRanges();
        assertTrue(r.add(AckedRanges.SEQ_MAX - 1, AckedRanges.SEQ_MAX));
        assertTrue(r.add(1, AckedRanges.SEQ_MAX - 3));
        assertEquals(AckedRanges.SEQ_MAX - 2, r.firstGap(1));
        assertEquals(AckedRanges.SEQ_MAX + 1, r.firstGap(AckedRanges.SEQ_MAX));
        assertEquals(AckedRanges.SEQ_MAX - 1, r.acknowledgedCount());
        assertEquals(r, AckedRanges.decode(r.encode(), SOURCE));
        assertTrue(r.add(AckedRanges.SEQ_MAX - 2, AckedRanges.SEQ_MAX - 2));
        assertEquals(List.of(new AckedRanges.Range(1, AckedRanges.SEQ_MAX)), r.ranges());
        assertEquals(AckedRanges.SEQ_MAX, r.acknowledgedCount());
    }

    @Test
    void rejectsSequenceNumbersOutsideTheDomain() {
        AckedRanges r = new AckedRanges();
        assertThrows(IllegalArgumentException.class, () -> r.add(0, 5));
        assertThrows(IllegalArgumentException.class, () -> r.add(5, 4));
        assertThrows(IllegalArgumentException.class, () -> r.add(1, Long.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> r.contains(0));
        assertThrows(IllegalArgumentException.class, () -> r.firstGap(-1));
        assertThrows(IllegalArgumentException.class, () -> r.containsAll(3, 2));
        assertTrue(r.isEmpty());
    }

    /**
     * At the bound a separate new range is refused and changes nothing (no gap is ever claimed),
     * while acks that extend or join ranges (in-order sending) still go in.
     */
    @Test
    void theBoundRefusesNewRangesButNeverClaimsGaps() {
        AckedRanges r = new AckedRanges();
        for (long i = 0; i < AckedRanges.RANGES_MAX; i++) {
            assertTrue(r.add(2 * i + 1, 2 * i + 1)); // 1, 3, 5, ...: every even seq is a gap
        }
        long last = 2L * AckedRanges.RANGES_MAX - 1;
        assertEquals(AckedRanges.RANGES_MAX, r.rangeCount());
        AckedRanges before = AckedRanges.decode(r.encode(), SOURCE);

        assertFalse(r.add(last + 2, last + 10), "a new range beyond the bound is refused");
        assertFalse(r.add(last + 2, last + 2));
        assertEquals(before, r, "a refused add changes nothing");
        assertFalse(r.contains(last + 2));
        assertEquals(AckedRanges.RANGES_MAX, r.acknowledgedCount(), "no unacknowledged seq was claimed");

        assertTrue(r.add(last + 1, last + 5), "extending the last range needs no new range");
        assertTrue(r.add(1, 1), "already acknowledged");
        assertEquals(AckedRanges.RANGES_MAX, r.rangeCount());
        assertTrue(r.add(r.firstGap(1), r.firstGap(1)), "filling the lowest gap joins two ranges");
        assertEquals(AckedRanges.RANGES_MAX - 1, r.rangeCount());
        assertEquals(4, r.firstGap(1));
        assertTrue(r.add(last + 100, last + 100), "with room again, out-of-order acks are taken");
        assertEquals(AckedRanges.RANGES_MAX, r.rangeCount());

        AckedRanges full = AckedRanges.decode(r.encode(), SOURCE);
        assertEquals(r, full, "a full cursor round-trips");
        assertFalse(full.add(last + 200, last + 200), "the bound holds after decode");
    }

    @Test
    void everyTruncationOrBitFlipIsATypedError() {
        AckedRanges r = new AckedRanges();
        r.add(3, 7);
        r.add(300, 100_000);
        r.add(1L << 40, (1L << 40) + 5);
        byte[] good = r.encode();
        for (int len = 0; len < good.length; len++) {
            byte[] cut = Arrays.copyOf(good, len);
            StoreException e = assertThrows(StoreException.class, () -> AckedRanges.decode(cut, SOURCE), "len " + len);
            assertEquals(SOURCE, e.path());
        }
        for (int bit = 0; bit < good.length * 8; bit++) {
            byte[] flipped = good.clone();
            flipped[bit / 8] ^= (byte) (1 << (bit % 8));
            assertThrows(StoreException.class, () -> AckedRanges.decode(flipped, SOURCE), "bit " + bit);
        }
    }

    @Test
    void anUnknownVersionIsRefusedNamingIt() {
        byte[] b = new AckedRanges().encode();
        b[0] = 2;
        StoreException e = assertThrows(StoreException.class, () -> AckedRanges.decode(b, SOURCE));
        assertTrue(e.getMessage().contains("format version 2"), e.getMessage());
        assertTrue(e.getMessage().contains(SOURCE.toString()), e.getMessage());
    }

    /** Bodies with a valid checksum that break an invariant: the parser itself must refuse them. */
    @Test
    void wellFramedButInvalidRangesAreRefused() {
        assertCorrupt("adjacent", 2, 0, 4, 0, 2); // 1..5 then gap 0: 6..8
        assertCorrupt("overlaps", 2, 10, 4, -3, 2); // 11..15 then a negative gap
        assertCorrupt("overlaps", 2, AckedRanges.SEQ_MAX - 1, 0, 1, 0); // ends at SEQ_MAX, another after
        assertCorrupt("beyond", 1, AckedRanges.SEQ_MAX, 0); // starts at SEQ_MAX + 1
        assertCorrupt("beyond", 1, 0, AckedRanges.SEQ_MAX); // ends at SEQ_MAX + 1
        assertCorrupt("beyond", 1, 5, -1); // span above Long.MAX_VALUE
        assertCorrupt("exceeds", AckedRanges.RANGES_MAX + 1);
        assertCorrupt("exceeds", -1);
        assertCorrupt("truncated", 3, 0, 1, 5, 1); // says 3 ranges, holds 2
        assertCorrupt("after the last range", 1, 0, 1, 7); // a trailing varint
        // An 11-byte varint, and a 10-byte one above 64 bits.
        assertCorruptBody("overflows", new byte[] {1, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0});
        assertCorruptBody("overflows", new byte[] {1, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 0});
        assertCorruptBody("minimal", new byte[] {1, 1, (byte) 0x80, 0, 0}); // gap 0 in two bytes
        // The same framing with valid values decodes, so the cases above fail for their stated reason.
        AckedRanges ok = decodeBody(varints(2, 0, 4, 1, 2));
        assertEquals(List.of(new AckedRanges.Range(1, 5), new AckedRanges.Range(7, 9)), ok.ranges());
    }

    /** Random bytes, framed or not: each decodes to a valid cursor or fails with a StoreException, nothing else. */
    @Test
    void randomBytesNeverDecodeToGarbage() {
        Random rnd = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            byte[] body = new byte[rnd.nextInt(24)];
            rnd.nextBytes(body);
            if (body.length > 0) {
                body[0] = AckedRanges.FORMAT_VERSION;
            }
            if (body.length > 1 && rnd.nextBoolean()) {
                body[1] = (byte) rnd.nextInt(4); // a small count, so the ranges get parsed
            }
            byte[] framed = i % 2 == 0 ? withCrc(body) : body;
            AckedRanges r;
            try {
                r = AckedRanges.decode(framed, SOURCE);
            } catch (StoreException expected) {
                continue;
            }
            // Valid: rebuilding it through add gives the same ranges, so they were sorted, disjoint, non-adjacent.
            AckedRanges rebuilt = new AckedRanges();
            for (AckedRanges.Range x : r.ranges()) {
                assertTrue(rebuilt.add(x.from(), x.to()));
            }
            assertEquals(r.ranges(), rebuilt.ranges());
            assertArrayEquals(framed, rebuilt.encode());
        }
    }

    private static void assertCorrupt(String why, long... varints) {
        assertCorruptBody(why, varints(varints));
    }

    private static void assertCorruptBody(String why, byte[] body) {
        StoreException e = assertThrows(StoreException.class, () -> decodeBody(body));
        assertTrue(e.getMessage().contains(why), "expected \"" + why + "\" in: " + e.getMessage());
    }

    private static AckedRanges decodeBody(byte[] body) {
        return AckedRanges.decode(withCrc(body), SOURCE);
    }

    /** The version byte, then each value as an unsigned LEB128 varint. */
    private static byte[] varints(long... values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(AckedRanges.FORMAT_VERSION);
        for (long v : values) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
        return out.toByteArray();
    }

    private static byte[] withCrc(byte[] body) {
        CRC32C crc = new CRC32C();
        crc.update(body);
        byte[] out = Arrays.copyOf(body, body.length + 4);
        RecordCodec.putInt(out, body.length, (int) crc.getValue());
        return out;
    }
}

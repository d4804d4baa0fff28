package dev.outpost.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A seeded mutation loop, bounded in time: mutated frames of every codec (with and without a
 * dictionary) must decode to exactly the original or fail with {@link FrameException} — no other
 * exception, no garbage, no huge allocation (limits are tight). Seed printed; set
 * -Doutpost.fuzz.seed to replay, -Doutpost.fuzz.millis to run longer.
 */
class FrameFuzzTest {
    @Test
    void mutatedFramesGiveTheOriginalOrATypedError() {
        long seed = Long.getLong("outpost.fuzz.seed", System.nanoTime());
        long millis = Long.getLong("outpost.fuzz.millis", 3000);
        System.out.println("FrameFuzzTest seed=" + seed + " millis=" + millis);
        Random r = new Random(seed);
        FrameCodec codec = new FrameCodec(new DecodeLimits(256 * 1024, FrameCodec.EXPANSION_RATIO_MAX));
        List<byte[]> samples = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            samples.add(FrameCodecTest.event(r));
        }
        Dictionary dict = DictionaryTrainer.train(samples, 8 * 1024);
        DictionaryResolver resolver = id -> id == dict.id() ? dict : null;
        List<Choice> choices = new ArrayList<>(FrameCodecTest.allChoices());
        choices.add(Choice.zstd(3, true));
        long end = System.currentTimeMillis() + millis;
        long cases = 0;
        long typed = 0;
        while (System.currentTimeMillis() < end) {
            int len = r.nextInt(4) == 0 ? r.nextInt(300) : r.nextInt(20_000);
            byte[] original = FrameCodecTest.block(r.nextLong(), len);
            Choice c = choices.get(r.nextInt(choices.size()));
            byte[] frame = codec.encode(original, 0, original.length, c, dict);
            byte[] mutated = mutate(frame, r);
            cases++;
            try {
                byte[] out = codec.decode(mutated, 0, mutated.length, resolver);
                assertArrayEquals(original, out, "seed " + seed + " case " + cases + ": decoded bytes differ");
            } catch (FrameException expected) {
                typed++;
            } catch (RuntimeException | Error e) {
                fail("seed " + seed + " case " + cases + " (" + c + "): untyped " + e, e);
            }
        }
        System.out.println("FrameFuzzTest: " + cases + " mutated frames, " + typed + " typed errors");
        if (cases < 100) {
            fail("too few cases ran: " + cases);
        }
    }

    private static byte[] mutate(byte[] f, Random r) {
        byte[] m = f.clone();
        switch (r.nextInt(6)) {
            case 0 -> m[r.nextInt(m.length)] ^= (byte) (1 << r.nextInt(8)); // one bit
            case 1 -> {
                for (int i = 0, n = 1 + r.nextInt(8); i < n; i++) {
                    m[r.nextInt(m.length)] = (byte) r.nextInt(256);
                }
            }
            case 2 -> m = Arrays.copyOf(m, r.nextInt(m.length)); // truncate
            case 3 -> {
                byte[] longer = Arrays.copyOf(m, m.length + 1 + r.nextInt(16)); // trailing bytes
                r.nextBytes(new byte[0]);
                m = longer;
            }
            case 4 -> m[2 + r.nextInt(Math.min(8, m.length - 2))] = (byte) r.nextInt(256); // header varints
            default -> { // payload only, keeping the header
                if (m.length > 12) {
                    m[12 + r.nextInt(m.length - 12)] ^= (byte) (1 + r.nextInt(255));
                }
            }
        }
        return m;
    }
}

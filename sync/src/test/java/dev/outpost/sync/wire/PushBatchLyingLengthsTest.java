package dev.outpost.sync.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.outpost.compress.Choice;
import dev.outpost.compress.DictionaryResolver;
import dev.outpost.compress.FrameCodec;
import dev.outpost.store.Lane;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A push whose frame is intact (checksums right) but whose record section states lengths it does not hold is refused
 * as 400, whatever the lengths: one near Integer.MAX_VALUE overflowed the bounds check and came out as an
 * IllegalArgumentException (a 500 at the hub), one beyond 32 bits was truncated to a small int.
 */
class PushBatchLyingLengthsTest {
    private static final PushBatch.Decoder DECODER =
            new PushBatch.Decoder(new PushBatch.Limits(8 << 20, 64 << 20, 10_000));

    /** A one-record batch for seq 5 whose record section is {@code plain}, with a right header and frame. */
    private static byte[] wire(byte[] plain) {
        byte[] payload = "{}".getBytes(StandardCharsets.UTF_8);
        PushBatch b = new PushBatch("edge-1", Lane.NORMAL, 5, 5, List.of(new PushBatch.Record(5, 7, "s", payload)));
        byte[] real = b.encode(new FrameCodec(), Choice.NONE, null);
        int frameOffset = 7 + "edge-1".length() + 24;
        byte[] frame = new FrameCodec().encode(plain, 0, plain.length, Choice.NONE, null);
        byte[] out = java.util.Arrays.copyOf(real, frameOffset + frame.length);
        System.arraycopy(frame, 0, out, frameOffset, frame.length);
        return out;
    }

    private static byte[] section(long streamLength, long payloadLength) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        PushBatch.writeVarint(p, 5);
        p.writeBytes(new byte[8]);
        PushBatch.writeVarint(p, streamLength);
        p.write('s');
        PushBatch.writeVarint(p, payloadLength);
        p.writeBytes("{}".getBytes(StandardCharsets.UTF_8));
        return p.toByteArray();
    }

    @Test
    void theHonestSectionDecodes() {
        byte[] w = wire(section(1, 2));
        assertEquals(
                1,
                DECODER.decode(w, w.length, DictionaryResolver.NONE).records().size());
    }

    @Test
    void lengthsThatLieAreA400() {
        long[][] lies = {
            {1, Integer.MAX_VALUE},
            {1, Integer.MAX_VALUE - 5},
            {1, (1L << 32) + 2},
            {(1L << 32) + 1, 2},
            {1, 3},
            {Integer.MAX_VALUE, 2}
        };
        for (long[] lie : lies) {
            byte[] w = wire(section(lie[0], lie[1]));
            WireException e = assertThrows(
                    WireException.class,
                    () -> DECODER.decode(w, w.length, DictionaryResolver.NONE),
                    lie[0] + "/" + lie[1]);
            assertEquals(400, e.status());
        }
    }
}

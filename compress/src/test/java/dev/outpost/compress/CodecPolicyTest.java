package dev.outpost.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CodecPolicyTest {
    private static final Pressure CPU = new Pressure(true, false);
    private static final Pressure DISK = new Pressure(false, true);
    private static final Pressure BOTH = new Pressure(true, true);

    private static Choice choose(int bytes, Purpose p, Pressure pr, boolean dict) {
        return CodecPolicy.choose(bytes, p, pr, dict, true);
    }

    @Test
    void tinyPayloadsStayRawUnlessAWireDictionaryPays() {
        assertEquals(Choice.NONE, choose(100, Purpose.HOT_LOG, Pressure.NONE, false));
        assertEquals(Choice.NONE, choose(1000, Purpose.HOT_LOG, Pressure.NONE, false), "a single event on the hot log");
        assertEquals(Choice.LZ4_FAST, choose(1024, Purpose.HOT_LOG, Pressure.NONE, false));
        assertEquals(Choice.zstd(9, false), choose(1000, Purpose.COLD_SEGMENT, Pressure.NONE, false));
        assertEquals(Choice.NONE, choose(100, Purpose.COLD_SEGMENT, DISK, true));
        assertEquals(Choice.NONE, choose(100, Purpose.WIRE, Pressure.NONE, false));
        assertEquals(Choice.zstd(3, true), choose(100, Purpose.WIRE, Pressure.NONE, true));
        assertEquals(Choice.NONE, CodecPolicy.choose(100, Purpose.WIRE, Pressure.NONE, true, false));
    }

    @Test
    void hotLogIsCheapAndDiskPressureMakesItStronger() {
        assertEquals(Choice.LZ4_FAST, choose(4096, Purpose.HOT_LOG, Pressure.NONE, false));
        assertEquals(Choice.LZ4_FAST, choose(4096, Purpose.HOT_LOG, CPU, false));
        assertEquals(Choice.zstd(3, false), choose(4096, Purpose.HOT_LOG, DISK, false));
        assertEquals(Choice.LZ4_FAST, choose(4096, Purpose.HOT_LOG, BOTH, false), "CPU wins when both are high");
    }

    @Test
    void coldAndWireFollowPressure() {
        assertEquals(Choice.zstd(9, false), choose(65536, Purpose.COLD_SEGMENT, Pressure.NONE, false));
        assertEquals(Choice.zstd(1, false), choose(65536, Purpose.COLD_SEGMENT, CPU, false));
        assertEquals(Choice.zstd(19, false), choose(65536, Purpose.COLD_SEGMENT, DISK, false));
        assertEquals(Choice.zstd(3, false), choose(65536, Purpose.WIRE, Pressure.NONE, false));
        assertEquals(Choice.zstd(1, true), choose(65536, Purpose.WIRE, CPU, true));
        assertEquals(Choice.zstd(9, true), choose(65536, Purpose.WIRE, DISK, true));
    }

    @Test
    void withoutZstdEverythingFallsBackToLz4() {
        assertEquals(
                Choice.lz4High(CodecPolicy.LZ4_HIGH_LEVEL),
                CodecPolicy.choose(65536, Purpose.COLD_SEGMENT, Pressure.NONE, false, false));
        assertEquals(Choice.LZ4_FAST, CodecPolicy.choose(65536, Purpose.WIRE, CPU, true, false));
        assertEquals(
                Choice.lz4High(CodecPolicy.LZ4_HIGH_LEVEL),
                CodecPolicy.choose(4096, Purpose.HOT_LOG, DISK, false, false));
    }
}

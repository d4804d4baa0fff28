package dev.outpost.compress;

/**
 * Chooses the codec for a payload: a plain function of its size, its purpose, the governor's
 * pressure hint and what this node can do. Unit-tested case by case (CodecPolicyTest).
 *
 * <table>
 *   <caption>The policy</caption>
 *   <tr><th>purpose</th><th>normal</th><th>CPU high</th><th>disk high (CPU not)</th></tr>
 *   <tr><td>HOT_LOG</td><td>LZ4 fast</td><td>LZ4 fast</td><td>Zstd 3 (LZ4 HC 9 without Zstd)</td></tr>
 *   <tr><td>COLD_SEGMENT</td><td>Zstd 9</td><td>Zstd 1</td><td>Zstd 19</td></tr>
 *   <tr><td>WIRE</td><td>Zstd 3 + dictionary</td><td>Zstd 1 + dictionary</td><td>Zstd 9 + dictionary</td></tr>
 * </table>
 *
 * Hot-log payloads below {@link #HOT_LOG_RAW_BELOW_BYTES} stay raw (measured: LZ4 makes a single
 * ~200-byte event 4 % larger; it needs repetition across events to pay). Other payloads below
 * {@link #RAW_BELOW_BYTES} stay raw, except on the wire when a dictionary exists
 * (that is where a dictionary pays: measured here, ratio 3.2 vs 1.24 without on 200-byte events).
 * Without native Zstd, every Zstd choice becomes LZ4 (fast under CPU pressure, HC otherwise).
 */
public final class CodecPolicy {
    /** Payloads smaller than this are stored raw: the frame header and CPU outweigh the savings. */
    public static final int RAW_BELOW_BYTES = 128;
    /** Hot-log payloads smaller than this are stored raw: about one request of a few events. */
    public static final int HOT_LOG_RAW_BELOW_BYTES = 1024;
    /** Level of LZ4 high-compression used in place of Zstd when Zstd is unavailable. */
    public static final int LZ4_HIGH_LEVEL = 9;

    private CodecPolicy() {}

    /**
     * The choice for a payload.
     *
     * @param payloadBytes the payload's size
     * @param purpose where it goes
     * @param pressure the governor's hint
     * @param dictionaryAvailable true if a dictionary for this payload's stream/purpose exists
     * @param zstdAvailable true if native Zstd is loaded
     */
    public static Choice choose(
            int payloadBytes, Purpose purpose, Pressure pressure, boolean dictionaryAvailable, boolean zstdAvailable) {
        boolean dict = dictionaryAvailable && purpose == Purpose.WIRE && zstdAvailable;
        if (payloadBytes < (purpose == Purpose.HOT_LOG ? HOT_LOG_RAW_BELOW_BYTES : RAW_BELOW_BYTES) && !dict) {
            return Choice.NONE;
        }
        boolean cpu = pressure.cpuHigh();
        boolean disk = pressure.diskHigh() && !cpu;
        Choice c = switch (purpose) {
            case HOT_LOG -> disk ? Choice.zstd(3, false) : Choice.LZ4_FAST;
            case COLD_SEGMENT -> Choice.zstd(cpu ? 1 : disk ? 19 : 9, false);
            case WIRE -> Choice.zstd(cpu ? 1 : disk ? 9 : 3, dict);
        };
        if (c.codec() == Codec.ZSTD && !zstdAvailable) {
            return cpu ? Choice.LZ4_FAST : Choice.lz4High(LZ4_HIGH_LEVEL);
        }
        return c;
    }

    /** {@link #choose} with this node's native status. */
    public static Choice choose(int payloadBytes, Purpose purpose, Pressure pressure, boolean dictionaryAvailable) {
        return choose(
                payloadBytes,
                purpose,
                pressure,
                dictionaryAvailable,
                NativeCodecs.status().zstd());
    }
}

package dev.outpost.compress.bench;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import dev.outpost.compress.Choice;
import dev.outpost.compress.Dictionary;
import dev.outpost.compress.DictionaryResolver;
import dev.outpost.compress.DictionaryTrainer;
import dev.outpost.compress.FrameCodec;
import dev.outpost.compress.NativeCodecs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Codec micro-benchmarks (run with {@code compress/bench-jmh.sh}).
 *
 * <ul>
 *   <li>{@code blockEncode}/{@code blockDecode}: 64 KiB blocks of NDJSON telemetry ({@link
 *       Telemetry#block}) per {@code codec}, by {@link FrameCodec} ({@code impl=frame}) or straight
 *       by the library at the same codec and level ({@code impl=raw}): lz4-java's native fast/high
 *       compressor and safe decompressor, zstd-jni's {@link ZstdCompressCtx}/{@link
 *       ZstdDecompressCtx} (the API FrameCodec uses) with default frame settings. The difference
 *       is the cost of framing.
 *   <li>{@code zstdStaticEncode}/{@code zstdStaticDecode}: zstd-jni's one-call {@link
 *       Zstd#compress(byte[], int)}/{@link Zstd#decompress(byte[], int)}, which allocate the result.
 *   <li>{@code eventEncode}/{@code eventDecode}: FrameCodec Zstd level 3 on single ~200-byte events,
 *       without and with a 16 KiB dictionary trained on 2,000 other events (another seed).
 * </ul>
 *
 * Every benchmark writes into preallocated buffers (except the static Zstd calls) and cycles over
 * several inputs. The primary score is operations/s; the secondary result {@code inputBytes} is
 * uncompressed bytes/s, from which the script derives MB/s. Compression ratios are not timings:
 * {@link #main} computes and prints them.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class CodecBenchmark {

    static final int BLOCK_BYTES = 64 * 1024;
    static final int BLOCKS = 8;
    static final long BLOCK_SEED = 1_000;
    static final int EVENTS = 1024;
    static final long EVENT_SEED = 2_000;
    static final int TRAIN_EVENTS = 2_000;
    static final long TRAIN_SEED = 3_000;
    static final int DICT_BYTES = 16 * 1024;
    static final int EVENT_LEVEL = 3;
    static final String[] BLOCK_CODECS = {"lz4", "lz4hc9", "zstd-5", "zstd-1", "zstd1", "zstd3", "zstd9"};

    static final FrameCodec FRAMES = new FrameCodec();

    /** Uncompressed bytes processed; JMH reports it per second next to the ops/s score. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Bytes {
        public long inputBytes;

        @Setup(Level.Iteration)
        public void reset() {
            inputBytes = 0;
        }
    }

    /**
     * Blocks encoded with {@code codec}, by FrameCodec ({@code impl=frame}) or straight by the
     * library ({@code impl=raw}). One state for both so JMH runs the two of a codec back to back
     * (params vary innermost), which keeps drifting background load from skewing the comparison.
     */
    @State(Scope.Thread)
    public static class Blocks {
        @Param({"lz4", "lz4hc9", "zstd-5", "zstd-1", "zstd1", "zstd3", "zstd9"})
        public String codec;

        @Param({"frame", "raw"})
        public String impl;

        boolean framed;
        Choice choice;
        LZ4Compressor lz4;
        LZ4SafeDecompressor lz4Decompressor;
        ZstdCompressCtx zstd;
        ZstdDecompressCtx zstdDecompressor;
        byte[][] blocks;
        byte[][] encoded;
        byte[] dst;
        int next;

        @Setup(Level.Trial)
        public void setup() {
            loadNatives();
            framed = switch (impl) {
                case "frame" -> true;
                case "raw" -> false;
                default -> throw new IllegalArgumentException("impl is frame or raw, not " + impl);
            };
            choice = choice(codec);
            if (!framed && codec.startsWith("lz4")) {
                // The instance NativeCodecs loaded (nativeInstance() loads once per process).
                LZ4Factory f = LZ4Factory.nativeInstance();
                lz4 = choice.level() == 0 ? f.fastCompressor() : f.highCompressor(choice.level());
                lz4Decompressor = f.safeDecompressor();
            } else if (!framed) {
                zstd = new ZstdCompressCtx();
                zstd.setLevel(choice.level());
                zstdDecompressor = new ZstdDecompressCtx();
            }
            blocks = blocks();
            dst = new byte[FrameCodec.frameBytesMax(BLOCK_BYTES)];
            encoded = new byte[BLOCKS][];
            byte[] back = new byte[BLOCK_BYTES];
            for (int i = 0; i < BLOCKS; i++) {
                encoded[i] = Arrays.copyOf(dst, encode(blocks[i]));
                int n = decode(encoded[i], back);
                check(blocks[i], Arrays.copyOf(back, n));
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            if (zstd != null) {
                zstd.close();
                zstdDecompressor.close();
            }
        }

        /** Encodes {@code src} into {@link #dst}; returns the encoded length. */
        int encode(byte[] src) {
            if (framed) {
                return FRAMES.encode(src, 0, src.length, choice, null, dst, 0);
            }
            return lz4 != null
                    ? lz4.compress(src, 0, src.length, dst, 0, dst.length)
                    : zstd.compressByteArray(dst, 0, dst.length, src, 0, src.length);
        }

        /** Decodes {@code src} into {@code out}; returns the decoded length. */
        int decode(byte[] src, byte[] out) {
            if (framed) {
                FrameCodec.Header h = FRAMES.header(src, 0, src.length);
                return FRAMES.decode(h, src, 0, DictionaryResolver.NONE, out, 0);
            }
            return lz4 != null
                    ? lz4Decompressor.decompress(src, 0, src.length, out, 0, out.length)
                    : zstdDecompressor.decompressByteArray(out, 0, out.length, src, 0, src.length);
        }

        int nextIndex() {
            int i = next;
            next = (i + 1) % BLOCKS;
            return i;
        }
    }

    /** Blocks for zstd-jni's one-call static API. */
    @State(Scope.Thread)
    public static class StaticZstdBlocks {
        @Param({"zstd1", "zstd3"})
        public String codec;

        int level;
        byte[][] blocks;
        byte[][] compressed;
        int next;

        @Setup(Level.Trial)
        public void setup() {
            loadNatives();
            level = choice(codec).level();
            blocks = blocks();
            compressed = new byte[BLOCKS][];
            for (int i = 0; i < BLOCKS; i++) {
                compressed[i] = Zstd.compress(blocks[i], level);
                check(blocks[i], Zstd.decompress(compressed[i], blocks[i].length));
            }
        }

        int nextIndex() {
            int i = next;
            next = (i + 1) % BLOCKS;
            return i;
        }
    }

    /** Single events, encoded one frame each with Zstd level 3, with or without a dictionary. */
    @State(Scope.Thread)
    public static class Events {
        @Param({"none", "16k"})
        public String dict;

        Choice choice;
        Dictionary dictionary;
        DictionaryResolver resolver;
        byte[][] events;
        byte[][] frames;
        byte[] dst;
        int next;

        @Setup(Level.Trial)
        public void setup() {
            loadNatives();
            if (dict.equals("none")) {
                choice = Choice.zstd(EVENT_LEVEL, false);
                resolver = DictionaryResolver.NONE;
            } else {
                choice = Choice.zstd(EVENT_LEVEL, true);
                dictionary = trainDictionary();
                Dictionary d = dictionary;
                resolver = id -> id == d.id() ? d : null;
            }
            events = measuredEvents().toArray(byte[][]::new);
            frames = new byte[events.length][];
            int longest = 0;
            for (int i = 0; i < events.length; i++) {
                frames[i] = FRAMES.encode(events[i], 0, events[i].length, choice, dictionary);
                check(events[i], FRAMES.decode(frames[i], 0, frames[i].length, resolver));
                longest = Math.max(longest, events[i].length);
            }
            dst = new byte[FrameCodec.frameBytesMax(longest)];
        }

        int nextIndex() {
            int i = next;
            next = (i + 1) % EVENTS;
            return i;
        }
    }

    // --- 64 KiB blocks ------------------------------------------------------------------------------

    @Benchmark
    public int blockEncode(Blocks s, Bytes b) {
        byte[] src = s.blocks[s.nextIndex()];
        b.inputBytes += src.length;
        return s.encode(src);
    }

    @Benchmark
    public int blockDecode(Blocks s, Bytes b) {
        int n = s.decode(s.encoded[s.nextIndex()], s.dst);
        b.inputBytes += n;
        return n;
    }

    @Benchmark
    public byte[] zstdStaticEncode(StaticZstdBlocks s, Bytes b) {
        byte[] src = s.blocks[s.nextIndex()];
        b.inputBytes += src.length;
        return Zstd.compress(src, s.level);
    }

    @Benchmark
    public byte[] zstdStaticDecode(StaticZstdBlocks s, Bytes b) {
        int i = s.nextIndex();
        byte[] out = Zstd.decompress(s.compressed[i], s.blocks[i].length);
        b.inputBytes += out.length;
        return out;
    }

    // --- single events ------------------------------------------------------------------------------

    @Benchmark
    public int eventEncode(Events s, Bytes b) {
        byte[] src = s.events[s.nextIndex()];
        b.inputBytes += src.length;
        return FRAMES.encode(src, 0, src.length, s.choice, s.dictionary, s.dst, 0);
    }

    @Benchmark
    public int eventDecode(Events s, Bytes b) {
        byte[] f = s.frames[s.nextIndex()];
        FrameCodec.Header h = FRAMES.header(f, 0, f.length);
        int n = FRAMES.decode(h, f, 0, s.resolver, s.dst, 0);
        b.inputBytes += n;
        return n;
    }

    // --- inputs and helpers -------------------------------------------------------------------------

    static byte[][] blocks() {
        byte[][] b = new byte[BLOCKS][];
        for (int i = 0; i < BLOCKS; i++) {
            b[i] = Telemetry.block(BLOCK_SEED + i, BLOCK_BYTES);
        }
        return b;
    }

    static List<byte[]> measuredEvents() {
        return Telemetry.events(EVENT_SEED, EVENTS);
    }

    static Dictionary trainDictionary() {
        return DictionaryTrainer.train(Telemetry.events(TRAIN_SEED, TRAIN_EVENTS), DICT_BYTES);
    }

    static Choice choice(String codec) {
        return switch (codec) {
            case "lz4" -> Choice.LZ4_FAST;
            case "lz4hc9" -> Choice.lz4High(9);
            case "zstd-5" -> Choice.zstd(-5, false);
            case "zstd-1" -> Choice.zstd(-1, false);
            case "zstd1" -> Choice.zstd(1, false);
            case "zstd3" -> Choice.zstd(3, false);
            case "zstd9" -> Choice.zstd(9, false);
            default -> throw new IllegalArgumentException("unknown codec " + codec);
        };
    }

    /** Loads both native libraries or fails: a pure-Java fallback would measure the wrong thing. */
    static NativeCodecs.Status loadNatives() {
        return NativeCodecs.load(
                Path.of(System.getProperty("java.io.tmpdir"), "outpost-native-bench"), NativeCodecs.Mode.REFUSE);
    }

    static void check(byte[] expected, byte[] actual) {
        if (!Arrays.equals(expected, actual)) {
            throw new IllegalStateException("round trip changed the data");
        }
    }

    // --- compression ratios (not timed) -------------------------------------------------------------

    /**
     * Prints the compression ratio (uncompressed/compressed) of every configuration; with an
     * argument, also writes them as tab-separated {@code key ratio uncompressed compressed items} lines
     * to that file (read by bench-jmh.sh).
     */
    public static void main(String[] args) throws IOException {
        NativeCodecs.Status status = loadNatives();
        PrintStream out = System.out;
        out.println(status.message());
        List<String> tsv = new ArrayList<>();

        byte[][] blocks = blocks();
        long blockBytes = Arrays.stream(blocks).mapToLong(b -> b.length).sum();
        out.printf(
                Locale.ROOT,
                "%nCompression ratio, %d blocks of NDJSON telemetry, %d bytes on average (limit %d):%n",
                BLOCKS,
                blockBytes / BLOCKS,
                BLOCK_BYTES);
        out.printf(Locale.ROOT, "  %-8s %12s %12s %16s%n", "codec", "FrameCodec", "raw library", "Zstd.compress");
        for (String codec : BLOCK_CODECS) {
            long frame = encodedBytes(codec, "frame");
            long direct = encodedBytes(codec, "raw");
            long simple = 0;
            for (int i = 0; codec.startsWith("zstd") && i < BLOCKS; i++) {
                simple += Zstd.compress(blocks[i], choice(codec).level()).length;
            }
            tsv.add(row("frame " + codec, BLOCKS, blockBytes, frame));
            tsv.add(row("raw " + codec, BLOCKS, blockBytes, direct));
            String simpleText = "";
            if (simple > 0) {
                tsv.add(row("static " + codec, BLOCKS, blockBytes, simple));
                simpleText = String.format(Locale.ROOT, "%15.2fx", (double) blockBytes / simple);
            }
            out.printf(
                    Locale.ROOT,
                    "  %-8s %11.2fx %11.2fx %16s%n",
                    codec,
                    (double) blockBytes / frame,
                    (double) blockBytes / direct,
                    simpleText);
        }

        List<byte[]> events = measuredEvents();
        long eventBytes = events.stream().mapToLong(e -> e.length).sum();
        long t0 = System.nanoTime();
        // Not closed: FrameCodec's thread-local context keeps it loaded, see Events.
        Dictionary dict = trainDictionary();
        long trainMs = (System.nanoTime() - t0) / 1_000_000;
        out.printf(
                Locale.ROOT,
                "%nCompression ratio, %d single events of %d bytes on average, one frame each;"
                        + "%n  dictionary: %d bytes (asked %d), trained in %d ms on %d other events (seed %d vs %d)%n",
                EVENTS,
                eventBytes / EVENTS,
                dict.size(),
                DICT_BYTES,
                trainMs,
                TRAIN_EVENTS,
                TRAIN_SEED,
                EVENT_SEED);
        long none = 0;
        long withDict = 0;
        long lz4 = 0;
        long staticZstd = 0;
        long rawDict = 0;
        try (ZstdCompressCtx ctx = new ZstdCompressCtx()) {
            ctx.setLevel(EVENT_LEVEL);
            ctx.loadDict(dict.bytes());
            for (byte[] e : events) {
                none += FRAMES.encode(e, 0, e.length, Choice.zstd(EVENT_LEVEL, false), null).length;
                withDict += FRAMES.encode(e, 0, e.length, Choice.zstd(EVENT_LEVEL, true), dict).length;
                lz4 += FRAMES.encode(e, 0, e.length, Choice.LZ4_FAST, null).length;
                staticZstd += Zstd.compress(e, EVENT_LEVEL).length;
                rawDict += ctx.compress(e).length;
            }
        }
        tsv.add(row("event none", EVENTS, eventBytes, none));
        tsv.add(row("event 16k", EVENTS, eventBytes, withDict));
        String[] names = {
            "FrameCodec zstd(3), no dictionary",
            "FrameCodec zstd(3), 16 KiB dictionary",
            "FrameCodec LZ4_FAST (reference)",
            "Zstd.compress level 3 (standard frame)",
            "zstd-jni ctx level 3 + dictionary (standard frame)",
        };
        long[] sizes = {none, withDict, lz4, staticZstd, rawDict};
        for (int i = 0; i < names.length; i++) {
            out.printf(
                    Locale.ROOT,
                    "  %-52s %6.2fx  (%.1f bytes/event)%n",
                    names[i],
                    (double) eventBytes / sizes[i],
                    (double) sizes[i] / EVENTS);
        }
        out.printf(Locale.ROOT, "%nSample event: %s%n", new String(events.get(0), StandardCharsets.UTF_8));
        if (args.length > 0) {
            Files.write(Path.of(args[0]), tsv);
        }
    }

    private static long encodedBytes(String codec, String impl) {
        Blocks b = new Blocks();
        b.codec = codec;
        b.impl = impl;
        b.setup();
        b.close();
        return Arrays.stream(b.encoded).mapToLong(e -> e.length).sum();
    }

    private static String row(String key, int items, long uncompressed, long compressed) {
        return String.format(
                Locale.ROOT,
                "%s\t%.4f\t%d\t%d\t%d",
                key,
                (double) uncompressed / compressed,
                uncompressed,
                compressed,
                items);
    }
}

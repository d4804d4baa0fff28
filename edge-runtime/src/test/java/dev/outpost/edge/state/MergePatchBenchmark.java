package dev.outpost.edge.state;

import dev.outpost.store.json.JsonTree;
import dev.outpost.store.json.MergePatch;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * In-process JSON Merge Patch (RFC 7396) throughput, issue #4 point 6 (run with {@code
 * edge-runtime/bench/jmh.sh}).
 *
 * <ul>
 *   <li>{@code parseApplyWrite}: what a {@code PATCH} costs besides HTTP and the log: parse the
 *       stored ~300-byte document, parse a small patch, {@link MergePatch#apply}, write the result.
 *   <li>{@code applyOnly}: {@link MergePatch#apply} on trees parsed in setup.
 * </ul>
 *
 * <p>One op is one patch; the documents and patches cycle over {@link #VARIANTS} seeded variants
 * so no single input is constant-folded.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class MergePatchBenchmark {

    static final int VARIANTS = 64;
    static final int DOC_BYTES_MIN = 270;
    static final int DOC_BYTES_MAX = 330;

    private static final String[] STATES = {"ok", "warn", "idle", "run"};
    private static final String[] DOORS = {"open", "closed", "ajar"};

    /** Stored documents and patches as bytes and as trees. */
    @State(Scope.Thread)
    public static class Inputs {
        byte[][] docs;
        byte[][] patches;
        Object[] docTrees;
        Object[] patchTrees;
        int next;

        @Setup(Level.Trial)
        public void setup() {
            SplittableRandom rnd = new SplittableRandom(42);
            docs = new byte[VARIANTS][];
            patches = new byte[VARIANTS][];
            docTrees = new Object[VARIANTS];
            patchTrees = new Object[VARIANTS];
            for (int i = 0; i < VARIANTS; i++) {
                docs[i] = document(rnd).getBytes(StandardCharsets.UTF_8);
                patches[i] = patch(rnd).getBytes(StandardCharsets.UTF_8);
                if (docs[i].length < DOC_BYTES_MIN || docs[i].length > DOC_BYTES_MAX) {
                    throw new IllegalStateException(
                            "document of " + docs[i].length + " bytes: " + new String(docs[i], StandardCharsets.UTF_8));
                }
                docTrees[i] = JsonTree.parse(docs[i], 0, docs[i].length);
                patchTrees[i] = JsonTree.parse(patches[i], 0, patches[i].length);
                // The patch must change the document, or the benchmark measures a no-op.
                Object merged = MergePatch.apply(docTrees[i], patchTrees[i]);
                if (!(merged instanceof Map<?, ?>) || JsonTree.equal(merged, docTrees[i])) {
                    throw new IllegalStateException("patch " + i + " does not change its document");
                }
            }
        }

        int next() {
            int i = next;
            next = i + 1 == VARIANTS ? 0 : i + 1;
            return i;
        }
    }

    /** A device's state document, ~300 bytes of compact JSON with two nested objects and an array. */
    static String document(SplittableRandom rnd) {
        return String.format(
                Locale.ROOT,
                "{\"device\":\"dev-%04d\",\"site\":\"store-%04d\",\"fw\":\"2.%d.%d\",\"online\":%b,"
                        + "\"config\":{\"interval_s\":%d,\"thresholds\":{\"temp_hi\":%.1f,\"temp_lo\":%.1f},"
                        + "\"tags\":[\"%s\",\"zone-%d\",\"floor-%d\"]},"
                        + "\"status\":{\"state\":\"%s\",\"door\":\"%s\",\"temp\":%.1f,\"hum\":%.1f,\"rpm\":%d,"
                        + "\"volt\":%.1f,\"seen\":%d},\"rev\":%d}",
                rnd.nextInt(10_000),
                rnd.nextInt(10_000),
                rnd.nextInt(3, 6),
                rnd.nextInt(10),
                rnd.nextBoolean(),
                rnd.nextInt(5, 300),
                rnd.nextInt(300, 600) / 10.0,
                rnd.nextInt(-300, 50) / 10.0,
                STATES[rnd.nextInt(STATES.length)],
                rnd.nextInt(1, 40),
                rnd.nextInt(1, 9),
                STATES[rnd.nextInt(STATES.length)],
                DOORS[rnd.nextInt(DOORS.length)],
                rnd.nextInt(-200, 450) / 10.0,
                rnd.nextInt(100, 990) / 10.0,
                rnd.nextInt(0, 6000),
                rnd.nextInt(2100, 2500) / 10.0,
                1_795_410_000_000L + rnd.nextInt(100_000_000),
                rnd.nextInt(1, 1_000));
    }

    /** A small patch: a few status readings, one nested removal or change, one new member. */
    static String patch(SplittableRandom rnd) {
        String config = rnd.nextBoolean()
                ? "\"config\":{\"thresholds\":{\"temp_lo\":null}}"
                : String.format(Locale.ROOT, "\"config\":{\"interval_s\":%d}", rnd.nextInt(5, 300));
        return String.format(
                Locale.ROOT,
                "{\"status\":{\"state\":\"%s\",\"temp\":%.1f,\"seen\":%d},%s,\"ack\":%d}",
                STATES[rnd.nextInt(STATES.length)],
                rnd.nextInt(-200, 450) / 10.0,
                1_795_500_000_000L + rnd.nextInt(100_000_000),
                config,
                rnd.nextInt(1_000_000));
    }

    /** Parse the stored document and the patch, apply, write: the in-process work of one PATCH. */
    @Benchmark
    public byte[] parseApplyWrite(Inputs in) {
        int i = in.next();
        byte[] doc = in.docs[i];
        byte[] patch = in.patches[i];
        Object target = JsonTree.parse(doc, 0, doc.length);
        Object p = JsonTree.parse(patch, 0, patch.length);
        return JsonTree.write(MergePatch.apply(target, p));
    }

    /** {@link MergePatch#apply} alone, on pre-parsed trees (apply never mutates its inputs). */
    @Benchmark
    public Object applyOnly(Inputs in) {
        int i = in.next();
        return MergePatch.apply(in.docTrees[i], in.patchTrees[i]);
    }
}

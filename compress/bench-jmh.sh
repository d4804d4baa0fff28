#!/usr/bin/env bash
# JMH benchmarks of the codecs (compress/src/test/java/dev/outpost/compress/bench/CodecBenchmark.java):
# FrameCodec against raw lz4-java / zstd-jni on 64 KiB blocks of telemetry, and FrameCodec Zstd on
# single ~200-byte events with and without a trained dictionary.
#
# usage: compress/bench-jmh.sh [extra JMH options]
#   e.g. compress/bench-jmh.sh -p codec=lz4,zstd3      only those block codecs
#        BENCH='CodecBenchmark.event.*' compress/bench-jmh.sh
# env:   BENCH (benchmark regex, default: the whole CodecBenchmark), FORKS (1), WI (2), W (1s),
#        MI (3), R (1s), HEAP (512m). Results also go to compress/target/jmh-result.csv and the
#        ratios to compress/target/codec-ratios.tsv.
# Prints the compression ratios first (computed once, not timed), then JMH's output, then a summary:
# MB/s (10^6 bytes of uncompressed input per second), the framing overhead (FrameCodec against the
# raw library at the same codec and level; target <= 15 %) and the dictionary ratio on single
# events (target >= 3x). The default run takes about 3 minutes on 2 cores.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BENCH=${BENCH:-dev.outpost.compress.bench.CodecBenchmark}
FORKS=${FORKS:-1}
WI=${WI:-2}
W=${W:-1s}
MI=${MI:-3}
R=${R:-1s}
HEAP=${HEAP:-512m}

die() { printf 'bench-jmh: %s\n' "$*" >&2; exit 1; }

JAVA_HOME=$("$ROOT/outpost" java-home) || die "Java 25 not found (see the message above)"
export JAVA_HOME

# Compile compress with its tests, which runs the JMH annotation processor, and write its test
# classpath. Offline first; online if something is missing locally.
CP_FILE=compress/target/jmh-classpath.txt
build=(-q -pl compress -am test-compile dependency:build-classpath
  -Dmdep.outputFile=target/jmh-classpath.txt -Dmdep.includeScope=test)
if ! ./mvnw -o "${build[@]}" >/dev/null 2>&1; then
  ./mvnw "${build[@]}" || die "build failed"
fi
[[ -s $CP_FILE ]] || die "$CP_FILE was not written"
[[ -f compress/target/test-classes/META-INF/BenchmarkList ]] || die "no JMH BenchmarkList: the annotation processor did not run"
CP="compress/target/classes:compress/target/test-classes:$(cat "$CP_FILE")"

# The project's JVM flags (pom.xml outpost.jvm.opens), for the forked JVMs.
OPENS=$(sed -n 's:.*<outpost.jvm.opens>\(.*\)</outpost.jvm.opens>.*:\1:p' pom.xml)
[[ -n $OPENS ]] || die "outpost.jvm.opens not found in pom.xml"

# Compression ratios: not a timing, computed once.
RATIOS=compress/target/codec-ratios.tsv
# shellcheck disable=SC2086 # OPENS is a list of flags
"$JAVA_HOME/bin/java" $OPENS -Xmx$HEAP -cp "$CP" dev.outpost.compress.bench.CodecBenchmark "$RATIOS"
echo

CSV=compress/target/jmh-result.csv
"$JAVA_HOME/bin/java" --sun-misc-unsafe-memory-access=allow -Xmx256m -cp "$CP" org.openjdk.jmh.Main "$BENCH" \
  -f "$FORKS" -wi "$WI" -w "$W" -i "$MI" -r "$R" \
  -jvmArgsAppend "$OPENS -Xms$HEAP -Xmx$HEAP" \
  -rf csv -rff "$CSV" "$@"

# Summary. JMH's secondary result "inputBytes" is uncompressed bytes/s; the ratios file has
# "key ratio uncompressed compressed items" lines.
echo
awk -F'\t' -v csv="$CSV" '
function unq(s) { gsub(/^"|"$/, "", s); return s }
function mbs(k) { return (k in bps) ? sprintf("%8.0f", bps[k] / 1e6) : sprintf("%8s", "-") }
function err(k) { return (k in bpsErr) ? sprintf("%6.0f", bpsErr[k] / 1e6) : sprintf("%6s", "") }
function rat(k) { return (k in ratio) ? sprintf("%6.2fx", ratio[k]) : sprintf("%7s", "-") }
# Extra time per byte of FrameCodec (f) against the raw library (r), in percent; tracks the worst.
function over(f, r,   o) {
  if (!(f in bps) || !(r in bps) || bps[f] <= 0) return sprintf("%9s", "-")
  o = (bps[r] / bps[f] - 1) * 100
  if (o > worst) worst = o
  compared++
  return sprintf("%+8.1f%%", o)
}
# Events/s of benchmark k at dictionary d: bytes/s over the average event size.
function eps(k, d) { return (k in bps && ("event " d) in avgIn) ? sprintf("%10.0f", bps[k] / avgIn["event " d]) : sprintf("%10s", "-") }
{ ratio[$1] = $2; avgIn[$1] = $3 / $5; avgOut[$1] = $4 / $5 }
END {
  # The JMH CSV: find the columns by name; the secondary rows are "<benchmark>:inputBytes".
  while ((getline line < csv) > 0) {
    sub(/\r$/, "", line) # JMH writes CRLF
    n = split(line, f, ",")
    if (!header) {
      header = 1
      for (i = 1; i <= n; i++) {
        h = unq(f[i])
        if (h == "Score") cs = i
        if (h ~ /^Score Error/) ce = i
        if (h == "Param: codec") cc = i
        if (h == "Param: dict") cd = i
        if (h == "Param: impl") ci = i
      }
      continue
    }
    name = unq(f[1])
    if (name !~ /:inputBytes$/) continue
    sub(/:inputBytes$/, "", name); sub(/.*\./, "", name)
    p = (cc && unq(f[cc]) != "") ? unq(f[cc]) : (cd ? unq(f[cd]) : "")
    if (ci && unq(f[ci]) != "") p = p " " unq(f[ci])
    bps[name " " p] = f[cs]
    bpsErr[name " " p] = f[ce]
  }
  if (!header) { print "no JMH results in " csv; exit 1 }

  print "64 KiB blocks of NDJSON telemetry: MB/s of uncompressed input (+- JMH 99.9% error); ratio = uncompressed/compressed."
  print "overhead = extra time per byte of FrameCodec against the raw library (lz4-java / zstd-jni ctx) at the same codec and level."
  printf "  %-7s %7s %7s | %8s %6s %8s %6s %9s | %8s %6s %8s %6s %9s\n", "codec", "frame", "raw", \
    "frameEnc", "+-", "rawEnc", "+-", "overhead", "frameDec", "+-", "rawDec", "+-", "overhead"
  nc = split("lz4 lz4hc9 zstd-5 zstd-1 zstd1 zstd3 zstd9", codecs, " ")
  worst = -1e9; compared = 0
  for (i = 1; i <= nc; i++) {
    c = codecs[i]
    printf "  %-7s %7s %7s | %s %s %s %s %s | %s %s %s %s %s\n", c, rat("frame " c), rat("raw " c), \
      mbs("blockEncode " c " frame"), err("blockEncode " c " frame"), \
      mbs("blockEncode " c " raw"), err("blockEncode " c " raw"), \
      over("blockEncode " c " frame", "blockEncode " c " raw"), \
      mbs("blockDecode " c " frame"), err("blockDecode " c " frame"), \
      mbs("blockDecode " c " raw"), err("blockDecode " c " raw"), \
      over("blockDecode " c " frame", "blockDecode " c " raw")
  }
  blockWorst = worst; blockCompared = compared

  print ""
  print "zstd-jni one-call API (Zstd.compress / Zstd.decompress, allocating the result), for reference;"
  print "overhead = FrameCodec against it."
  printf "  %-7s %7s | %8s %6s %9s | %8s %6s %9s\n", "codec", "ratio", "encode", "+-", "overhead", "decode", "+-", "overhead"
  for (i = 5; i <= 6; i++) {
    c = codecs[i]
    printf "  %-7s %7s | %s %s %s | %s %s %s\n", c, rat("static " c), \
      mbs("zstdStaticEncode " c), err("zstdStaticEncode " c), over("blockEncode " c " frame", "zstdStaticEncode " c), \
      mbs("zstdStaticDecode " c), err("zstdStaticDecode " c), over("blockDecode " c " frame", "zstdStaticDecode " c)
  }

  print ""
  print "Single events (one FrameCodec zstd(3) frame per event; MB/s of uncompressed input):"
  printf "  %-10s %7s %9s %9s | %8s %6s %10s | %8s %6s %10s\n", "dictionary", "ratio", "in bytes", "frame B", \
    "encode", "+-", "events/s", "decode", "+-", "events/s"
  split("none 16k", dicts, " ")
  for (i = 1; i <= 2; i++) {
    d = dicts[i]; k = "event " d
    printf "  %-10s %7s %9s %9s | %s %s %s | %s %s %s\n", d, rat(k), \
      (k in avgIn) ? sprintf("%.1f", avgIn[k]) : "-", (k in avgOut) ? sprintf("%.1f", avgOut[k]) : "-", \
      mbs("eventEncode " d), err("eventEncode " d), eps("eventEncode " d, d), \
      mbs("eventDecode " d), err("eventDecode " d), eps("eventDecode " d, d)
  }

  print ""
  print "Targets:"
  if (blockCompared > 0)
    printf "  framing overhead on 64 KiB blocks <= 15%%: worst %+.1f%% of %d encode/decode comparisons -> %s\n", \
      blockWorst, blockCompared, (blockWorst <= 15 ? "MET" : "NOT MET")
  else
    print "  framing overhead on 64 KiB blocks: not measured in this run"
  if ("event 16k" in ratio)
    printf "  dictionary ratio on single events >= 3x: %.2fx -> %s\n", ratio["event 16k"], \
      (ratio["event 16k"] >= 3 ? "MET" : "NOT MET")
}
' "$RATIOS"

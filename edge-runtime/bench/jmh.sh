#!/usr/bin/env bash
# JMH benchmarks of edge-runtime (edge-runtime/src/test/java/dev/outpost/edge/state/MergePatchBenchmark.java:
# in-process JSON Merge Patch, issue #4 point 6).
#
# usage: edge-runtime/bench/jmh.sh [extra JMH options]
#   e.g. BENCH='MergePatchBenchmark.applyOnly' edge-runtime/bench/jmh.sh
#        edge-runtime/bench/jmh.sh -prof gc
# env:   BENCH (benchmark regex, default: the whole MergePatchBenchmark), FORKS (1), WI (2), W (1s),
#        MI (3), R (1s), HEAP (512m). Results also go to edge-runtime/target/jmh-result.csv.
# The default run takes about 20 seconds on 2 cores, plus the build.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

BENCH=${BENCH:-dev.outpost.edge.state.MergePatchBenchmark}
FORKS=${FORKS:-1}
WI=${WI:-2}
W=${W:-1s}
MI=${MI:-3}
R=${R:-1s}
HEAP=${HEAP:-512m}

die() { printf 'jmh: %s\n' "$*" >&2; exit 1; }

JAVA_HOME=$("$ROOT/outpost" java-home) || die "Java 25 not found (see the message above)"
export JAVA_HOME

# Compile edge-runtime (and what it depends on) with its tests, which runs the JMH annotation
# processor, and write edge-runtime's test classpath. Offline first; online if something is missing.
CP_FILE=edge-runtime/target/jmh-classpath.txt
build=(-q -pl edge-runtime -am test-compile dependency:build-classpath
  -Dmdep.outputFile=target/jmh-classpath.txt -Dmdep.includeScope=test)
if ! ./mvnw -o "${build[@]}" >/dev/null 2>&1; then
  ./mvnw "${build[@]}" || die "build failed"
fi
[[ -s $CP_FILE ]] || die "$CP_FILE was not written"
[[ -f edge-runtime/target/test-classes/META-INF/BenchmarkList ]] \
  || die "no JMH BenchmarkList: the annotation processor did not run"
CP="edge-runtime/target/classes:edge-runtime/target/test-classes:$(cat "$CP_FILE")"

# The JVM flags the project runs with (pom.xml outpost.jvm.opens), for the forked JVMs.
OPENS=$(sed -n 's:.*<outpost.jvm.opens>\(.*\)</outpost.jvm.opens>.*:\1:p' pom.xml)
[[ -n $OPENS ]] || die "outpost.jvm.opens not found in pom.xml"

CSV=edge-runtime/target/jmh-result.csv
"$JAVA_HOME/bin/java" -Xmx256m -cp "$CP" org.openjdk.jmh.Main "$BENCH" \
  -f "$FORKS" -wi "$WI" -w "$W" -i "$MI" -r "$R" \
  -jvmArgsAppend "$OPENS -Xms$HEAP -Xmx$HEAP" \
  -foe true -rf csv -rff "$CSV" "$@"

# ops/s and microseconds per op (one op = one patch applied).
echo
echo "Operations per second (one op: a merge patch applied, or an event evaluated):"
awk -F, 'NR > 1 {
  gsub(/"/, "");
  name = $1; sub(/.*\./, "", name);
  if ($2 != "thrpt") next;
  printf "  %-18s %12.0f ops/s (+- %.0f)  %8.2f us/op\n", name, $5, $6, ($5 > 0 ? 1e6 / $5 : 0)
}' "$CSV"

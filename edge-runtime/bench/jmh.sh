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

# shellcheck source=test-classpath.sh
source edge-runtime/bench/test-classpath.sh
[[ -f edge-runtime/target/test-classes/META-INF/BenchmarkList ]] \
  || die "no JMH BenchmarkList: the annotation processor did not run"

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

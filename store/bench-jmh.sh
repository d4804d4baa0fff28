#!/usr/bin/env bash
# JMH benchmarks of the event log (store/src/test/java/dev/outpost/store/bench/EventLogBenchmark.java).
#
# usage: store/bench-jmh.sh [extra JMH options]
#   e.g. store/bench-jmh.sh -p durability=os          only OS durability
#        BENCH='EventLogBenchmark.read.*' store/bench-jmh.sh
# env:   BENCH (benchmark regex, default: the whole EventLogBenchmark), FORKS (1), WI (3), W (2s),
#        MI (5), R (2s), HEAP (1g). Results also go to store/target/jmh-result.csv.
# The default run takes about 2 minutes on 2 cores.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BENCH=${BENCH:-dev.outpost.store.bench.EventLogBenchmark}
FORKS=${FORKS:-1}
WI=${WI:-3}
W=${W:-2s}
MI=${MI:-5}
R=${R:-2s}
HEAP=${HEAP:-1g}

die() { printf 'bench-jmh: %s\n' "$*" >&2; exit 1; }

JAVA_HOME=$("$ROOT/outpost" java-home) || die "Java 25 not found (see the message above)"
export JAVA_HOME

# Compile store (and what it depends on) with its tests, which runs the JMH annotation processor,
# and write store's test classpath. Offline first; online if something is missing locally.
CP_FILE=store/target/jmh-classpath.txt
build=(-q -pl store -am test-compile dependency:build-classpath
  -Dmdep.outputFile=target/jmh-classpath.txt -Dmdep.includeScope=test)
if ! ./mvnw -o "${build[@]}" >/dev/null 2>&1; then
  ./mvnw "${build[@]}" || die "build failed"
fi
[[ -s $CP_FILE ]] || die "$CP_FILE was not written"
[[ -f store/target/test-classes/META-INF/BenchmarkList ]] || die "no JMH BenchmarkList: the annotation processor did not run"
CP="store/target/classes:store/target/test-classes:$(cat "$CP_FILE")"

# The JVM flags the project runs Chronicle with (pom.xml outpost.jvm.opens), for the forked JVMs.
OPENS=$(sed -n 's:.*<outpost.jvm.opens>\(.*\)</outpost.jvm.opens>.*:\1:p' pom.xml)
[[ -n $OPENS ]] || die "outpost.jvm.opens not found in pom.xml"

CSV=store/target/jmh-result.csv
"$JAVA_HOME/bin/java" -Xmx256m -cp "$CP" org.openjdk.jmh.Main "$BENCH" \
  -f "$FORKS" -wi "$WI" -w "$W" -i "$MI" -r "$R" \
  -jvmArgsAppend "$OPENS -Xms$HEAP -Xmx$HEAP" \
  -rf csv -rff "$CSV" "$@"

# Events/s per benchmark (appendBatch100 scores appends of 100 events).
echo
echo "Events per second:"
awk -F, 'NR > 1 {
  gsub(/"/, "");
  name = $1; sub(/.*\./, "", name);
  param = (NF >= 8 && $8 != "") ? " durability=" $8 : "";
  mult = (name ~ /Batch100$/) ? 100 : 1;
  printf "  %-16s%-18s %14.0f events/s (+- %.0f)\n", name, param, $5 * mult, $6 * mult
}' "$CSV"

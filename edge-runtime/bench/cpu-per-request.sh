#!/usr/bin/env bash
# CPU per request: starts a fresh agent from TREE (a checkout with edge-runtime/target/outpost.jar
# built), drives it with the load generator of LOADGEN_TREE (default: this checkout) for WARMUP +
# DURATION seconds, and prints the rate and the agent's CPU time per request (utime + stime of its
# JVM from /proc, so the load generator's share of the two cores does not blur it).
# Interleave two trees to compare them (docs/BENCHMARKS.md, issue #11):
#   for i in 1 2 3 4; do for t in /tmp/before /tmp/after; do
#     edge-runtime/bench/cpu-per-request.sh $t single; done; done
#
# usage: edge-runtime/bench/cpu-per-request.sh TREE MODE   (MODE: single | batch | state-get)
# env:   DURATION (20), WARMUP (3), CONNECTIONS (50), PORT (17071), JFR=1 to record a profile of 12 s
#        in the middle of the run into ./cpu-TREE-MODE.jfr (settings=profile, 2 ms sampling),
#        DURABILITY (os) the agent's log.durability, BATCH (10) events per NDJSON request in mode
#        batch (the CPU is then per event). With fsync it also prints the events per fsync.
set -euo pipefail
TREE=$(cd "$1" && pwd); MODE=$2
[[ $MODE == single || $MODE == batch || $MODE == state-get ]] || { echo "MODE must be single, batch or state-get" >&2; exit 2; }
DURATION=${DURATION:-20}; WARMUP=${WARMUP:-3}; CONNECTIONS=${CONNECTIONS:-50}; PORT=${PORT:-17071}
DURABILITY=${DURABILITY:-os}; BATCH=${BATCH:-10}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOADGEN_TREE=$(cd "${LOADGEN_TREE:-$ROOT}" && pwd)
JAVA_HOME=$("$ROOT/outpost" java-home)
export JAVA_HOME
D=$(mktemp -d "${TMPDIR:-/tmp}/outpost-cpu.XXXXXX")
LP=""
cleanup() { [[ -n $LP ]] && { kill -TERM -- "-$LP" 2>/dev/null || true; wait "$LP" 2>/dev/null || true; }; rm -rf "$D"; }
trap cleanup EXIT
cat >"$D/outpost.yaml" <<Y
data:
  dir: $D/data
http:
  host: 127.0.0.1
  port: $PORT
log:
  durability: $DURABILITY
budget:
  disk: 32GiB
Y
(cd "$TREE" && OUTPOST_SKIP_BUILD=1 exec setsid ./outpost run --config "$D/outpost.yaml" >"$D/agent.log" 2>&1) &
LP=$!
deadline=$((SECONDS + 60))
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do
  ((SECONDS < deadline)) || { echo "agent not healthy after 60 s" >&2; tail "$D/agent.log" >&2; exit 1; }
  sleep 0.2
done
JPID=""
for p in $(pgrep -f "run --config $D/outpost.yaml"); do [[ $(cat "/proc/$p/comm") == java ]] && JPID=$p; done
[[ -n $JPID ]] || { echo "agent JVM not found" >&2; exit 1; }
URL=http://127.0.0.1:$PORT/v1/events
[[ $MODE == state-get ]] && URL=http://127.0.0.1:$PORT/v1/state/bench
if [[ ${JFR:-0} == 1 ]]; then
  (sleep $((WARMUP + DURATION / 4)); "$JAVA_HOME/bin/jcmd" "$JPID" JFR.start name=cpu settings=profile \
    'jdk.ExecutionSample#period=2ms' duration=12s "filename=$PWD/cpu-$(basename "$TREE")-$MODE.jfr" >/dev/null) &
fi
T0=$(awk '{print $14 + $15}' "/proc/$JPID/stat")
OUT=$("$JAVA_HOME/bin/java" -XX:+UseSerialGC -Xmx256m -cp "$LOADGEN_TREE/edge-runtime/target/outpost.jar:$LOADGEN_TREE/edge-runtime/target/lib/*" \
  dev.outpost.edge.loadgen.LoadGenerator --duration-seconds "$DURATION" --warmup-seconds "$WARMUP" --event-bytes 200 \
  --label "$(basename "$TREE")-$MODE" --url "$URL" --mode "$MODE" --documents 1000 --connections "$CONNECTIONS" \
  --batch "$BATCH" --expect-status 200)
T1=$(awk '{print $14 + $15}' "/proc/$JPID/stat")
EPS=$(sed -n 's/.*events_per_s=\([0-9]*\).*/\1/p' <<<"$OUT")
TICK=$(getconf CLK_TCK)
# The CPU window covers warm-up and measurement; the rate is the measured one.
PER=request
[[ $MODE == batch ]] && PER=event
FSYNC=""
if [[ $DURABILITY == fsync ]]; then
  FSYNC=$(curl -fsS "http://127.0.0.1:$PORT/metrics" | awk '
    $1 == "outpost_ingest_events_total" { ev = $2 } $1 == "outpost_log_fsyncs_total" { fs = $2 }
    END { if (fs > 0) printf " events_per_fsync=%.1f", ev / fs }')
fi
echo "$(basename "$TREE") $MODE durability=$DURABILITY events_per_s=$EPS agent_cpu_us_per_$PER=$(awk -v t="$((T1 - T0))" -v k="$TICK" -v n="$((EPS * (WARMUP + DURATION)))" 'BEGIN { printf "%.1f", t * 1e6 / k / n }')$FSYNC"
echo "  $OUT"

#!/usr/bin/env bash
# Live subscriptions benchmark (issue #13 point 6): SSE and WebSocket subscribers on one agent.
#
# usage: edge-runtime/bench/live-bench.sh
# env:   SSE (1000) and WS (1000) subscribers for runs b and c, IDLE (10000) idle subscribers for run d
#        (half SSE, half WebSocket), RATE_EVENTS (2000) events per second for run c, DURATION (15),
#        WARMUP (3), BUFFER_BYTES (8KiB: live.buffer_bytes_max), BUSY_SEND (32MiB:
#        live.busy_send_bytes_per_second_max), BUSY_CPU (0: live.busy_send_cpu_percent_max), BATCH (100), BATCH_CONNECTIONS (8), EVENT_BYTES (200), AGENT_PORT (17071),
#        RUNS ("a b c d"), LOADGEN_JAVA_OPTS (extra JVM options of the load generator, e.g. JFR):
#        a  plain NDJSON batch ingest, as fast as it goes, no subscribers (the reference)
#        b  the same with SSE + WS subscribers each receiving every event (throughput ratio b/a)
#        c  SSE + WS subscribers, ingest paced at RATE_EVENTS: delivery latency append -> receipt,
#           and the agent's RSS with them against without
#        d  IDLE subscribers held on a quiet stream: the agent's RSS
# Prints the load generator's summary lines and the agent's RSS at each point.
set -euo pipefail

SSE=${SSE:-1000}
WS=${WS:-1000}
IDLE=${IDLE:-10000}
RATE_EVENTS=${RATE_EVENTS:-2000}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
BATCH=${BATCH:-100}
BATCH_CONNECTIONS=${BATCH_CONNECTIONS:-8}
EVENT_BYTES=${EVENT_BYTES:-200}
AGENT_PORT=${AGENT_PORT:-17071}
RUNS=${RUNS:-a b c d}
HOST=127.0.0.1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
log() { printf '[live-bench] %s\n' "$*" >&2; }
die() { printf '[live-bench] ERROR: %s\n' "$*" >&2; exit 1; }

JAVA_HOME=$("$ROOT/outpost" java-home) || die "Java 25 not found"
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-live-bench.XXXXXX")
AGENT_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $AGENT_PID ]]; then
    kill -TERM -- "-$AGENT_PID" 2>/dev/null || true
    sleep 1
    kill -KILL -- "-$AGENT_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -s $TMP/agent.log ]]; then tail -n 20 "$TMP/agent.log" >&2; fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

JAR=edge-runtime/target/outpost.jar
if [[ ! -f $JAR || -n $(find . -path ./.git -prune -o -path '*/target' -prune -o -name '*.java' -newer "$JAR" -print -quit) ]]; then
  log "building (./mvnw -q -DskipTests package)"
  ./mvnw -q -DskipTests package
  touch "$JAR"
fi
CP="$JAR:edge-runtime/target/lib/*"

mkdir -p "$TMP/agent"
cat >"$TMP/agent/outpost.yaml" <<YAML
data:
  dir: $TMP/agent/data
http:
  host: $HOST
  port: $AGENT_PORT
budget:
  disk: 32GiB
  connections: $((IDLE + 2000))
live:
  subscribers_max: $((IDLE + 1000))
  buffer_bytes_max: ${BUFFER_BYTES:-8KiB}
  buffer_messages_max: 1000
  busy_send_bytes_per_second_max: ${BUSY_SEND:-32MiB}
  busy_send_cpu_percent_max: ${BUSY_CPU:-0}
YAML
OUTPOST_SKIP_BUILD=1 setsid ./outpost run --config "$TMP/agent/outpost.yaml" </dev/null >"$TMP/agent.log" 2>&1 &
AGENT_PID=$!
deadline=$((SECONDS + 60))
until curl -sf --max-time 2 "http://$HOST:$AGENT_PORT/health" >/dev/null 2>&1; do
  kill -0 "$AGENT_PID" 2>/dev/null || die "agent exited during startup"
  ((SECONDS < deadline)) || die "agent not healthy after 60 s"
  sleep 0.25
done
JPID=$AGENT_PID
for p in $(ps -o pid= -g "$AGENT_PID"); do
  if [[ $(cat "/proc/$p/comm" 2>/dev/null) == java ]]; then JPID=$p; fi
done
rss_mib() { echo $(( $(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$JPID/status") / 1024 )); }
log "agent pid $JPID, RSS $(rss_mib) MiB"

agent_cpu_s() { # the agent's CPU seconds so far (user + system)
  awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/$JPID/stat"
}
TIMEFORMAT='[live-bench] load generator CPU: user %U s, system %S s, wall %R s'
loadgen() {
  local before
  before=$(agent_cpu_s)
  time loadgen_run "$@"
  log "agent CPU over the run (warm-up included): $(awk -v a="$before" -v b="$(agent_cpu_s)" 'BEGIN { printf "%.1f", b - a }') s"
}
loadgen_run() {
  "$JAVA" -XX:+UseSerialGC -Xms64m -Xmx1g ${LOADGEN_JAVA_OPTS:-} -cp "$CP" dev.outpost.edge.loadgen.LoadGenerator \
    --url "http://$HOST:$AGENT_PORT/v1/events" --mode batch --batch "$BATCH" --event-bytes "$EVENT_BYTES" \
    --warmup-seconds "$WARMUP" "$@"
}
want() { [[ " $RUNS " == *" $1 "* ]]; }
live_metrics() { # the agent's live counters so far (events sent, skipped, gap messages, cut)
  curl -sf "http://$HOST:$AGENT_PORT/metrics" | grep -E '^outpost_live_(messages_total|skipped_events_total|gaps_total|overflow_disconnects_total|framing_refused_total|probes_total|probes_found_total) ' \
    | tr '\n' ' ' | sed 's/outpost_live_//g' || true
}
rss_later() { # $1 = seconds from now, $2 = what is held: prints the agent's RSS then (pid in RSS_JOB)
  # base: after the warm-up; before: right before this run (runs a and b before it grow the heap for their load)
  local before
  before=$(rss_mib)
  ( sleep "$1"; log "RSS with $2: $(rss_mib) MiB (base $RSS_BASE, before this run $before)" ) &
  RSS_JOB=$!
}

# Warm the agent's paths once (not measured).
loadgen --label warm --connections "$BATCH_CONNECTIONS" --duration-seconds 5 --stream warm >/dev/null || true
RSS_BASE=$(rss_mib)
log "RSS after warm-up, no subscribers: $RSS_BASE MiB"

if want a; then
  loadgen --label plain --connections "$BATCH_CONNECTIONS" --duration-seconds "$DURATION" --stream bench-a
fi
if want b; then
  loadgen --label with-subscribers --connections "$BATCH_CONNECTIONS" --duration-seconds "$DURATION" \
    --stream bench-b --sse-subscribers "$SSE" --ws-subscribers "$WS"
  log "after b: $(live_metrics)"
fi
if want c; then
  rss_later $((WARMUP + DURATION / 2)) "$((SSE + WS)) subscribers, paced"
  loadgen --label paced --connections 2 --duration-seconds "$DURATION" --stream bench-c \
    --rate "$(( RATE_EVENTS / BATCH ))" --sse-subscribers "$SSE" --ws-subscribers "$WS"
  wait "$RSS_JOB"
  log "after c: $(live_metrics)"
fi
if want d; then
  rss_later $((WARMUP + DURATION / 2)) "$IDLE idle subscribers"
  loadgen --label idle --connections 1 --duration-seconds "$DURATION" --stream bench-d --batch 1 --rate 0.5 \
    --sse-subscribers "$((IDLE / 2))" --ws-subscribers "$((IDLE / 2))" || true
  wait "$RSS_JOB"
fi

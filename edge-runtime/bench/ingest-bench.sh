#!/usr/bin/env bash
# Ingest benchmark: the HTTP floor (a private nginx answering 204) against the Outpost agent
# (single JSON events, NDJSON batches, fsync durability), and state documents (GET, PUT), all on
# 127.0.0.1 and nothing else.
#
# usage: edge-runtime/bench/ingest-bench.sh
# env:   DURATION (15) measured seconds per run, WARMUP (3), CONNECTIONS (50) for single-event
#        runs, BATCH_CONNECTIONS (8), BATCH (100) events per NDJSON request, EVENT_BYTES (200),
#        AGENT_EXPECT_STATUS (200), FORCE_BUILD=1 to rebuild, KEEP_TMP=1 to keep the temp dir,
#        EXTRA_CONFIG: a YAML file appended to the agent's configuration (e.g. the engine's rules
#        and rollups, edge-runtime/bench/engine-load.yaml),
#        FAST_PATH (true): the agent's http.fast_path (false: every request through the router),
#        NGINX_PORT (18080), AGENT_PORT (17070), DOCUMENTS (1000) state documents for runs e and f,
#        RUNS ("a b c d") to pick runs:
#        a nginx single, b agent single, c agent NDJSON, d agent single with fsync durability,
#        e agent state GET (durability os; the generator first PUTs the DOCUMENTS documents),
#        f agent state PUT with fsync durability, g agent NDJSON batches of FSYNC_BATCH (10) with
#        fsync durability on CONNECTIONS connections. e and f use CONNECTIONS connections and
#        EVENT_BYTES-byte documents, namespace "bench", ids d-0 .. d-(DOCUMENTS-1). Runs d and g
#        also print the events per fsync over the run (warm-up included), from /metrics.
#
# Prints the load generator's summary lines, the agent's peak RSS, and a markdown table for
# docs/BENCHMARKS.md. Everything it starts is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail

DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-50}
BATCH_CONNECTIONS=${BATCH_CONNECTIONS:-8}
BATCH=${BATCH:-100}
EVENT_BYTES=${EVENT_BYTES:-200}
AGENT_EXPECT_STATUS=${AGENT_EXPECT_STATUS:-200}
NGINX_PORT=${NGINX_PORT:-18080}
AGENT_PORT=${AGENT_PORT:-17070}
DOCUMENTS=${DOCUMENTS:-1000}
FSYNC_BATCH=${FSYNC_BATCH:-10}
RUNS=${RUNS:-a b c d}
FAST_PATH=${FAST_PATH:-true}
HOST=127.0.0.1 # never anything else

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

for v in DURATION WARMUP CONNECTIONS BATCH_CONNECTIONS BATCH FSYNC_BATCH EVENT_BYTES AGENT_EXPECT_STATUS NGINX_PORT AGENT_PORT DOCUMENTS; do
  [[ ${!v} =~ ^[0-9]+([.][0-9]+)?$ ]] || die "$v must be a number, not '${!v}'"
done
[[ $FAST_PATH =~ ^(true|false)$ ]] || die "FAST_PATH must be true or false, not '$FAST_PATH'"
[[ $RUNS =~ ^[abcdefg\ ]+$ ]] || die "RUNS must list runs among a b c d e f g, not '$RUNS'"

# --- Java 25, found the way the launcher finds it ----------------------------------------------
JAVA_HOME=$("$ROOT/outpost" java-home) || die "Java 25 not found (see the message above)"
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
log "java: $JAVA"

# --- temp dir and cleanup ----------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-bench.XXXXXX")
NGINX_PID=""
AGENT_PID=""

stop_group() { # stop the process group led by $1 (started with setsid), TERM then KILL
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_group "$AGENT_PID"
  stop_group "$NGINX_PID"
  if [[ $rc -ne 0 ]]; then
    for f in "$TMP"/agent-*.log "$TMP"/nginx/error.log; do
      [[ -s $f ]] && { log "last lines of $f:"; tail -n 20 "$f" >&2; }
    done
  fi
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# --- nginx, private instance -------------------------------------------------------------------
if ! command -v nginx >/dev/null 2>&1; then
  [[ $(id -u) -eq 0 ]] || die "nginx is not installed and installing it needs root (apt-get install nginx)"
  log "installing nginx"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi
NGINX=$(command -v nginx)
port_in_use "$NGINX_PORT" && die "$HOST:$NGINX_PORT is already in use"
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_max_body_size 2m;
  client_body_buffer_size 2m;
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  server {
    listen $HOST:$NGINX_PORT;
    location / { return 204; }
  }
}
EOF
NGINX_ERR_FLAG=()
"$NGINX" -h 2>&1 | grep -q -- '-e filename' && NGINX_ERR_FLAG=(-e "$TMP/nginx/error.log")
setsid "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" "${NGINX_ERR_FLAG[@]}" </dev/null >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
for i in $(seq 1 100); do
  port_in_use "$NGINX_PORT" && break
  kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$TMP/nginx/stdout.log" "$TMP/nginx/error.log" 2>/dev/null)"
  sleep 0.1
done
port_in_use "$NGINX_PORT" || die "nginx did not start listening on $HOST:$NGINX_PORT"
NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
log "nginx ($NGINX_VERSION) on $HOST:$NGINX_PORT, pid $NGINX_PID"

# --- build if needed ---------------------------------------------------------------------------
JAR=edge-runtime/target/outpost.jar
if [[ ${FORCE_BUILD:-0} == 1 || ! -f $JAR || ! -d edge-runtime/target/lib ]] \
  || [[ -n $(find . -path ./.git -prune -o -path '*/target' -prune -o \( -name '*.java' -o -name pom.xml -o -path '*/src/main/resources/*' \) -newer "$JAR" -print -quit) ]]; then
  log "building (./mvnw -q -DskipTests package)"
  ./mvnw -q -DskipTests package
  # The jar plugin leaves an unchanged jar as it was; mark it built so a test-only change does not
  # trigger a rebuild on every run.
  touch "$JAR"
fi
[[ -f $JAR ]] || die "$JAR missing after the build"
CP="$JAR:edge-runtime/target/lib/*"

# --- agent -------------------------------------------------------------------------------------
OPENS=$(sed -n 's:.*<outpost.jvm.opens>\(.*\)</outpost.jvm.opens>.*:\1:p' pom.xml)

start_agent() { # $1 = durability; sets AGENT_PID
  local durability=$1 dir="$TMP/agent-$1"
  mkdir -p "$dir"
  cat >"$dir/outpost.yaml" <<EOF
data:
  dir: $dir/data
http:
  host: $HOST
  port: $AGENT_PORT
  fast_path: $FAST_PATH
log:
  durability: $durability
budget:
  # Retention (which would free old log cycles) is not in yet: a roomy disk budget keeps shedding
  # out of throughput runs. Memory stays at its default (512MiB), so RSS is measured against it.
  disk: ${BENCH_DISK_BUDGET:-32GiB}
EOF
  if [[ -n ${EXTRA_CONFIG:-} ]]; then
    cat "$EXTRA_CONFIG" >>"$dir/outpost.yaml"
  fi
  port_in_use "$AGENT_PORT" && die "$HOST:$AGENT_PORT is already in use"
  if [[ -x ./outpost ]]; then
    OUTPOST_SKIP_BUILD=1 setsid ./outpost run --config "$dir/outpost.yaml" </dev/null >"$TMP/agent-$durability.log" 2>&1 &
  else
    log "no ./outpost launcher; starting the jar directly"
    # shellcheck disable=SC2086
    setsid "$JAVA" $OPENS -cp "$CP" dev.outpost.edge.Main run --config "$dir/outpost.yaml" \
      </dev/null >"$TMP/agent-$durability.log" 2>&1 &
  fi
  AGENT_PID=$!
  local deadline=$((SECONDS + 60))
  until curl -sf --max-time 2 "http://$HOST:$AGENT_PORT/health" >/dev/null 2>&1; do
    kill -0 "$AGENT_PID" 2>/dev/null || die "agent ($durability) exited during startup"
    ((SECONDS < deadline)) || die "agent ($durability) not healthy on $HOST:$AGENT_PORT after 60 s"
    sleep 0.25
  done
  log "agent (durability $durability) healthy, pid $AGENT_PID"
}

jvm_pid() { # the java process in the group led by $1 (the launcher may be a shell that forks)
  local pid=$1 p
  if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == java ]]; then echo "$pid"; return; fi
  for p in $(ps -o pid= -g "$pid" 2>/dev/null); do
    if [[ $(cat "/proc/$p/comm" 2>/dev/null) == java ]]; then echo "$p"; return; fi
  done
  echo "$pid"
}
status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status" 2>/dev/null || true; }

stop_agent() {
  stop_group "$AGENT_PID"
  AGENT_PID=""
}

# --- load --------------------------------------------------------------------------------------
SUMMARIES=()
loadgen() { # args for the generator; appends its summary line to SUMMARIES
  local out rc=0
  # shellcheck disable=SC2086
  out=$("$JAVA" -XX:+UseSerialGC -Xms64m -Xmx256m -cp "$CP" dev.outpost.edge.loadgen.LoadGenerator \
    --duration-seconds "$DURATION" --warmup-seconds "$WARMUP" --event-bytes "$EVENT_BYTES" "$@") || rc=$?
  [[ -n $out ]] || die "load generator failed (exit $rc) for: $*"
  [[ $rc -eq 0 ]] || log "load generator exit $rc (errors counted in the summary)"
  echo "$out"
  SUMMARIES+=("$out")
}

want() { [[ " $RUNS " == *" $1 "* ]]; }
RSS_START_OS="" RSS_END_OS="" HWM_OS="" HWM_FSYNC=""

if want a; then
  log "run a: nginx 204, single events, $CONNECTIONS connections"
  loadgen --label nginx-204 --url "http://$HOST:$NGINX_PORT/v1/events" --mode single \
    --connections "$CONNECTIONS" --expect-status 204
fi

if want b || want c || want e; then
  start_agent os
  JVM=$(jvm_pid "$AGENT_PID")
  RSS_START_OS=$(status_kb "$JVM" VmRSS)
  if want b; then
    log "run b: agent (os), single events, $CONNECTIONS connections"
    loadgen --label agent-os-single --url "http://$HOST:$AGENT_PORT/v1/events" --mode single \
      --connections "$CONNECTIONS" --expect-status "$AGENT_EXPECT_STATUS"
  fi
  if want c; then
    log "run c: agent (os), NDJSON batches of $BATCH, $BATCH_CONNECTIONS connections"
    loadgen --label agent-os-ndjson --url "http://$HOST:$AGENT_PORT/v1/events" --mode batch --batch "$BATCH" \
      --connections "$BATCH_CONNECTIONS" --expect-status "$AGENT_EXPECT_STATUS"
  fi
  if want e; then
    log "run e: agent (os), state GET of $DOCUMENTS documents, $CONNECTIONS connections"
    loadgen --label agent-os-state-get --url "http://$HOST:$AGENT_PORT/v1/state/bench" --mode state-get \
      --documents "$DOCUMENTS" --connections "$CONNECTIONS" --expect-status 200
  fi
  HWM_OS=$(status_kb "$JVM" VmHWM)
  RSS_END_OS=$(status_kb "$JVM" VmRSS)
  if [[ -n ${EXTRA_CONFIG:-} ]]; then # the engine's own cost, from its thread's CPU time
    curl -fsS "http://$HOST:$AGENT_PORT/metrics" | awk '
      $1 == "outpost_engine_cpu_milliseconds_total" { cpu = $2 }
      $1 == "outpost_engine_events_total" { ev = $2 }
      $1 == "outpost_engine_lag_events" { lag = $2 }
      END { if (ev > 0) printf "engine: events=%d lag_events=%d cpu_ms=%d cpu_us_per_event=%.2f\n", ev, lag, cpu, cpu * 1000 / ev }'
    # With ingest quiet, how long the engine takes to catch up (it yields to ingest: engine.thread_nice).
    caught_up_start=$(date +%s%N) lag=1
    for _ in $(seq 1 600); do
      lag=$(curl -fsS "http://$HOST:$AGENT_PORT/metrics" | awk '$1 == "outpost_engine_lag_events" { print int($2) }')
      [[ $lag -eq 0 ]] && break
      sleep 0.2
    done
    printf 'engine: caught up %s in %.1f s after the load stopped\n' "$([[ $lag -eq 0 ]] && echo fully || echo "NOT ($lag behind)")" \
      "$(( ($(date +%s%N) - caught_up_start) / 1000000 ))e-3"
  fi
  stop_agent
fi

fsync_counts() { # "events fsyncs" from the agent's metrics
  curl -fsS "http://$HOST:$AGENT_PORT/metrics" | awk '
    $1 == "outpost_ingest_events_total" { ev = $2 } $1 == "outpost_log_fsyncs_total" { fs = $2 }
    END { printf "%d %d\n", ev, fs }'
}
per_fsync() { # $1 label, $2 counts before: prints the events per fsync since
  local before=($2) after
  after=($(fsync_counts))
  local ev=$((after[0] - before[0])) fs=$((after[1] - before[1]))
  echo "$1: events=$ev fsyncs=$fs events_per_fsync=$(awk -v e="$ev" -v f="$fs" 'BEGIN { printf "%.1f", (f > 0 ? e / f : 0) }')"
}

if want d || want f || want g; then
  start_agent fsync
  JVM=$(jvm_pid "$AGENT_PID")
  if want d; then
    log "run d: agent (fsync), single events, $CONNECTIONS connections"
    counts=$(fsync_counts)
    loadgen --label agent-fsync-single --url "http://$HOST:$AGENT_PORT/v1/events" --mode single \
      --connections "$CONNECTIONS" --expect-status "$AGENT_EXPECT_STATUS"
    per_fsync agent-fsync-single "$counts"
  fi
  if want g; then
    log "run g: agent (fsync), NDJSON batches of $FSYNC_BATCH, $CONNECTIONS connections"
    counts=$(fsync_counts)
    loadgen --label agent-fsync-ndjson --url "http://$HOST:$AGENT_PORT/v1/events" --mode batch \
      --batch "$FSYNC_BATCH" --connections "$CONNECTIONS" --expect-status "$AGENT_EXPECT_STATUS"
    per_fsync agent-fsync-ndjson "$counts"
  fi
  if want f; then
    # 200 (replaced) and 201 (created) both count.
    log "run f: agent (fsync), state PUT over $DOCUMENTS documents, $CONNECTIONS connections"
    loadgen --label agent-fsync-state-put --url "http://$HOST:$AGENT_PORT/v1/state/bench" --mode state-put \
      --documents "$DOCUMENTS" --connections "$CONNECTIONS"
  fi
  HWM_FSYNC=$(status_kb "$JVM" VmHWM)
  stop_agent
fi

# --- report ------------------------------------------------------------------------------------
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
mib() { [[ -n $1 ]] && awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }' || echo "?"; }

echo
echo "== summaries"
printf '%s\n' "${SUMMARIES[@]}"
echo
echo "== agent memory"
echo "agent_os: rss_at_start_mib=$(mib "$RSS_START_OS") rss_at_end_mib=$(mib "$RSS_END_OS") peak_rss_vmhwm_mib=$(mib "$HWM_OS")"
echo "agent_fsync: peak_rss_vmhwm_mib=$(mib "$HWM_FSYNC")"
echo
echo "== markdown (docs/BENCHMARKS.md)"
echo
echo "Ingest on $(nproc) cores ($(uname -m), $(uname -r)), $(date -u +%Y-%m-%d), JDK $("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.runtime\.version = //p'), $NGINX_VERSION."
STATE_NOTE=""
if want e || want f; then
  STATE_NOTE=" State runs: ${EVENT_BYTES}-byte documents, ids d-0 .. d-$((DOCUMENTS - 1)), one document per request."
fi
echo "Load generator on the same box over loopback: ${EVENT_BYTES}-byte events, ${WARMUP} s warm-up, ${DURATION} s measured.$STATE_NOTE"
echo
echo "| Run | Mode | Conns | Events/req | Events/s | Req/s | p50 ms | p99 ms | p99.9 ms | Errors |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for s in "${SUMMARIES[@]}"; do
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$(kv "$s" label)" "$(kv "$s" mode)" "$(kv "$s" connections)" "$(kv "$s" batch)" \
    "$(kv "$s" events_per_s)" "$(kv "$s" requests_per_s)" "$(kv "$s" p50_ms)" "$(kv "$s" p99_ms)" \
    "$(kv "$s" p999_ms)" "$(kv "$s" errors)"
done
echo
echo "Agent peak RSS (VmHWM): $(mib "$HWM_OS") MiB with durability os (runs b, c, e), $(mib "$HWM_FSYNC") MiB with fsync (runs d, f, g); RSS after start $(mib "$RSS_START_OS") MiB."

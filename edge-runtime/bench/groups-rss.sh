#!/usr/bin/env bash
# Engine memory with many live groups (issue #12 point 8): one agent at its default budget
# (budget.memory 512MiB) with a rule holding an anomaly detector grouped by the event key and a
# rollup grouped by the same key, fed KEYS distinct keys, EVENTS_PER_GROUP events each. Prints
# the agent's RSS before and after (VmRSS, VmHWM), the detector groups and rollup groups in
# memory from /metrics, and the budget, as a markdown row for docs/BENCHMARKS.md.
#
# usage: edge-runtime/bench/groups-rss.sh
# env:   KEYS (100000), EVENTS_PER_GROUP (3), BATCH (1000) events per NDJSON request,
#        AGENT_PORT (17071), KEEP_TMP=1 to keep the temp dir.
set -euo pipefail

KEYS=${KEYS:-100000}
EVENTS_PER_GROUP=${EVENTS_PER_GROUP:-3}
BATCH=${BATCH:-1000}
AGENT_PORT=${AGENT_PORT:-17071}
HOST=127.0.0.1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
log() { printf '[groups-rss] %s\n' "$*" >&2; }
die() { printf '[groups-rss] ERROR: %s\n' "$*" >&2; exit 1; }
for v in KEYS EVENTS_PER_GROUP BATCH AGENT_PORT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-groups.XXXXXX")
AGENT_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $AGENT_PID ]] && kill -0 "$AGENT_PID" 2>/dev/null; then
    kill -TERM -- "-$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
  fi
  [[ $rc -ne 0 && -s $TMP/agent.log ]] && tail -n 20 "$TMP/agent.log" >&2
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"$TMP/outpost.yaml" <<EOF
data:
  dir: $TMP/data
http:
  port: $AGENT_PORT
rules:
  per-device-spike:
    stream: sensors
    group_by: /key
    conditions:
      - {field: v, op: anomaly, value: 6, warmup: 2}
rollups:
  per-device-hour:
    stream: sensors
    group_by: [dev]
    window: 1h
    aggregates: [count, sum(v), p99(v)]
EOF

log "starting the agent (builds if the sources changed)"
setsid ./outpost run --config "$TMP/outpost.yaml" </dev/null >"$TMP/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 1 600); do
  curl -fsS "http://$HOST:$AGENT_PORT/health" >/dev/null 2>&1 && break
  kill -0 "$AGENT_PID" 2>/dev/null || die "the agent exited"
  sleep 0.5
done
JVM=$(pgrep -g "$AGENT_PID" -x java | head -n1)
[[ -n $JVM ]] || die "no java process in the agent's group"

rss() { awk -v k="$1:" '$1 == k {print int($2 / 1024)}' "/proc/$JVM/status"; }
metric() { curl -fsS "http://$HOST:$AGENT_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
RSS_IDLE=$(rss VmRSS)
log "idle RSS ${RSS_IDLE} MiB; posting $((KEYS * EVENTS_PER_GROUP)) events over $KEYS keys"

python3 - "$HOST" "$AGENT_PORT" "$KEYS" "$EVENTS_PER_GROUP" "$BATCH" <<'PY'
import http.client, json, random, sys
host, port, groups, per, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
conn = http.client.HTTPConnection(host, port)
rnd = random.Random(1)
lines = []
def flush():
    body = "".join(lines).encode()
    conn.request("POST", "/v1/events", body, {"Content-Type": "application/x-ndjson"})
    r = conn.getresponse(); r.read()
    if r.status != 200:
        sys.exit("POST answered %d" % r.status)
    lines.clear()
for round_ in range(per):
    for g in range(groups):
        lines.append(json.dumps({"stream": "sensors", "key": "dev-%d" % g,
                                 "data": {"dev": "dev-%d" % g, "v": rnd.gauss(100, 10)}}) + "\n")
        if len(lines) == batch:
            flush()
if lines:
    flush()
PY

LAST=$(metric outpost_log_last_seq)
for _ in $(seq 1 600); do
  POS=$(metric outpost_engine_position)
  [[ ${POS%.*} -ge ${LAST%.*} ]] && break
  sleep 0.5
done
sleep 2 # one more flush and checkpoint round
DETECTORS=$(metric outpost_engine_detector_groups)
ROLLUP_MEM=$(metric outpost_rollup_groups_in_memory)
RSS_AFTER=$(rss VmRSS)
RSS_PEAK=$(rss VmHWM)
log "detector groups ${DETECTORS}, rollup summaries in memory ${ROLLUP_MEM}, RSS ${RSS_AFTER} MiB (peak ${RSS_PEAK})"
echo "| groups | events | detector groups held | rollup summaries in memory | RSS idle MiB | RSS after MiB | peak MiB | budget.memory |"
echo "|---:|---:|---:|---:|---:|---:|---:|---|"
echo "| $KEYS | $((KEYS * EVENTS_PER_GROUP)) | ${DETECTORS%.*} | ${ROLLUP_MEM%.*} | $RSS_IDLE | $RSS_AFTER | $RSS_PEAK | 512 MiB (default) |"

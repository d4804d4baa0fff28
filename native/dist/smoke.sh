#!/usr/bin/env bash
# What the device form must do, run against an unpacked distribution (called by test.sh inside its
# no-JDK namespace): a hub and an edge from the same tarball; the edge with a rule, a rollup and sync
# to the hub; single and NDJSON ingest read back, a state document, a live tail (SSE), the alert the
# rule raises, the rollup's window, metrics and governor, the events arriving at the hub. Any module
# the runtime lacks shows up here as a failing path.
# usage: smoke.sh HOME_DIR WORK_DIR
set -euo pipefail
# (grep without -q below: -q stops reading at the first match, curl then fails writing the rest,
# and pipefail turns that into a failure once a body outgrows the pipe buffer)
HOME_DIR=$1 WORK=$2
die() { printf '[dist-smoke] FAIL: %s\n' "$*" >&2; for f in "$WORK"/*.log; do echo "== $f" >&2; tail -n 15 "$f" >&2; done; exit 1; }
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HUB=$(free_port) EDGE=$(free_port) TOKEN=node-token-0123456789abcdef
cat > "$WORK/hub.yaml" <<YAML
node: {id: hq, log_format: json}
data: {dir: $WORK/hub-data}
http: {host: 127.0.0.1, port: $HUB}
hub:
  nodes:
    edge-1: $TOKEN
YAML
cat > "$WORK/edge.yaml" <<YAML
node: {id: edge-1}
data: {dir: $WORK/edge-data}
http: {host: 127.0.0.1, port: $EDGE}
sync: {upstream: "http://127.0.0.1:$HUB", token: $TOKEN}
rules:
  hot:
    stream: motors
    conditions: [{field: temp, op: gt, value: 90}]
rollups:
  temp-per-motor:
    stream: motors
    group_by: [motor]
    window: 1m
    aggregates: [count, max(temp), p99(temp)]
YAML
pids=()
trap 'for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
"$HOME_DIR/bin/outpost" hub --config "$WORK/hub.yaml" > "$WORK/hub.log" 2> "$WORK/hub-stderr.log" & pids+=($!)
OUTPOST_JAVA_OPTS=${EDGE_JAVA_OPTS:-} "$HOME_DIR/bin/outpost" run --config "$WORK/edge.yaml" > "$WORK/edge.log" 2>&1 & pids+=($!)
wait_health "$HUB" "${pids[0]}" || die "the hub did not start"
wait_health "$EDGE" "${pids[1]}" || die "the edge did not start"
E="http://127.0.0.1:$EDGE"
curl -fsS -XPOST "$E/v1/events" -H 'Content-Type: application/json' \
  -d '{"stream":"motors","key":"m1","data":{"motor":"m1","temp":95.5}}' >/dev/null || die "POST one event"
printf '%s\n' '{"stream":"motors","key":"m2","data":{"motor":"m2","temp":20}}' \
  '{"stream":"dist","key":"k","data":{"from":"tarball"}}' \
  | curl -fsS -XPOST "$E/v1/events" -H 'Content-Type: application/x-ndjson' --data-binary @- >/dev/null || die "POST NDJSON"
curl -fsS "$E/v1/events?stream=dist" | grep '"tarball"' >/dev/null || die "the event did not come back"
curl -fsS -XPUT "$E/v1/state/devices/d1" -H 'Content-Type: application/json' -d '{"fw":"1.2"}' >/dev/null || die "PUT state"
curl -fsS "$E/v1/state/devices/d1" | grep '"1.2"' >/dev/null || die "GET state"
curl -sS -N --max-time 3 "$E/v1/events/tail?stream=motors&from_seq=1" > "$WORK/tail.txt" 2>/dev/null || true
grep -q '"m2"' "$WORK/tail.txt" || die "the live tail sent no event: $(head -c 300 "$WORK/tail.txt")"
for _ in $(seq 1 100); do curl -fsS "$E/v1/events?stream=alerts" | grep '"hot"' >/dev/null && break; sleep 0.1; done
curl -fsS "$E/v1/events?stream=alerts" | grep '"hot"' >/dev/null || die "the rule raised no alert"
for _ in $(seq 1 100); do curl -fsS "$E/v1/rollups/temp-per-motor" | grep '"m1"' >/dev/null && break; sleep 0.1; done
curl -fsS "$E/v1/rollups/temp-per-motor" | grep '"m1"' >/dev/null || die "the rollup has no window"
curl -fsS "$E/metrics" | grep '^outpost_ingest_events_total' >/dev/null || die "metrics"
curl -fsS "$E/v1/governor" | grep '"level"' >/dev/null || die "governor"
for _ in $(seq 1 150); do curl -fsS "http://127.0.0.1:$HUB/v1/fleet/events?node=edge-1&stream=dist" | grep '"tarball"' >/dev/null && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$HUB/v1/fleet/events?node=edge-1&stream=dist" | grep '"tarball"' >/dev/null || die "the event did not reach the hub"
"$HOME_DIR/bin/outpost" top --url "$E" --once --interval-millis 200 | grep "level" >/dev/null || die "outpost top"
curl -fsS "$E/v1/openapi.yaml" | grep '^openapi: 3\.1' >/dev/null || die "the OpenAPI document"
# the hub logs JSON lines (node.log_format: json): each line one object, with the ECS fields
python3 - "$WORK/hub-stderr.log" <<'PY' || die "the hub's JSON log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.endswith("\n")]
assert lines and all({"@timestamp", "log.level", "message", "service.node.name"} <= l.keys() for l in lines), lines[:3]
PY
code=$(curl -sS -o "$WORK/bad.json" -w '%{http_code}' -XPOST "$E/v1/events" -H 'Content-Type: application/json' -d '{bad')
[[ $code == 400 ]] && grep -q 'problem\|title' "$WORK/bad.json" || die "a bad event got $code: $(cat "$WORK/bad.json")"
"$HOME_DIR/bin/outpost" check-config "$WORK/edge.yaml" > /dev/null || die "check-config"
kill -TERM "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true
"$HOME_DIR/bin/outpost" fsck "$WORK/edge-data" > "$WORK/fsck.log" 2>&1 || die "fsck of the stopped edge: $(cat "$WORK/fsck.log")"
echo "[dist-smoke] ok: hub and edge, ingest, bad input, OpenAPI, JSON log, state, tail, rule and alert, rollup, sync to the hub, top, check-config, fsck"
